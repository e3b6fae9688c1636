"""How long to wait before asking the model, learned from how long the model takes.

While the user types, most requests are superseded within a keystroke or two. Waiting a little
saves those requests (and their tokens); a slow model makes waiting cheap relative to its latency,
a fast one makes it expensive. So the delay follows a fraction of the measured first-token latency,
kept within bounds the user can set.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class AdaptiveDebounce:
    min_delay: float = 0.075
    max_delay: float = 0.5
    fraction: float = 0.5
    smoothing: float = 0.3
    latency: float | None = None

    def observe(self, first_token_latency: float) -> None:
        """Feed the time from request to first token of a finished request."""
        if self.latency is None:
            self.latency = first_token_latency
        else:
            self.latency += self.smoothing * (first_token_latency - self.latency)

    @property
    def delay(self) -> float:
        if self.latency is None:
            return self.min_delay
        return min(self.max_delay, max(self.min_delay, self.fraction * self.latency))

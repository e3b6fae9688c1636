"""What one upstream request used, filled in while it streams.

The provider notes the route, the prompt size and the usage the endpoint reported (the last chunk
of a stream asked for with ``stream_options.include_usage``); the caller notes tokens seen, when
the first one came, and how the request ended. ``UsageService.record`` stores it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["completion", "explain", "nextEdit"]
#: how a request ended; everything but "complete" stopped the model early
Outcome = Literal["complete", "complete-early", "cancelled", "superseded", "error"]

#: rough characters per token, for prompts whose token count the endpoint did not report
CHARS_PER_TOKEN = 4


@dataclass
class RequestMeter:
    kind: Kind
    endpoint: str
    model: str
    language: str = ""
    route: str = ""
    prompt_chars: int = 0
    reported_prompt: int | None = None
    reported_generated: int | None = None
    #: the upstream stream ran to its end (rather than being closed by us)
    stream_ended: bool = False
    #: the endpoint's last ``finish_reason`` ("length": cut off at max_tokens)
    finish_reason: str | None = None
    started: float = field(default_factory=time.monotonic)

    def report(self, prompt_tokens: int | None, completion_tokens: int | None) -> None:
        """A usage chunk arrived; the last one wins (some servers send running totals)."""
        if prompt_tokens is not None:
            self.reported_prompt = prompt_tokens
        if completion_tokens is not None:
            self.reported_generated = completion_tokens

    @property
    def reported(self) -> bool:
        return self.reported_prompt is not None and self.reported_generated is not None

    def prompt_tokens(self) -> int:
        if self.reported_prompt is not None:
            return self.reported_prompt
        return -(-self.prompt_chars // CHARS_PER_TOKEN)

    def generated_tokens(self, counted: int) -> int:
        """The endpoint's figure if it gave one, else the deltas we received."""
        return self.reported_generated if self.reported_generated is not None else counted

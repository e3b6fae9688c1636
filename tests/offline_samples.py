"""Documents the offline model's tests complete in, shared by the unit and the server tests."""

# Issue 12: at the first line of ``mean``'s body the ghost text was ``add`` again.
STATS = '''\
class Stats:
    """Small statistics."""

    def add(self, a, b):
        """Return the sum of a and b."""
        return a + b

    def mean(self, values):
        """Return the mean of values."""
        <CURSOR>
'''

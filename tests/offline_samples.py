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

# Issue 20 §1 and §2: a new machine's first ``complete`` in ``Square.area`` printed nothing, and
# the model copied ``Circle.perimeter`` into it.
SHAPES = """\
import math


class Circle:
    def __init__(self, radius):
        self.radius = radius

    def area(self):
        return math.pi * self.radius ** 2

    def perimeter(self):
        return 2 * math.pi * self.radius


class Square:
    def __init__(self, side):
        self.side = side

    def area(self):
        <CURSOR>
"""

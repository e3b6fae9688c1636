"""A small inventory module: the sample file that ``inkstream demo`` completes and explains."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Item:
    name: str
    price: float
    quantity: int


def total_value(items: list[Item]) -> float:
    """What the whole stock is worth."""
    return sum(item.price * item.quantity for item in items)


def restock(items: list[Item], minimum: int) -> list[Item]:
    """The items that have fallen below ``minimum`` and need ordering."""
    return [item for item in items if item.quantity < minimum]


def most_valuable(items: list[Item]) -> Item:
    """The item whose stock is worth the most; ValueError when there are no items."""
    if not items:
        raise ValueError("no items")
    best = items[0]
    for item in items:
        if item.price * item.quantity > best.price * best.quantity:
            best = item
    return best


def cheapest(items: list[Item]) -> Item:
    """The item with the lowest price; ValueError when there are no items."""
    if not items:
        raise ValueError("no items")
    best = items[0]
    for item in items:
        if item.price < best.price:
            best = item
    return best

"""Reservoir sampling: a seeded uniform sample of at most k items of a stream, in bounded memory."""

from __future__ import annotations

import random
from typing import Iterable, MutableSequence


class Reservoir:
    """Algorithm R: the first ``k`` items, then item n (1-based) replaces a random slot with
    probability k/n (one ``rng.randrange(n)`` draw per item past the first k).

    ``items`` is the container the sample is kept in (a list by default; e.g. ``array("f")``
    for compact floats). ``rng`` is a seed or a ``random.Random`` shared with other draws."""

    def __init__(self, k: int, rng: int | random.Random = 0,
                 items: MutableSequence | None = None):
        self.k, self.n = k, 0
        self.items = [] if items is None else items
        self.rng = rng if isinstance(rng, random.Random) else random.Random(rng)

    def add(self, item) -> None:
        """Offer one item of the stream."""
        self.n += 1
        if len(self.items) < self.k:
            self.items.append(item)
        else:
            j = self.rng.randrange(self.n)
            if j < self.k:
                self.items[j] = item


def reservoir(items: Iterable, k: int, rng: int | random.Random = 0) -> list:
    """A seeded uniform sample of at most ``k`` of ``items`` (a list, in reservoir order)."""
    r = Reservoir(k, rng)
    for it in items:
        r.add(it)
    return r.items

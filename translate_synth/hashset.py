"""A compact set of 64-bit hashes: 8 bytes an entry instead of ~70 for a Python set of ints.

Dedup over millions of rows keeps only hashes (never strings); this keeps even those small.
New hashes go to a small Python set; every ``FLUSH`` additions they are merged into one sorted
numpy array, searched by bisection.
"""

from __future__ import annotations

import numpy as np

FLUSH = 1 << 16


class HashSet:
    def __init__(self, items=()):
        self._sorted = np.zeros(0, dtype=np.uint64)
        self._recent: set[int] = set()
        for h in items:
            self.add(h)

    def __contains__(self, h: int) -> bool:
        if h in self._recent:
            return True
        i = int(np.searchsorted(self._sorted, np.uint64(h)))
        return i < len(self._sorted) and int(self._sorted[i]) == h

    def add(self, h: int) -> None:
        if h not in self:
            self._recent.add(h)
            if len(self._recent) >= FLUSH:
                self._flush()

    def _flush(self) -> None:
        new = np.fromiter(self._recent, dtype=np.uint64, count=len(self._recent))
        self._sorted = np.union1d(self._sorted, new)
        self._recent.clear()

    def copy(self) -> "HashSet":
        out = HashSet()
        out._sorted, out._recent = self._sorted.copy(), set(self._recent)
        return out

    def __len__(self) -> int:
        return len(self._sorted) + len(self._recent)

"""A compact set of 64-bit hashes: 8 bytes an entry instead of ~70 for a Python set of ints.

Dedup over millions of rows keeps only hashes (never strings); this keeps even those small.
New hashes go to a small Python set; every ``FLUSH`` additions they become a sorted numpy run.
Runs are merged size-tiered (a run is merged into the one before it once it is at least half its
size), so there are O(log n) runs, searched by bisection, and a merge never holds more than the
two runs, their concatenation and the sort's half-size buffer (peak ~2.5x the set, not the 4x+
of ``np.union1d``).
"""

from __future__ import annotations

import numpy as np

FLUSH = 1 << 16


class HashSet:
    def __init__(self, items=()):
        self._runs: list[np.ndarray] = []
        self._recent: set[int] = set()
        for h in items:
            self.add(h)

    def __contains__(self, h: int) -> bool:
        if h in self._recent:
            return True
        x = np.uint64(h)
        for run in self._runs:
            i = int(np.searchsorted(run, x))
            if i < len(run) and run[i] == x:
                return True
        return False

    def add(self, h: int) -> None:
        if h not in self:
            self._recent.add(h)
            if len(self._recent) >= FLUSH:
                self._flush()

    def _flush(self) -> None:
        if not self._recent:
            return
        new = np.fromiter(self._recent, dtype=np.uint64, count=len(self._recent))
        self._recent.clear()
        new.sort()
        self._runs.append(new)
        while len(self._runs) > 1 and 2 * len(self._runs[-1]) >= len(self._runs[-2]):
            b = self._runs.pop()
            a = self._runs.pop()
            merged = np.concatenate((a, b))
            del a, b
            merged.sort(kind="stable")  # two sorted runs: a linear merge (timsort)
            self._runs.append(merged)

    def copy(self) -> "HashSet":
        out = HashSet()
        out._runs, out._recent = [r.copy() for r in self._runs], set(self._recent)
        return out

    def __len__(self) -> int:
        return sum(len(r) for r in self._runs) + len(self._recent)

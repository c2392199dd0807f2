"""Rare words: which word types a synthetic row alone carries, and what a filter costs in them.

Collapse starts where filters drop the rows that carry a language's rare words (they are harder
to round-trip, so they score lower). Two measures, on word types (``text.tokens``:
case-folded Unicode words; characters for scripts without spaces):

- ``novel_counts``: per candidate, the types of its text that occur in no real training pair and
  in no other candidate: what is lost for good when that row is dropped;
- ``NovelIndex``: the same within each origin over a whole candidates file, streamed (the
  ``novelty`` filter's counts);
- ``RareTypes``: the types that are rare in the real training text (count <= k) and how many of
  them the rows reaching a filter carry, and the rows it keeps.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from translate_synth.hashset import HashSet
from translate_synth.text import stable_int, tokens


def word_types(text: str) -> set[str]:
    return set(tokens(text))


def novel_counts(texts: list[str], real_texts: Iterable[str], sets: bool = False) -> list:
    """Per text, the types in no real text and in no other text (a set, or its size)."""
    real = set()
    for t in real_texts:
        real |= word_types(t)
    types = [word_types(t) - real for t in texts]
    df = Counter(w for ts in types for w in ts)
    novel = [{w for w in ts if df[w] == 1} for ts in types]
    return novel if sets else [len(s) for s in novel]


class NovelIndex:
    """Word types of one side that occur in the real training pairs or in two or more
    candidates of one origin: a row's novel types are the others (counted within its origin, so
    a forward translation never makes a back-translation's word look common). Built by one pass
    over the candidate rows (8 bytes a distinct (origin, type), plus the real training
    vocabulary)."""

    def __init__(self, candidates: Iterable[dict], real_pairs: Iterable[tuple[str, str]],
                 side: str):
        k = 0 if side == "source" else 1
        self.real = set()
        for p in real_pairs:
            self.real |= word_types(p[k])
        once, self.common = HashSet(), HashSet()
        for r in candidates:
            origin = r.get("origin", "bt")
            for w in word_types(r[side]) - self.real:
                h = stable_int(origin, w)
                if h in once:
                    self.common.add(h)
                else:
                    once.add(h)

    def count(self, text: str, origin: str = "bt") -> int:
        """The novel word types of ``text``, a row of ``origin``."""
        return sum(1 for w in word_types(text) - self.real
                   if stable_int(origin, w) not in self.common)


def rare_types(pairs: Iterable[tuple[str, str]], k: int) -> dict[str, set[str]]:
    """Per side, the word types found at most ``k`` times in the real training pairs."""
    counts = {"source": Counter(), "target": Counter()}
    for s, t in pairs:
        counts["source"].update(tokens(s))
        counts["target"].update(tokens(t))
    return {side: {w for w, c in cnt.items() if c <= k} for side, cnt in counts.items()}


class RareTypes:
    """How far down the filter chain each rare real type survives in some row.

    ``add(row, depth)`` with ``depth`` = the index of the first filter that rejects the row (the
    chain length when it is accepted); ``shares(k)`` = the shares of rare types carried by the
    rows reaching filter k and by the rows it keeps."""

    def __init__(self, rare: dict[str, set[str]]):
        self.rare = {side: r for side, r in rare.items() if r}
        self.depth: dict[str, dict[str, int]] = {side: {} for side in self.rare}

    def add(self, row: dict, depth: int) -> None:
        for side, rare in self.rare.items():
            best = self.depth[side]
            for w in word_types(row[side]) & rare:
                if best.get(w, -1) < depth:
                    best[w] = depth

    def shares(self, k: int) -> dict:
        out = {}
        for side, rare in self.rare.items():
            d = list(self.depth[side].values())
            out[side] = {"types": len(rare),
                         "before": round(sum(x >= k for x in d) / len(rare), 4),
                         "after": round(sum(x > k for x in d) / len(rare), 4)}
        return out

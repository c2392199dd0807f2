"""Importance-aware selection: quality plus a bonus for the word types only a row carries."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from translate_synth.filters.base import Filter, Threshold, register
from translate_synth.filters.model import Quality
from translate_synth.hashset import HashSet
from translate_synth.novelty import word_types
from translate_synth.text import stable_int


class NovelIndex:
    """Word types of one side that occur in the real training pairs or in two or more
    candidates: a row's novel types are the others. Built by one pass over the candidates file
    (8 bytes a distinct type, plus the real training vocabulary)."""

    def __init__(self, candidates, real_pairs, side: str):
        from translate_synth.emit import read_jsonl

        k = 0 if side == "source" else 1
        self.real = set()
        for p in real_pairs:
            self.real |= word_types(p[k])
        once, self.common = HashSet(), HashSet()
        for r in read_jsonl(candidates):
            for w in word_types(r[side]) - self.real:
                h = stable_int(w)
                if h in once:
                    self.common.add(h)
                else:
                    once.add(h)

    def count(self, text: str) -> int:
        return sum(1 for w in word_types(text) - self.real if stable_int(w) not in self.common)


@register
class Novelty(Filter):
    """How many word types of one side (default: target, the low-resource language) this row
    alone carries: found in no real training pair and in no other candidate. Dropping the row
    loses them for good; rare words are harder to round-trip, so quality filters drop them
    first (where collapse starts). Higher is better."""

    name = "novelty"
    score_range = (0.0, None)
    score_key = "novelty"

    class Params(Threshold):
        side: Literal["source", "target"] = Field("target", description="which language side")

    def __init__(self, params, context=None):
        super().__init__(params, context)
        if params.side != "target":
            self.score_key = f"novelty_{params.side}"

    def _index(self) -> NovelIndex | None:
        key = f"_novel_index_{self.params.side}"
        if key not in self.context:
            path, pairs = self.context.get("candidates_path"), self.context.get("real_pairs")
            self.context[key] = NovelIndex(path, pairs() if pairs else (), self.params.side) \
                if path else None
        return self.context[key]

    def score(self, rows):
        stored = [r.get("scores", {}).get(self.score_key) for r in rows]
        if all(v is not None for v in stored):
            return stored
        idx = self._index()
        if idx is None:
            return stored
        return [float(idx.count(r[self.params.side])) for r in rows]


@register
class Select(Filter):
    """The selection score: ``quality + novelty_weight x novelty`` (reference-chrF points per
    word type that only this row carries). With ``novelty_weight: 0`` it is quality itself;
    a weight trades a little quality for keeping the rare patterns of the language
    (eval/selection_study.py measures the trade). Use it with ``keep_top``."""

    name = "select"
    score_range = (0.0, None)
    score_key = "select"

    def needs(self):
        return ("fluency", "quality") + (("novelty",) if self.params.novelty_weight else ())

    class Params(Threshold):
        novelty_weight: float = Field(0.0, ge=0, le=100, description="chrF points per novel "
                                      "word type of the target side")

    def score(self, rows):
        q = [r.get("scores", {}).get("quality") for r in rows]
        if any(v is None for v in q):
            q = Quality(Quality.Params(), self.context).score(rows)
        w = self.params.novelty_weight
        if not w:
            return q
        n = [r.get("scores", {}).get("novelty") for r in rows]
        if any(v is None for v in n):
            n = Novelty(Novelty.Params(), self.context).score(rows)
        return [round(a + w * (b or 0.0), 4) for a, b in zip(q, n)]

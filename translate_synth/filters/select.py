"""Importance-aware selection: quality plus a bonus for the word types only a row carries."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from translate_synth.filters.base import ORIGINS, Filter, Threshold, register
from translate_synth.filters.quality_filter import Quality


@register
class Novelty(Filter):
    """How many word types of one side (default: target, the low-resource language) this row
    alone carries: found in no real training pair and in no other candidate of its origin
    (bt, ft and paraphrase rows are selected apart, so each counts its own). Dropping the row
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

    def score(self, rows):
        stored = [r.get("scores", {}).get(self.score_key) for r in rows]
        if all(v is not None for v in stored):
            return stored
        index = self.context.novel_index  # built by the filter stage, once a side
        idx = index(self.params.side) if index is not None else None
        if idx is None:
            return stored
        return [float(idx.count(r[self.params.side], r.get("origin", "bt"))) for r in rows]


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
        w = self.params.novelty_weight
        return ("fluency", "quality") + (
            ("novelty",) if (any(w.values()) if isinstance(w, dict) else w) else ())

    class Params(Threshold):
        novelty_weight: float | dict[str, float] = Field(
            0.0, description="chrF points per novel word type of the target side (or "
            "{origin: points}; an origin it does not name gets 0)")

        @field_validator("novelty_weight")
        @classmethod
        def _weight(cls, v):
            for origin, w in (v.items() if isinstance(v, dict) else [(None, v)]):
                if origin is not None and origin not in ORIGINS:
                    raise ValueError(f"unknown origin '{origin}'; one of {', '.join(ORIGINS)}")
                if not 0 <= w <= 100:
                    raise ValueError(f"a weight must be within [0, 100], not {w}")
            return v

    def weight(self, origin: str) -> float:
        w = self.params.novelty_weight
        return w.get(origin, 0.0) if isinstance(w, dict) else w

    def score(self, rows):
        q = [r.get("scores", {}).get("quality") for r in rows]
        if any(v is None for v in q):
            q = Quality(Quality.Params(), self.context).score(rows)
        w = [self.weight(r.get("origin", "bt")) for r in rows]
        if not any(w):
            return q
        n = [r.get("scores", {}).get("novelty") for r in rows]
        if any(v is None for v in n):
            n = Novelty(Novelty.Params(), self.context).score(rows)
        return [round(a + wi * (b or 0.0), 4) if wi else a for a, wi, b in zip(q, w, n)]

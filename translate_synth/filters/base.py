"""The filter interface: ``score()`` a batch of rows apart from ``accept()``-ing a score.

Scores are stored in each candidate row under ``scores[<score_key>]``, so thresholds can be
re-tuned later (``translate-synth refilter``) without recomputing anything expensive.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

REGISTRY: dict[str, type["Filter"]] = {}


def register(cls):
    """Class decorator: make a filter available in config under ``type: <cls.name>``."""
    REGISTRY[cls.name] = cls
    return cls


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Threshold(Params):
    """When to keep a row, by its score: absolute (min/max) or relative (keep_top, real_percentile).

    - ``min`` / ``max``: keep rows with min <= score <= max;
    - ``keep_top: 0.7``: keep the best 70 % of the rows that reach this filter, best by the
      filter's direction (ties at the cut are all kept);
    - ``real_percentile: 10``: learn the cut from the real training pairs scored the same way:
      keep rows at least as good as the real pairs' 10th percentile (the worst 10 % of real data).
    The numbers actually used are recorded in stats.json and the manifest.
    """

    min: float | None = Field(None, description="keep rows scoring at least this")
    max: float | None = Field(None, description="keep rows scoring at most this")
    keep_top: float | None = Field(None, gt=0, le=1, description="keep this best share")
    real_percentile: float | None = Field(None, ge=0, le=100,
                                          description="cut at this percentile of real pairs")

    @model_validator(mode="after")
    def _ordered(self):
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        modes = [m for m in ("keep_top", "real_percentile") if getattr(self, m) is not None]
        if len(modes) > 1 or (modes and (self.min is not None or self.max is not None)):
            raise ValueError("give one kind of threshold: min/max, keep_top or real_percentile")
        return self


class Flag(Params):
    """No options: the score is 1.0 for a row to remove, 0.0 to keep."""


class Filter:
    """Scores rows; the threshold is applied by the filter stage (``filtering.py``).

    ``score()`` returns one float (or None: not applicable, the row passes) per row and must not
    depend on thresholds. ``higher_is_better`` says which way the score points.
    """

    name: ClassVar[str]
    score_key: ClassVar[str]
    higher_is_better: ClassVar[bool] = True
    # (lowest, highest) value score() can give, None: unbounded; min/max outside are refused
    score_range: ClassVar[tuple[float | None, float | None]] = (None, None)
    # True when score() needs nothing but the row and the language pair (no state across rows,
    # no run data): such filters may score on another process or machine (the Ray executor)
    stateless: ClassVar[bool] = False
    Params: ClassVar[type[Params]] = Threshold

    def __init__(self, params: Params, context: dict | None = None):
        self.params = params
        self.context = context or {}

    direction: ClassVar[str] = ""  # "range" for a range filter; else from higher_is_better

    def direction_name(self) -> str:
        return self.direction or ("higher" if self.higher_is_better else "lower")

    def rank(self, value: float) -> float:
        """A number that is larger for a better row (for best-first orders)."""
        return value if self.higher_is_better else -value

    def needs(self) -> tuple[str, ...]:
        """Filter types whose scores this one reads: run before it when not configured."""
        return ()

    def score(self, rows: list[dict]) -> list[float | None]:
        """Scores for a batch of rows, in order. Must not depend on thresholds."""
        raise NotImplementedError

    def bounds(self, values=None, real_values=None) -> tuple[float | None, float | None]:
        """(min, max) to keep, resolving relative thresholds from the scores that reach this
        filter (``values``, a numpy array without NaN) or from real pairs' scores."""
        p = self.params
        if isinstance(p, Flag):
            return None, 0.0
        if p.keep_top is not None:
            if values is None or not len(values):
                return None, None
            import math

            import numpy as np

            k = max(1, math.ceil(p.keep_top * len(values)))  # rows to keep (ties at the cut too)
            ordered = np.sort(values)
            if self.higher_is_better:
                return float(ordered[len(ordered) - k]), None
            return None, float(ordered[k - 1])
        if p.real_percentile is not None:
            import numpy as np

            if real_values is None or not len(real_values):
                return None, None  # the filter stage reports this as an error
            q = p.real_percentile if self.higher_is_better else 100 - p.real_percentile
            cut = float(np.percentile(real_values, q))
            return (cut, None) if self.higher_is_better else (None, cut)
        return p.min, p.max

    def accept(self, value: float | None) -> bool:
        """With absolute thresholds only (the filter stage resolves relative ones first)."""
        if value is None:
            return True
        lo, hi = self.bounds()
        return (lo is None or value >= lo) and (hi is None or value <= hi)

    def thresholds(self) -> dict:
        return self.params.model_dump(exclude_none=True)

    def side_lang(self, row: dict, which: str) -> tuple[str, str]:
        """(text, language) of the row's ``synthetic`` or ``authentic`` side (or source/target)."""
        langs = self.context.get("langs", {})
        if which in ("synthetic", "authentic"):
            auth = row.get("authentic", "target")
            side = auth if which == "authentic" else ("target" if auth == "source" else "source")
        else:
            side = which
        return row[side], langs.get(side)


class StoredScore(Filter):
    """A filter over a score computed by an earlier stage (e.g. round-trip BLEU)."""

    def score(self, rows):
        return [r.get("scores", {}).get(self.score_key) for r in rows]

"""The filter interface: ``score()`` a batch of rows apart from ``accept()``-ing a score.

Scores are stored in each candidate row under ``scores[<score_key>]``, so thresholds can be
re-tuned later (``translate-synth refilter``) without recomputing anything expensive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import AbstractSet, Callable, ClassVar, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from translate_synth.hashset import HashSet

REGISTRY: dict[str, type["Filter"]] = {}
# the synthetic origins a candidate row can have (a new kind of synthesis adds its name here):
# relative thresholds resolve within each of them unless a filter says ``pool: all``
ORIGINS = ("bt", "ft", "paraphrase")


def register(cls):
    """Class decorator: make a filter available in config under ``type: <cls.name>``."""
    REGISTRY[cls.name] = cls
    return cls


@dataclass(frozen=True)
class FilterContext:
    """What the filter stage gives every filter: read-only (a filter keeps its own state in
    itself). Every field has an empty default: a filter whose input is absent scores None (the
    row passes) or starts from nothing, as the ``validate`` command's and the Ray tasks' chains
    (built with the language pair only, for their stateless filters) do."""

    langs: Mapping[str, str] = field(default_factory=dict)  # {"source": code, "target": code}
    heldout_keys: AbstractSet[str] = frozenset()  # norm_key of every held-out sentence
    # hashes of the real training pairs: normalised pairs and exact pairs (where ``duplicate``
    # starts from, in its two modes), normalised targets (``real_target_overlap``)
    train_keys: HashSet | None = None
    train_exact_keys: HashSet | None = None
    real_targets: HashSet | None = None
    fluency_lm: Callable | None = None  # side -> character LM of the real text, or None
    calibration: dict | None = None  # calibration.json: quality weights per origin, real_rows
    novel_index: Callable | None = None  # side -> novelty.NovelIndex (built once, on first use)
    log_warnings: bool = False  # a filter says its one-line warnings in the log (the run's)


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Threshold(Params):
    """When to keep a row, by its score: absolute (min/max) or relative (keep_top, real_percentile).

    - ``min`` / ``max``: keep rows with min <= score <= max;
    - ``keep_top: 0.7``: keep the best 70 % of the rows that reach this filter, best by the
      filter's direction (ties at the cut are all kept); ``keep_top: {bt: 0.8, paraphrase: 0.6}``
      gives each origin its own share (an origin it does not name is not cut by this filter);
    - ``real_percentile: 10``: learn the cut from the real training pairs scored the same way:
      keep rows at least as good as the real pairs' 10th percentile (the worst 10 % of real data).
    Relative thresholds resolve within each origin (bt, ft, paraphrase: the rows of one origin
    compete only with each other; real rows are built in that origin's shape) unless
    ``pool: all``. The numbers actually used are recorded in stats.json and the manifest.
    """

    min: float | None = Field(None, description="keep rows scoring at least this")
    max: float | None = Field(None, description="keep rows scoring at most this")
    keep_top: float | dict[str, float] | None = Field(
        None, description="keep this best share (or {origin: share})")
    real_percentile: float | None = Field(None, ge=0, le=100,
                                          description="cut at this percentile of real pairs")
    pool: Literal["origin", "all"] | None = Field(
        None, description="resolve keep_top and real_percentile within each origin (default) "
        "or over all rows")

    @field_validator("keep_top")
    @classmethod
    def _share(cls, v):
        for origin, share in (v.items() if isinstance(v, dict) else [(None, v)]):
            where = f" ({origin})" if origin is not None else ""
            if origin is not None and origin not in ORIGINS:
                raise ValueError(f"unknown origin '{origin}'; one of {', '.join(ORIGINS)}")
            if share is not None and not 0 < share <= 1:
                raise ValueError(f"a share{where} must be > 0 and <= 1, not {share}")
        if isinstance(v, dict) and not v:
            raise ValueError("give at least one origin, e.g. {bt: 0.8}")
        return v

    @model_validator(mode="after")
    def _ordered(self):
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        modes = [m for m in ("keep_top", "real_percentile") if getattr(self, m) is not None]
        if len(modes) > 1 or (modes and (self.min is not None or self.max is not None)):
            raise ValueError("give one kind of threshold: min/max, keep_top or real_percentile")
        if isinstance(self.keep_top, dict) and self.pool == "all":
            raise ValueError("a keep_top per origin needs pool: origin (the default)")
        return self

    def share(self, origin: str | None) -> float | None:
        """The keep_top share for rows of ``origin`` (None: this origin is not cut)."""
        if isinstance(self.keep_top, dict):
            return self.keep_top.get(origin)
        return self.keep_top


class Flag(Params):
    """No options: the score is 1.0 for a row to remove, 0.0 to keep."""


Side = Literal["synthetic", "authentic", "source", "target"]


class SideThreshold(Threshold):
    side: Side = Field("synthetic", description="which side of the row to score")


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

    def __init__(self, params: Params, context: FilterContext | None = None):
        self.params = params
        self.context = context if context is not None else FilterContext()
        if isinstance(params, SideThreshold):  # one side's score, stored per side: length_source
            self.score_key = f"{type(self).score_key}_{params.side}"

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

    def bounds(self, values=None, real_values=None,
               origin: str | None = None) -> tuple[float | None, float | None]:
        """(min, max) to keep, resolving relative thresholds from the scores that reach this
        filter (``values``, a numpy array without NaN; the rows of ``origin`` when the filter
        resolves per origin) or from real pairs' scores."""
        p = self.params
        if isinstance(p, Flag):
            return None, 0.0
        if p.keep_top is not None:
            share = p.share(origin)
            if values is None or not len(values) or share is None:
                return None, None
            import math

            import numpy as np

            k = max(1, math.ceil(share * len(values)))  # rows to keep (ties at the cut too)
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
        langs = self.context.langs
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

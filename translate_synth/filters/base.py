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
    """An absolute threshold on the score: keep rows with min <= score <= max."""

    min: float | None = Field(None, description="keep rows scoring at least this")
    max: float | None = Field(None, description="keep rows scoring at most this")

    @model_validator(mode="after")
    def _ordered(self):
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class Filter:
    name: ClassVar[str]
    score_key: ClassVar[str]
    higher_is_better: ClassVar[bool] = True
    Params: ClassVar[type[Params]] = Threshold

    def __init__(self, params: Params, context: dict | None = None):
        self.params = params
        self.context = context or {}

    def score(self, rows: list[dict]) -> list[float | None]:
        """Scores for a batch of rows, in order. Must not depend on thresholds."""
        raise NotImplementedError

    def accept(self, value: float | None) -> bool:
        if value is None:  # not applicable to this row (e.g. no language ID for the language)
            return True
        p = self.params
        lo, hi = getattr(p, "min", None), getattr(p, "max", None)
        return (lo is None or value >= lo) and (hi is None or value <= hi)

    def thresholds(self) -> dict:
        return self.params.model_dump(exclude_none=True)


class StoredScore(Filter):
    """A filter over a score computed by an earlier stage (e.g. round-trip BLEU)."""

    def score(self, rows):
        return [r.get("scores", {}).get(self.score_key) for r in rows]

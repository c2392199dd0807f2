"""The filters every run has: round-trip metrics, length ratio, duplicates, held-out overlap."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from translate_synth.filters.base import Filter, Flag, StoredScore, register
from translate_synth.hashset import HashSet
from translate_synth.text import norm_key, stable_int


@register
class RoundTripBLEU(StoredScore):
    """Sentence BLEU of the round trip against the authentic text (computed in the score stage)."""

    name = "rt_bleu"
    score_key = "rt_bleu"
    score_range = (0.0, 100.0)


@register
class RoundTripCHRF(StoredScore):
    """Sentence chrF of the round trip against the authentic text (computed in the score stage)."""

    name = "rt_chrf"
    score_key = "rt_chrf"
    score_range = (0.0, 100.0)


@register
class LengthRatio(Filter):
    """Characters of the synthetic side over characters of the authentic side."""

    name = "length_ratio"
    stateless = True
    score_key = "length_ratio"
    score_range = (0.0, None)
    direction = "range"  # best at 1.0: ranked by |log ratio|, the distance from equal length

    def rank(self, value):
        import math

        return -abs(math.log(max(value, 1e-9)))

    def bounds(self, values=None, real_values=None, origin=None):
        """keep_top / real_percentile over the distance |log ratio|, as a symmetric range."""
        import math

        import numpy as np

        p = self.params
        if p.keep_top is None and p.real_percentile is None:
            return super().bounds(values, real_values, origin)
        pool = values if p.keep_top is not None else real_values
        share = p.share(origin) if p.keep_top is not None else None
        if pool is None or not len(pool) or (p.keep_top is not None and share is None):
            return None, None
        dist = np.abs(np.log(np.maximum(np.asarray(pool, dtype=float), 1e-9)))
        if p.keep_top is not None:
            k = max(1, math.ceil(share * len(dist)))
            cut = float(np.sort(dist)[k - 1])
        else:
            cut = float(np.percentile(dist, 100 - p.real_percentile))
        return round(math.exp(-cut), 6), round(math.exp(cut), 6)

    def score(self, rows):
        out = []
        for r in rows:
            auth = r["source"] if r["authentic"] == "source" else r["target"]
            syn = r["target"] if r["authentic"] == "source" else r["source"]
            out.append(round(len(syn) / max(1, len(auth)), 4))
        return out


class DuplicateParams(Flag):
    mode: Literal["normalised", "exact"] = Field(
        "normalised", description="compare after normalisation (case, punctuation, spacing) or "
        "byte for byte")


@register
class Duplicate(Filter):
    """1.0 when a real training pair or an earlier row has the same (source, target), else 0.0.

    ``mode: normalised`` (default) compares NFKC, case-folded text without punctuation, so
    "Hello, world." and "hello world" are duplicates; ``mode: exact`` compares the text as is.
    """

    name = "duplicate"
    score_key = "duplicate"
    higher_is_better = False
    Params = DuplicateParams

    def __init__(self, params, context=None):
        super().__init__(params, context)
        self.seen: HashSet | None = None  # the real pairs' hashes, then every row's scored

    def _seen(self) -> HashSet:
        if self.seen is None:
            real = self.context.train_exact_keys if self.params.mode == "exact" else \
                self.context.train_keys
            self.seen = HashSet() if real is None else \
                real.copy() if isinstance(real, HashSet) else HashSet(real)
        return self.seen

    def score(self, rows):
        exact = self.params.mode == "exact"
        seen = self._seen()
        out = []
        for r in rows:
            k = stable_int(r["source"], r["target"]) if exact else \
                stable_int(norm_key(r["source"]), norm_key(r["target"]))
            out.append(1.0 if k in seen else 0.0)
            seen.add(k)
        return out


@register
class HeldoutOverlap(Filter):
    """1.0 when either side equals (after normalisation) a valid/test sentence. Always on."""

    name = "heldout_overlap"
    score_key = "heldout_overlap"
    higher_is_better = False
    Params = Flag

    def score(self, rows):
        held = self.context.heldout_keys
        return [1.0 if (norm_key(r["source"]) in held or norm_key(r["target"]) in held) else 0.0
                for r in rows]

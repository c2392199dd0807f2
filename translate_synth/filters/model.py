"""Filters over model-based scores: log-probabilities and the combined quality score."""

from __future__ import annotations

from translate_synth.filters.base import Filter, StoredScore, register


@register
class LogProbForward(StoredScore):
    """Mean token log-probability of the synthetic side given the authentic side (transformers
    backend; absent with backends that give no scores, and then the row passes)."""

    name = "logprob_fwd"
    score_key = "logprob_fwd"
    score_range = (None, 0.0)


@register
class LogProbBackward(StoredScore):
    """Mean token log-probability of the authentic side given the synthetic side."""

    name = "logprob_bwd"
    score_key = "logprob_bwd"
    score_range = (None, 0.0)


@register
class Quality(Filter):
    """The combined quality score (``translate_synth/quality.py``): an estimate of each row's
    reference chrF (0-100), from a model chosen and fitted per origin on the run's real pairs
    (``calibration.json``), or round-trip chrF where no fit beat it. Always computed; the default
    ranking for ``keep_top`` and for the curriculum's best-first order."""

    name = "quality"
    score_key = "quality"
    score_range = (0.0, 100.0)

    def needs(self):
        return ("fluency",)

    def score(self, rows):
        from translate_synth.quality import features, predict, weights_for

        cal = self.context.get("calibration")
        langs, lm = self.context.get("langs", {}), self.context.get("fluency_lm")
        return [predict(features(r, langs, lm), weights_for(cal, r.get("origin", "bt")))
                for r in rows]

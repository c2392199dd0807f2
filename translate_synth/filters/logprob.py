"""Filters over the model's log-probabilities, stored by the score stage."""

from __future__ import annotations

from translate_synth.filters.base import StoredScore, register


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

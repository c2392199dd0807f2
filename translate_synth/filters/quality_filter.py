"""The quality filter: the combined quality score of ``translate_synth/quality.py``."""

from __future__ import annotations

from translate_synth.filters.base import Filter, register


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

        cal = self.context.calibration
        langs, lm = self.context.langs, self.context.fluency_lm
        return [predict(features(r, langs, lm), weights_for(cal, r.get("origin", "bt")))
                for r in rows]

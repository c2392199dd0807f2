"""Fluency of one side under a character n-gram LM of the run's real training text."""

from __future__ import annotations

from translate_synth.filters.base import Filter, SideThreshold, register


@register
class Fluency(Filter):
    """Mean log2-probability per character of one side (default: synthetic) under a character
    5-gram model trained on the real training pairs' text of that side's language
    (``translate_synth/fluency.py``). Higher is better: garbled text, the wrong language or
    script, and odd punctuation score low. Needs no model internals, so every backend has it.
    Absent (the row passes) when the run has no real pairs. Always scored, as a signal of the
    quality score; no threshold unless configured."""

    name = "fluency"
    score_range = (None, 0.0)
    score_key = "fluency"
    Params = SideThreshold

    def _side(self, row: dict) -> str:
        which = self.params.side
        if which in ("synthetic", "authentic"):
            auth = row.get("authentic", "target")
            return auth if which == "authentic" else ("target" if auth == "source" else "source")
        return which

    def score(self, rows):
        out: list[float | None] = [r.get("scores", {}).get(self.score_key) for r in rows]
        lms = self.context.fluency_lm
        if lms is None:
            return out
        for side in ("source", "target"):
            idx = [i for i, r in enumerate(rows) if out[i] is None and self._side(r) == side]
            lm = lms(side) if idx else None
            if lm is not None:
                for i, v in zip(idx, lm.logprob([rows[i][side] for i in idx])):
                    out[i] = v
        return out

"""Back-translations of text the real training pairs already hold."""

from __future__ import annotations

from pydantic import Field

from translate_synth.filters.base import Filter, Flag, register
from translate_synth.text import norm_key, stable_int


class RealTargetOverlapParams(Flag):
    keep: bool = Field(False, description="keep such back-translations (they are still scored)")


@register
class RealTargetOverlap(Filter):
    """1.0 when a back-translation's target (its authentic, real text) is, after normalisation,
    the target of a real training pair; else 0.0 (every other row: 0.0). Always on, after
    ``duplicate``: such a row adds a second, synthetic source for a target the real data has
    already. ``keep: true`` keeps them (``--set filters.real_target_overlap.keep=true``).

    The real targets come from ``context.real_targets`` (hashes of their normalised text,
    built from the real training pairs by the filter stage, in a run and in ``refilter``).
    """

    name = "real_target_overlap"
    score_key = "real_target_overlap"
    higher_is_better = False
    Params = RealTargetOverlapParams

    def score(self, rows):
        real = self.context.real_targets or ()
        return [1.0 if r.get("origin") == "bt" and stable_int(norm_key(r["target"])) in real
                else 0.0 for r in rows]

    def bounds(self, values=None, real_values=None):
        return (None, None) if self.params.keep else (None, 0.0)

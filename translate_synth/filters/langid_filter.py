"""The language-ID filter: how sure py3langid (``translate_synth/lid.py``) is that one side is in
its language."""

from __future__ import annotations

import logging

from translate_synth.filters.base import Filter, SideThreshold, register
from translate_synth.lid import confidence, known

log = logging.getLogger(__name__)


@register
class LangID(Filter):
    """Probability that one side (default: synthetic) is in its expected language.

    A language the identifier does not know (e.g. Wolof) is skipped with a warning: the score is
    absent and the row passes.
    """

    name = "langid"
    score_range = (0.0, 1.0)
    stateless = True
    score_key = "langid"
    Params = SideThreshold

    def __init__(self, params, context=None):
        super().__init__(params, context)
        self._warned: set = set()

    def score(self, rows):
        out = []
        for r in rows:
            text, lang = self.side_lang(r, self.params.side)
            if not lang or not known(lang):
                if lang not in self._warned:
                    self._warned.add(lang)
                    if self.context.log_warnings:
                        log.info(f"langid filter: py3langid does not know '{lang}'; "
                                 "that side is not checked")
                out.append(None)
                continue
            out.append(confidence(text, lang))
        return out

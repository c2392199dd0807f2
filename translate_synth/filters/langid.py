"""Language identification of one side, with py3langid (140 languages, normalised probabilities)."""

from __future__ import annotations

from functools import lru_cache

from translate_synth.filters.base import Filter, register
from translate_synth.filters.text import SideThreshold

# our codes -> py3langid's where they differ (py3langid uses ISO 639-1 where one exists)
ALIASES = {"tl": "tl", "fil": "tl"}


@lru_cache(maxsize=1)
def identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@lru_cache(maxsize=256)
def known(lang: str) -> bool:
    return ALIASES.get(lang, lang) in identifier().nb_classes


def confidence(text: str, lang: str) -> float:
    """Probability (0..1) that ``text`` is in ``lang`` among the identifier's 140 languages."""
    lid = identifier()
    code = ALIASES.get(lang, lang)
    for label, p in lid.rank(text):
        if label == code:
            return round(float(p), 4)
    return 0.0


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
        self.score_key = f"langid_{params.side}"
        self._warned: set = set()

    def score(self, rows):
        out = []
        for r in rows:
            text, lang = self.side_lang(r, self.params.side)
            if not lang or not known(lang):
                if lang not in self._warned:
                    self._warned.add(lang)
                    warn = self.context.get("warn")
                    if warn:
                        warn(f"langid filter: py3langid does not know '{lang}'; "
                             "that side is not checked")
                out.append(None)
                continue
            out.append(confidence(text, lang))
        return out

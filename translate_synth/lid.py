"""Language identification with py3langid (140 languages, normalised probabilities)."""

from __future__ import annotations

from functools import lru_cache

# our codes -> py3langid's where they differ (py3langid uses ISO 639-1 where one exists)
ALIASES = {"tl": "tl", "fil": "tl"}


@lru_cache(maxsize=1)
def identifier():
    """The py3langid identifier, loaded once."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@lru_cache(maxsize=256)
def known(lang: str) -> bool:
    """Whether the identifier knows ``lang``."""
    return ALIASES.get(lang, lang) in identifier().nb_classes


def confidence(text: str, lang: str) -> float:
    """Probability (0..1) that ``text`` is in ``lang`` among the identifier's 140 languages."""
    lid = identifier()
    code = ALIASES.get(lang, lang)
    for label, p in lid.rank(text):
        if label == code:
            return round(float(p), 4)
    return 0.0

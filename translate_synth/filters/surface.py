"""Cheap filters computed from the text alone: absolute length, copies, repetition, script."""

from __future__ import annotations

import logging

from pydantic import Field

from translate_synth.filters.base import Filter, SideThreshold, register
from translate_synth.text import norm_key, script_word, tokens

log = logging.getLogger(__name__)


@register
class Length(Filter):
    """Absolute length of one side, in characters (default: the synthetic side)."""

    name = "length"
    score_range = (0.0, None)
    stateless = True
    score_key = "length"
    Params = SideThreshold

    def score(self, rows):
        return [float(len(self.side_lang(r, self.params.side)[0])) for r in rows]


def _trigrams(text: str) -> set[str]:
    t = f" {text} "
    return {t[i:i + 3] for i in range(len(t) - 2)}


@register
class Copy(Filter):
    """How close the synthetic side is to the text it was made from (0 = unrelated, 1 = copy).

    An untranslated or barely changed output (a model copying its input, or a paraphrase that is
    the original) scores near 1: the Dice coefficient of the character trigram sets of both
    texts, normalised (NFKC, case-folded, no punctuation). For paraphrases the input is the real
    text they replace. Linear time: fast enough for millions of rows.
    """

    name = "copy"
    score_range = (0.0, 1.0)
    stateless = True
    score_key = "copy"
    higher_is_better = False

    def score(self, rows):
        out = []
        for r in rows:
            syn, _ = self.side_lang(r, "synthetic")
            src = r.get("paraphrase_of") or self.side_lang(r, "authentic")[0]
            a, b = _trigrams(norm_key(syn)), _trigrams(norm_key(src))
            out.append(round(2 * len(a & b) / (len(a) + len(b)), 4) if a or b else 1.0)
        return out


@register
class Repetition(Filter):
    """Share of the synthetic side's word n-grams (n=1..4, the worst) that repeat an earlier one.

    Catches the degenerate loops of a model that hallucinates ("the the the", a phrase over and
    over); plain sentences score near 0. Runaway length is caught by ``length_ratio``.
    """

    name = "repetition"
    score_range = (0.0, 1.0)
    stateless = True
    score_key = "repetition"
    higher_is_better = False

    def score(self, rows):
        out = []
        for r in rows:
            toks = tokens(self.side_lang(r, "synthetic")[0])
            worst = 0.0
            for n in (1, 2, 3, 4):
                grams = [tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)]
                if len(grams) < 4:
                    continue
                rep = 1.0 - len(set(grams)) / len(grams)
                # single words repeat in any sentence: count n=1 only beyond a third
                worst = max(worst, rep if n > 1 else max(0.0, rep - 0.34))
            out.append(round(worst, 4))
        return out


# ISO 15924 script codes -> the first word of Unicode character names of that script
SCRIPT_NAMES = {"Latn": "LATIN", "Ethi": "ETHIOPIC", "Deva": "DEVANAGARI", "Sinh": "SINHALA",
                "Arab": "ARABIC", "Cyrl": "CYRILLIC", "Grek": "GREEK", "Hebr": "HEBREW",
                "Beng": "BENGALI", "Taml": "TAMIL", "Telu": "TELUGU", "Knda": "KANNADA",
                "Mlym": "MALAYALAM", "Gujr": "GUJARATI", "Guru": "GURMUKHI", "Orya": "ORIYA",
                "Thai": "THAI", "Khmr": "KHMER", "Laoo": "LAO", "Mymr": "MYANMAR",
                "Geor": "GEORGIAN", "Armn": "ARMENIAN", "Hang": "HANGUL", "Tfng": "TIFINAGH",
                "Hani": "CJK", "Jpan": "CJK", "Kore": "HANGUL", "Tibt": "TIBETAN"}


@register
class Script(Filter):
    """Share of the letters of one side (default: synthetic) written in its language's script.

    The expected script comes from the language table (``translate-synth langs``) or the filter's
    ``script`` option (ISO 15924, e.g. ``Ethi``). Digits, punctuation and spaces do not count. A
    language with no known script is skipped (score absent), with a warning.
    """

    name = "script"
    score_range = (0.0, 1.0)
    stateless = True
    score_key = "script"

    class Params(SideThreshold):
        script: str | None = Field(None, description="ISO 15924 code, e.g. Latn, Ethi, Deva")

    def __init__(self, params, context=None):
        super().__init__(params, context)
        self._warned: set = set()

    def _expected(self, lang):
        from translate_synth.langs import script_of

        code = self.params.script or (script_of(lang) if lang else None)
        name = SCRIPT_NAMES.get(code or "")
        if name is None and lang not in self._warned:
            self._warned.add(lang)
            if self.context.log_warnings:
                log.info(f"script filter: no known script for '{lang}' ({code}); skipped "
                         "(set the filter's `script:` option)")
        return name

    def score(self, rows):
        out = []
        for r in rows:
            text, lang = self.side_lang(r, self.params.side)
            want = self._expected(lang)
            if want is None:
                out.append(None)
                continue
            letters = [c for c in text if c.isalpha()]
            if not letters:
                out.append(0.0)
                continue
            if want == "CJK":
                ok = sum(script_word(c) in ("CJK", "HIRAGANA", "KATAKANA") for c in letters)
            else:
                ok = sum(script_word(c) == want for c in letters)
            out.append(round(ok / len(letters), 4))
        return out

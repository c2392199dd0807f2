"""Text helpers shared by every stage: whitespace clean-up, comparison keys, stable ids, word
tokens."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

_WS = re.compile(r"\s+")


def clean(text: str) -> str:
    """Collapse every run of whitespace (tabs, NBSP, newlines) to one space and strip.

    Nothing else changes: right-to-left text, CJK, emoji and combining marks pass through intact.
    """
    return _WS.sub(" ", text.replace("\ufeff", "")).strip()


def norm_key(text: str) -> str:
    """A comparison key: NFKC, case-folded, punctuation and symbols dropped, spaces collapsed.

    Two sentences with the same key count as the same sentence for the held-out guard and dedup.
    """
    t = unicodedata.normalize("NFKC", text).casefold()
    t = "".join(" " if unicodedata.category(c)[0] in "PSZC" else c for c in t)
    return " ".join(t.split())


def digest(*parts: str, n: int = 16) -> str:
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        h.update(p.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()[:n]


def stable_int(*parts) -> int:
    """A 63-bit integer from the parts: the same on every machine and Python process."""
    return int(digest(*map(str, parts), n=16), 16) >> 1


_WORD = re.compile(r"\w+", re.UNICODE)

# scripts written without spaces between words: their tokens are single characters
NO_SPACE_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER", "MYANMAR", "TIBETAN")


@lru_cache(maxsize=65536)
def script_word(ch: str) -> str:
    """The first word of a character's Unicode name: its script for letters (e.g. LATIN, CJK)."""
    try:
        return unicodedata.name(ch).split(" ")[0]
    except ValueError:
        return ""


def tokens(text: str) -> list[str]:
    """Word tokens (case-folded Unicode words); for text mostly in a script written without
    spaces (CJK, Thai, Lao, Khmer, Myanmar, Tibetan), single characters. Decided by the script
    of the letters, not by the number of words: a short phrase ("agora portanto,") stays two
    words."""
    letters = [c for c in text if c.isalpha()]
    if letters and sum(script_word(c) in NO_SPACE_SCRIPTS for c in letters) * 2 > len(letters):
        return [c for c in text.casefold() if c.isalnum()]
    return _WORD.findall(text.casefold())

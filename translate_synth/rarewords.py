"""Rare-word recall: how many of the reference's rare words a translation reproduces.

Synthetic data is meant to teach a model the words its few real pairs barely show. This measures
whether it did. Each word occurrence of the references (the tool's word tokens,
``text.tokens``: case-folded Unicode words; characters for scripts without spaces) falls
in one class by its count in the real training text of that language:

- ``unseen``: not in the real training text at all;
- ``rare``: seen 1 to ``k`` times (``k`` is the run's ``collapse.rare_k``, 2 by default);
- ``frequent``: seen more than ``k`` times.

Per sentence, an occurrence is recalled when the same word is in the hypothesis of that
sentence, clipped by counts (a word twice in the reference and once in the hypothesis: 1 of 2).
``recall`` = recalled / occurrences per class (None when the references have none of that class).
Frequent words are the yardstick: a model can recall 80 % of them and 20 % of the rare ones.

    counts = train_counts(r["target"] for r in train_rows if r["origin"] == "real")
    rare_word_recall(hyps, refs, counts, k=2)
    # {"rare": {"occurrences": 41, "recalled": 17, "recall": 0.4146, "types": 38}, ...}
"""

from __future__ import annotations

from collections import Counter
from typing import Callable, Iterable, Sequence

from translate_synth.text import tokens

CLASSES = ("rare", "unseen", "frequent")


def train_counts(texts: Iterable[str], tokenize: Callable[[str], list[str]] = tokens) -> Counter:
    """Word counts of the training text (one language): the input of ``rare_word_recall``."""
    counts: Counter = Counter()
    for t in texts:
        counts.update(tokenize(t))
    return counts


def word_class(count: int, k: int) -> str:
    """``unseen`` (0), ``rare`` (1..k) or ``frequent`` (> k)."""
    return "unseen" if count <= 0 else "rare" if count <= k else "frequent"


def rare_word_recall(hyps: Sequence[str], refs: Sequence[str], train_counts: Counter | dict,
                     k: int, tokenize: Callable[[str], list[str]] = tokens) -> dict:
    """Per class (``rare``, ``unseen``, ``frequent``): ``occurrences`` in the references,
    ``recalled`` by the hypotheses (per sentence, clipped by counts), ``recall`` (rounded to 4
    places; None without occurrences) and ``types`` (distinct reference words of the class).

    ``hyps`` and ``refs`` are line-aligned; ``train_counts`` maps a word (as ``tokenize`` writes
    it) to its count in the real training text of the references' language.
    """
    if len(hyps) != len(refs):
        raise ValueError(f"{len(hyps)} hypotheses for {len(refs)} references")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    occ = dict.fromkeys(CLASSES, 0)
    rec = dict.fromkeys(CLASSES, 0)
    types: dict[str, set[str]] = {c: set() for c in CLASSES}
    for hyp, ref in zip(hyps, refs):
        h = Counter(tokenize(hyp))
        for w, n in Counter(tokenize(ref)).items():
            c = word_class(train_counts.get(w, 0), k)
            occ[c] += n
            rec[c] += min(n, h.get(w, 0))
            types[c].add(w)
    return {c: {"occurrences": occ[c], "recalled": rec[c],
                "recall": round(rec[c] / occ[c], 4) if occ[c] else None,
                "types": len(types[c])} for c in CLASSES}

"""Fluency: a character n-gram language model trained on the run's own real text.

A synthetic sentence that reads like the real text of its language scores high; garbled output,
wrong script, untranslated words and odd punctuation score low. It needs nothing from the
synthesis model, so every backend (bergamot included) gets this signal. The model is trained on
the REAL TRAINING side of one language (never valid/test), as the language-model filters of
OpusFilter and bicleaner do, and scores a sentence by its mean log2-probability per character
(higher is better; the end-of-sentence symbol counts as a character).

Estimator: interpolated Witten-Bell smoothing over orders 1..n (default 5) on NFC, case-folded
characters, with an add-one unigram base over the training alphabet plus one unknown symbol.
Counts are kept as sorted arrays of 64-bit n-gram hashes (numpy), so training and scoring are
vectorised: about a million characters a second on one core.
"""

from __future__ import annotations

import heapq
import math
import unicodedata
from typing import Iterable

import numpy as np

from translate_synth.text import stable_int

ORDER = 5
MAX_TRAIN = 20_000  # sentences: a seeded sample of the real training text beyond this
FOLDS = 5  # cross-fitting groups for calibration rows
_BOS, _EOS = 1, 2  # code points below the printable range stand for sentence boundaries
_MUL = np.uint64(0x9E3779B97F4A7C15)


def _codes(texts: list[str], order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(code points with order-1 BOS before and one EOS after each text, scored mask, row id)."""
    parts, scored, rows = [], [], []
    pad = [_BOS] * (order - 1)
    for i, t in enumerate(texts):
        cps = [ord(c) for c in unicodedata.normalize("NFC", t).casefold()] + [_EOS]
        parts.append(pad + cps)
        scored.append([False] * len(pad) + [True] * len(cps))
        rows.append(len(pad) + len(cps))
    if not parts:
        return np.zeros(0, np.uint64), np.zeros(0, bool), np.zeros(0, np.int64)
    codes = np.fromiter((c for p in parts for c in p), dtype=np.uint64)
    mask = np.fromiter((m for s in scored for m in s), dtype=bool)
    row = np.repeat(np.arange(len(texts)), rows)
    return codes, mask, row


def _hashes(codes: np.ndarray, order: int) -> list[np.ndarray]:
    """h[n][i]: hash of the n characters ending at position i (n = 0..order; h[0] = 0)."""
    hs = [np.zeros(len(codes), np.uint64)]
    with np.errstate(over="ignore"):
        for n in range(1, order + 1):
            prev = np.concatenate([np.zeros(1, np.uint64), hs[-1][:-1]])
            hs.append((prev + np.uint64(n)) * _MUL + codes)
    return hs


class _Table:
    """Counts of hashed keys as a sorted array: count(keys) by binary search."""

    def __init__(self, keys: np.ndarray):
        self.keys, self.counts = np.unique(keys, return_counts=True)

    def count(self, q: np.ndarray) -> np.ndarray:
        if not len(self.keys):
            return np.zeros(len(q), np.int64)
        i = np.searchsorted(self.keys, q)
        i[i >= len(self.keys)] = 0
        return np.where(self.keys[i] == q, self.counts[i], 0)


class CharLM:
    """Interpolated Witten-Bell character n-gram model (see the module docstring)."""

    def __init__(self, texts: Iterable[str], order: int = ORDER):
        self.order = order
        texts = list(texts)
        self.sentences = len(texts)
        codes, mask, _ = _codes(texts, order)
        hs = _hashes(codes, order)
        self.chars = int(mask.sum())
        self.vocab = len(np.unique(codes[mask])) + 1  # + the unknown symbol
        self.unigram = _Table(codes[mask])
        # order n >= 2: counts of (context, char) = n-gram, of the context, and of its
        # distinct continuations
        self.ngram, self.context, self.types = {}, {}, {}
        for n in range(2, order + 1):
            gram = hs[n][mask]
            ctx = np.concatenate([np.zeros(1, np.uint64), hs[n - 1][:-1]])[mask]
            self.ngram[n] = _Table(gram)
            self.context[n] = _Table(ctx)
            uniq_gram = np.unique(gram)
            # the context of each distinct n-gram: its distinct continuations, counted
            first = np.searchsorted(gram[np.argsort(gram, kind="stable")], uniq_gram)
            ctx_of = ctx[np.argsort(gram, kind="stable")][first]
            self.types[n] = _Table(ctx_of)

    def logprob(self, texts: list[str]) -> list[float | None]:
        """Mean log2-probability per character of each text (None for an empty text)."""
        if not texts:
            return []
        codes, mask, row = _codes(texts, self.order)
        hs = _hashes(codes, self.order)
        p = (self.unigram.count(codes) + 1.0) / (self.chars + self.vocab)
        for n in range(2, self.order + 1):
            ctx = np.concatenate([np.zeros(1, np.uint64), hs[n - 1][:-1]])
            c_ctx = self.context[n].count(ctx).astype(float)
            t_ctx = self.types[n].count(ctx).astype(float)
            c_gram = self.ngram[n].count(hs[n]).astype(float)
            seen = c_ctx > 0
            p = np.where(seen, (c_gram + t_ctx * p) / np.maximum(c_ctx + t_ctx, 1.0), p)
        lp = np.log2(p)[mask]
        r = row[mask]
        total = np.bincount(r, weights=lp, minlength=len(texts))
        count = np.bincount(r, minlength=len(texts))
        return [round(float(s / c), 4) if c > 1 else None for s, c in zip(total, count)]

    def describe(self) -> dict:
        return {"order": self.order, "sentences": self.sentences, "characters": self.chars,
                "alphabet": self.vocab - 1, "smoothing": "interpolated Witten-Bell",
                "unit": "mean log2 probability per character (case-folded NFC, with EOS)"}


def training_sample(texts: Iterable[str], seed: int, k: int = MAX_TRAIN) -> list[str]:
    """A seeded, order-independent sample of at most ``k`` texts (bounded memory)."""
    return heapq.nsmallest(k, texts, key=lambda t: stable_int(seed, "fluency", t))


def cross_fitted(texts: list[str], groups: list[int], queries: list[str], query_groups: list[int],
                 order: int = ORDER) -> list[float | None]:
    """Score ``queries[i]`` with a model trained on the texts of every group but its own:
    fluency for calibration rows whose own reference must not be in the training text."""
    out: list[float | None] = [None] * len(queries)
    for g in sorted(set(query_groups)):
        lm = CharLM([t for t, h in zip(texts, groups) if h != g], order)
        idx = [i for i, h in enumerate(query_groups) if h == g]
        for i, v in zip(idx, lm.logprob([queries[i] for i in idx])):
            out[i] = v
    return out


def perplexity(mean_log2: float) -> float:
    return round(math.pow(2.0, -mean_log2), 3)


class SideModels:
    """The fluency model of each side ("source", "target"), trained lazily on the real training
    pairs (a seeded sample of at most ``MAX_TRAIN``); None for a side without real text."""

    def __init__(self, pairs: Iterable[tuple[str, str]] | None, seed: int):
        self._pairs, self.seed, self._lms = pairs, seed, None

    def _build(self) -> dict:
        pairs = training_sample(self._pairs or (), self.seed) if self._pairs is not None else []
        self._pairs = None
        return {side: (CharLM([p[k] for p in pairs]) if pairs else None)
                for side, k in (("source", 0), ("target", 1))}

    def __call__(self, side: str) -> CharLM | None:
        if self._lms is None:
            self._lms = self._build()
        return self._lms.get(side)

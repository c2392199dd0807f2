"""The collapse monitor: is the synthetic text losing the rare words and patterns of real text?

For each language side, the accepted synthetic text of that language is compared with the real
text of the same language: the real training part and the held-out valid part, separately.
Diversity, coverage and divergence depend on sample size, so every comparison with real text is
made on seeded samples of equal token counts, averaged over repetitions, and reported as ratios
synthetic / real (~1.0 for real text against real text; see ``side_metrics``). Each metric has an
alarm threshold (config ``collapse.alarms``); crossing one is logged and recorded in
``collapse.json`` with a hint.

Tokens: Unicode word tokens, case-folded; for text written without spaces (CJK, Thai...) single
characters (``text.tokens``).
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict

import numpy as np

from translate_synth.text import tokens

# metric -> (direction, default threshold, hint). "min": alarm when value < threshold.
# Ratios are ~1.0 for real text against real text (equal-size samples, see side_metrics):
# rare_coverage_ratio 0.6 and prefix3_excess 0.5 are set from real-vs-real halves of the
# shipped UDHR files (21-30 rows a half: rare coverage >= 0.59, prefix3_excess <= 0.43 at
# 25-30 rows) and of Bible books (rare coverage 0.93-1.10), while real text with its rare
# words replaced by frequent ones scores 0.38-0.50 (Bible), mostly < 0.6 (UDHR).
# Re-validated on books they were not set on (eval/collapse_thresholds.py: Genesis, Exodus,
# Psalms, Isaiah, John, Acts...; 50 and 1,000 rows): no false alarm of any metric in 280
# real-vs-real comparisons; the planted rare-word collapse caught in all of them.
ALARMS = {
    "distinct2_ratio": ("min", 0.5, "synthetic text repeats the same word pairs: more varied "
                        "inputs, sampling for paraphrases, or a stricter duplicate filter"),
    "mtld_ratio": ("min", 0.5, "synthetic vocabulary is much poorer than real text's"),
    "valid_coverage_ratio": ("min", 0.5, "synthetic text misses the words of the real held-out "
                             "text: add monolingual text closer to the target domain"),
    "rare_coverage_ratio": ("min", 0.6, "synthetic text loses the rare words of real text "
                            "(collapse, or input text from another domain than the real "
                            "pairs)"),
    "jsd_train": ("max", 0.8, "synthetic word distribution drifted far from real text"),
    "ks_length": ("max", 0.6, "synthetic sentence lengths differ from real ones: check "
                  "length filters and max_new_tokens"),
    "self_bleu_excess": ("max", 25.0, "synthetic sentences are near-copies of each other "
                         "(self-BLEU this far above real text's)"),
    "prefix3_excess": ("max", 0.5, "many more synthetic rows than real ones start the same way "
                       "(a template)"),
}

REPEATS = 5  # seeded repetitions of every sampled comparison (at most)
REPEAT_TOKENS = 250_000  # ... fewer for bigger samples: about this many tokens a text


def _sample_tokens(texts: list[list[str]], n_tokens: int, seed: int) -> list[list[str]]:
    """Seeded sample of whole sentences holding about ``n_tokens`` tokens."""
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    out, total = [], 0
    for i in order:
        if total >= n_tokens:
            break
        out.append(texts[i])
        total += len(texts[i])
    return out


def distinct_n(sents: list[list[str]], n: int) -> float:
    grams = [tuple(s[i:i + n]) for s in sents for i in range(len(s) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def mtld(toks: list[str], threshold: float = 0.72) -> float:
    """Measure of textual lexical diversity (McCarthy & Jarvis 2010), forward and backward."""
    def one_way(seq):
        factors, types, count = 0.0, set(), 0
        for t in seq:
            count += 1
            types.add(t)
            if len(types) / count <= threshold:
                factors += 1
                types, count = set(), 0
        if count:
            ttr = len(types) / count
            factors += (1 - ttr) / (1 - threshold) if ttr < 1 else 0
        return len(seq) / factors if factors else float(len(seq))
    if not toks:
        return 0.0
    return (one_way(toks) + one_way(toks[::-1])) / 2


def jsd(p: Counter, q: Counter) -> float:
    """Jensen-Shannon divergence (base 2, 0..1) of two unigram distributions."""
    keys = list(set(p) | set(q))
    return round(_jsd_counts(np.array([p.get(k, 0) for k in keys], dtype=float),
                             np.array([q.get(k, 0) for k in keys], dtype=float)), 4)


def _jsd_counts(a: np.ndarray, b: np.ndarray) -> float:
    """Jensen-Shannon divergence (base 2, 0..1) of two aligned count vectors, unrounded."""
    if not a.sum() and not b.sum():
        return 0.0
    a, b = a / max(a.sum(), 1), b / max(b.sum(), 1)
    m = (a + b) / 2

    def kl(x, y):
        mask = x > 0
        return float((x[mask] * np.log2(x[mask] / y[mask])).sum())
    return (kl(a, m) + kl(b, m)) / 2


def ks(a: list[int], b: list[int]) -> float:
    """Two-sample Kolmogorov-Smirnov statistic (max distance of the empirical CDFs)."""
    if not a or not b:
        return 0.0
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / len(a)
    fb = np.searchsorted(b, grid, side="right") / len(b)
    return round(float(np.abs(fa - fb).max()), 4)


def self_bleu(texts: list[str], seed: int, n: int = 100) -> float | None:
    """Mean sentence BLEU (sacrebleu, effective order) of each sampled sentence against the other
    sampled ones: ``BLEU.sentence_score(h, others)``, the same numbers, computed cheaply. Each
    sentence's n-grams are extracted once; an n-gram's reference count for sentence i is the
    highest count among the others (the top two counts are kept); sacrebleu scores the stats."""
    from sacrebleu.metrics import BLEU
    from sacrebleu.metrics.helpers import extract_all_word_ngrams

    from translate_synth.metrics import closest_ref_len, preprocess_segment, score_from_stats

    if len(texts) < 3:
        return None
    sample = random.Random(seed).sample(texts, min(n, len(texts)))
    bleu = BLEU(effective_order=True)
    order = bleu.max_ngram_order
    grams, lens = zip(*(extract_all_word_ngrams(preprocess_segment(bleu, t), 1, order)
                        for t in sample))
    top: dict[tuple, tuple[int, int, int]] = {}  # n-gram -> (highest, its sentence, second)
    for i, g in enumerate(grams):
        for k, c in g.items():
            hi, who, second = top.get(k, (0, -1, 0))
            top[k] = (c, i, hi) if c > hi else (hi, who, max(second, c))
    scores = []
    for i, g in enumerate(grams):
        correct, total = [0] * order, [0] * order
        for k, c in g.items():
            hi, who, second = top[k]
            total[len(k) - 1] += c
            correct[len(k) - 1] += min(c, second if who == i else hi)
        ref_len = closest_ref_len(bleu, lens[i], lens[:i] + lens[i + 1:])
        scores.append(score_from_stats(bleu, [lens[i], ref_len, *correct, *total]))
    return round(float(np.mean(scores)), 2)


def prefix3_share(sents: list[list[str]]) -> float:
    """Share of rows whose first 3 tokens also start another row."""
    pre = Counter(tuple(s[:3]) for s in sents if len(s) >= 3)
    n = sum(pre.values())
    return round(sum(c for c in pre.values() if c > 1) / n, 4) if n else 0.0


def _diversity(sents: list[list[str]]) -> dict:
    flat = [t for s in sents for t in s]
    return {"sentences": len(sents), "tokens": len(flat),
            "distinct1": round(distinct_n(sents, 1), 4), "distinct2": round(distinct_n(sents, 2), 4),
            "distinct3": round(distinct_n(sents, 3), 4),
            "ttr": round(len(set(flat)) / len(flat), 4) if flat else 0.0,
            "mtld": round(mtld(flat), 2)}


def _ratio(a, b):
    return round(float(a) / float(b), 4) if b else None


class _Ids:
    """A tokenised text as one id array plus sentence offsets, for cheap seeded samples."""

    def __init__(self, sents: list[list[str]], vocab: dict[str, int]):
        self.lens = np.fromiter((len(s) for s in sents), dtype=np.int64, count=len(sents))
        self.ids = np.fromiter((vocab.setdefault(t, len(vocab)) for s in sents for t in s),
                               dtype=np.int64)
        self.starts = np.cumsum(self.lens) - self.lens
        self.n_tokens = int(self.lens.sum())

    def take(self, order: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The first ``n`` tokens of the sentences in ``order`` (the last sentence cut to fit):
        (token ids, sentence number of each token)."""
        lens = self.lens[order]
        cum = np.cumsum(lens)
        k = min(int(np.searchsorted(cum, n)) + 1, len(order))
        order, lens, cum = order[:k], lens[:k], cum[:k]
        if not k or not cum[-1]:
            return self.ids[:0], self.ids[:0]
        before = cum - lens
        idx = np.repeat(self.starts[order] - before, lens) + np.arange(cum[-1])
        return self.ids[idx[:n]], np.repeat(np.arange(k), lens)[:n]

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Exactly ``min(n, n_tokens)`` tokens: whole sentences in a seeded order, the last cut."""
        return self.take(rng.permutation(len(self.lens)), n)


def _distinct_ids(ids: np.ndarray, sid: np.ndarray, n: int) -> float:
    """distinct-n of a sample (n-grams within sentences), as ``distinct_n``."""
    m = len(ids) - n + 1
    if m <= 0:
        return 0.0
    code, base = ids[:m], int(ids.max()) + 1
    for j in range(1, n):
        if base ** (j + 1) >= 2 ** 62:  # re-rank so that codes stay small (no int64 overflow)
            code = np.unique(code, return_inverse=True)[1]
        code = code * base + ids[j:j + m]
    code = code[sid[n - 1:] == sid[:m]]
    return len(np.unique(code)) / len(code) if len(code) else 0.0


def _sample_stats(ids: np.ndarray, sid: np.ndarray, size: int) -> dict:
    """Diversity of one sample, plus its unigram counts (``_counts``) for coverage and JSD."""
    counts = np.bincount(ids, minlength=size)
    ttr = np.count_nonzero(counts) / len(ids) if len(ids) else 0.0
    return {"sentences": int(sid[-1]) + 1 if len(sid) else 0, "tokens": len(ids),
            "distinct1": ttr, "distinct2": _distinct_ids(ids, sid, 2),
            "distinct3": _distinct_ids(ids, sid, 3), "ttr": ttr, "mtld": mtld(ids.tolist()),
            "_counts": counts}


def _repeats(n_tokens: int) -> int:
    """Seeded repetitions for samples of ``n_tokens``: ``REPEATS`` for small texts, fewer for
    big ones (their sampling noise is small already), so the cost stays ~``REPEAT_TOKENS``."""
    return max(1, min(REPEATS, round(REPEAT_TOKENS / max(n_tokens, 1))))


def _rare_coverage(syn: _Ids, train: _Ids, rng: np.random.Generator, rare_k: int,
                   size: int) -> list[tuple[int, int, float, float]]:
    """Rare types of one half of the real training text, seen by an equal-size sample of the
    synthetic text and by the other half; both ways round: [(rare types, sample tokens,
    synthetic coverage, real coverage)]."""
    order = rng.permutation(len(train.lens))
    halves = order[:len(order) // 2], order[len(order) // 2:]
    out = []
    for a, b in (halves, halves[::-1]):
        count_a = np.bincount(train.take(a, train.n_tokens)[0], minlength=size)
        rare = (count_a > 0) & (count_a <= rare_k)
        n_rare = int(rare.sum())
        if not n_rare:
            continue
        b_ids = train.take(b, train.n_tokens)[0]
        n = min(syn.n_tokens, len(b_ids))
        seen_s = np.bincount(syn.sample(n, rng)[0], minlength=size) > 0
        seen_b = np.bincount(b_ids[:n], minlength=size) > 0
        out.append((n_rare, n, np.count_nonzero(rare & seen_s) / n_rare,
                    np.count_nonzero(rare & seen_b) / n_rare))
    return out


def side_metrics(synthetic: list[str], real_train: list[str], valid: list[str], seed: int,
                 rare_k: int = 2, repeats: int | None = None) -> dict:
    """Collapse metrics of one language side.

    Every comparison with real text is made on samples of equal token counts (whole sentences in
    a seeded order, the last one cut to fit), averaged over ``repeats`` seeded repetitions
    (default ``_repeats``: 5 for small texts, down to 1 for big ones); a ratio is mean synthetic
    / mean real, so real text against more real text of the same kind gives ~1.0:

    - distinct-n, TTR, MTLD, valid coverage and OOV rate, ``jsd_train``: samples of
      ``sample_tokens`` = min(synthetic, real train) tokens of each.
    - ``rare_coverage_ratio``: the real training sentences are split (seeded) into halves A and
      B; the rare types are those with count <= ``rare_k`` in A (``rare_tokens``); their
      coverage by a synthetic sample of ``rare_sample_tokens`` = min(synthetic, B) tokens
      (``rare_coverage``) over their coverage by a sample of B of the same size
      (``rare_coverage_real``); then the same with A and B swapped. B is real text that A has not
      seen, as the synthetic text is, so real text scores ~1.0 and text that lost the rare words
      of real text scores lower.
    - ``jsd_valid``: synthetic and valid samples of min(synthetic, valid) tokens each.

    Why: coverage and distinct counts grow with sample size, so a synthetic sample against a
    smaller real one biases the ratio upward and hides collapse; a JSD of samples of unequal
    sizes depends on both sizes. With equal sizes a JSD still has a small-sample floor (real
    against real: ~0.1-0.3 at 5,000-10,000 tokens, ~0.02-0.04 at 300,000).
    """
    syn = [tokens(t) for t in synthetic]
    train = [tokens(t) for t in real_train]
    val = [tokens(t) for t in valid]
    if not syn or not train:
        return {"skipped": "no synthetic or no real text on this side"}
    vocab: dict[str, int] = {}
    S, T, V = _Ids(syn, vocab), _Ids(train, vocab), _Ids(val, vocab)
    size = max(len(vocab), 1)
    n_tok, n_val = min(S.n_tokens, T.n_tokens), min(S.n_tokens, V.n_tokens)
    repeats = repeats or _repeats(n_tok)
    div_s, div_t, rare, m = _repeated_samples(S, T, V, n_tok, n_val, size, seed, repeats, rare_k)
    out = _compared(syn, train, div_s, div_t, rare, m, n_tok, seed, repeats)
    if V.n_tokens:
        out["valid"] = _diversity(val)
        out["valid_sample_tokens"] = n_val
        for k in ("valid_coverage", "valid_coverage_real", "valid_oov_rate",
                  "valid_oov_rate_real"):
            out[k] = round(m[k], 4)
        out["valid_coverage_ratio"] = _ratio(m["valid_coverage"], m["valid_coverage_real"])
        out["jsd_valid"] = round(m["jsd_valid"], 4)
    return out


def _repeated_samples(S, T, V, n_tok: int, n_val: int, size: int, seed: int, repeats: int,
                      rare_k: int):
    """``repeats`` seeded equal-size draws: sample stats, rare coverage, valid and JSD means."""
    val_types = np.flatnonzero(np.bincount(V.ids, minlength=size))
    div_s, div_t, rare, acc = [], [], [], defaultdict(list)
    for r in range(repeats):
        rng = np.random.default_rng([seed, r])
        s = _sample_stats(*S.sample(n_tok, rng), size)
        t = _sample_stats(*T.sample(n_tok, rng), size)
        div_s.append(s)
        div_t.append(t)
        acc["jsd_train"].append(_jsd_counts(s["_counts"], t["_counts"]))
        if V.n_tokens:
            for x, suffix in ((s, ""), (t, "_real")):
                seen = x["_counts"] > 0
                acc["valid_coverage" + suffix].append(seen[val_types].mean())
                acc["valid_oov_rate" + suffix].append(1 - seen[V.ids].mean())
            acc["jsd_valid"].append(_jsd_counts(
                np.bincount(S.sample(n_val, rng)[0], minlength=size),
                np.bincount(V.sample(n_val, rng)[0], minlength=size)))
        rare += _rare_coverage(S, T, rng, rare_k, size)
    return div_s, div_t, rare, {k: float(np.mean(v)) for k, v in acc.items()}


def _compared(syn, train, div_s, div_t, rare, m, n_tok: int, seed: int, repeats: int) -> dict:
    """The synthetic side against real train (self-BLEU, prefixes: whole-sentence samples)."""
    rare_n, rare_tok, rare_s, rare_t = (np.mean(x) for x in zip(*rare)) if rare else [None] * 4

    def avg(stats: list[dict], key: str) -> float:
        return float(np.mean([x[key] for x in stats]))

    def summary(stats: list[dict]) -> dict:
        return {k: round(avg(stats, k), 2 if k == "mtld" else 4) if k not in ("sentences", "tokens")
                else round(avg(stats, k)) for k in stats[0] if not k.startswith("_")}

    syn_s, train_s = _sample_tokens(syn, n_tok, seed), _sample_tokens(train, n_tok, seed)
    out = {
        "method": "equal token counts: seeded samples, mean of repeats; rare types: count <= "
                  "rare_k in one half of real train, seen by synthetic vs by the other half",
        "repeats": repeats,
        "sample_tokens": n_tok,
        "synthetic": summary(div_s), "real_train": summary(div_t),
        "distinct2_ratio": _ratio(avg(div_s, "distinct2"), avg(div_t, "distinct2")),
        "mtld_ratio": _ratio(avg(div_s, "mtld"), avg(div_t, "mtld")),
        "rare_tokens": round(rare_n) if rare else 0,
        "rare_sample_tokens": round(rare_tok) if rare else 0,
        "rare_coverage": round(float(rare_s), 4) if rare else None,
        "rare_coverage_real": round(float(rare_t), 4) if rare else None,
        "rare_coverage_ratio": _ratio(rare_s, rare_t) if rare else None,
        "jsd_train": round(m["jsd_train"], 4),
        "ks_length": ks([len(x) for x in syn], [len(x) for x in train]),
        "self_bleu": self_bleu([" ".join(x) for x in syn_s], seed),
        "self_bleu_real": self_bleu([" ".join(x) for x in train_s], seed),
        "prefix3_share": prefix3_share(syn_s),
        "prefix3_share_real": prefix3_share(train_s),
    }
    if out["self_bleu"] is not None and out["self_bleu_real"] is not None:
        out["self_bleu_excess"] = round(out["self_bleu"] - out["self_bleu_real"], 2)
    out["prefix3_excess"] = round(out["prefix3_share"] - out["prefix3_share_real"], 4)
    return out


def score_distribution(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    v = np.asarray(values, dtype=float)
    return {"n": len(v), "mean": round(float(v.mean()), 4),
            **{f"p{p}": round(float(np.percentile(v, p)), 4) for p in (10, 50, 90)}}


def monitor(sides: dict[str, dict[str, list[str]]], scores: dict[str, list[float]],
            alarms_cfg: dict, seed: int, min_rows: int = 20, rare_k: int = 2) -> dict:
    """``sides``: {side: {"lang", "synthetic", "real_train", "valid"}} -> collapse.json content."""
    thresholds = {k: (d, alarms_cfg.get(k, t), h) for k, (d, t, h) in ALARMS.items()}
    out = {"thresholds": {k: {"direction": d, "value": t} for k, (d, t, _) in thresholds.items()},
           "sides": {}, "scores": {k: score_distribution(v) for k, v in scores.items()},
           "alarms": []}
    for side, data in sides.items():
        m = side_metrics(data["synthetic"], data["real_train"], data["valid"], seed, rare_k)
        m["lang"] = data["lang"]
        out["sides"][side] = m
        if len(data["synthetic"]) < min_rows:
            m["note"] = f"fewer than {min_rows} synthetic rows: no alarms"
            continue
        for metric, (direction, thr, hint) in thresholds.items():
            v = m.get(metric)
            if thr is None or v is None or (isinstance(v, float) and math.isnan(v)):
                continue
            if (direction == "min" and v < thr) or (direction == "max" and v > thr):
                out["alarms"].append({"side": side, "lang": data["lang"], "metric": metric,
                                      "value": v, "threshold": thr, "direction": direction,
                                      "hint": hint})
    return out

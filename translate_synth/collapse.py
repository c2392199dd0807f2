"""The collapse monitor: is the synthetic text losing the rare words and patterns of real text?

For each language side, the accepted synthetic text of that language is compared with the real
text of the same language: the real training part and the held-out valid part, separately.
Diversity measures depend on sample size, so they are computed on seeded samples of equal token
counts and reported as ratios synthetic / real. Each metric has an alarm threshold (config
``collapse.alarms``); crossing one is logged and recorded in ``collapse.json`` with a hint.

Tokens: Unicode word tokens, case-folded; for text written without spaces (CJK, Thai...) single
characters (``filters.text.tokens``).
"""

from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np

from translate_synth.filters.text import tokens

# metric -> (direction, default threshold, hint). "min": alarm when value < threshold.
ALARMS = {
    "distinct2_ratio": ("min", 0.5, "synthetic text repeats the same word pairs: more varied "
                        "inputs, sampling for paraphrases, or a stricter duplicate filter"),
    "mtld_ratio": ("min", 0.5, "synthetic vocabulary is much poorer than real text's"),
    "valid_coverage_ratio": ("min", 0.5, "synthetic text misses the words of the real held-out "
                             "text: add monolingual text closer to the target domain"),
    "rare_coverage_ratio": ("min", 0.3, "synthetic text loses the rare words of real text"),
    "jsd_train": ("max", 0.8, "synthetic word distribution drifted far from real text"),
    "ks_length": ("max", 0.6, "synthetic sentence lengths differ from real ones: check "
                  "length filters and max_new_tokens"),
    "self_bleu_excess": ("max", 25.0, "synthetic sentences are near-copies of each other "
                         "(self-BLEU this far above real text's)"),
    "prefix3_excess": ("max", 0.3, "many more synthetic rows than real ones start the same way "
                       "(a template)"),
}


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
    if not keys:
        return 0.0
    a = np.array([p.get(k, 0) for k in keys], dtype=float)
    b = np.array([q.get(k, 0) for k in keys], dtype=float)
    a, b = a / max(a.sum(), 1), b / max(b.sum(), 1)
    m = (a + b) / 2

    def kl(x, y):
        mask = x > 0
        return float((x[mask] * np.log2(x[mask] / y[mask])).sum())
    return round((kl(a, m) + kl(b, m)) / 2, 4)


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
    """Mean sentence BLEU of each sampled sentence against the other sampled ones (sacrebleu)."""
    from sacrebleu.metrics import BLEU

    if len(texts) < 3:
        return None
    sample = random.Random(seed).sample(texts, min(n, len(texts)))
    bleu = BLEU(effective_order=True)
    scores = [bleu.sentence_score(h, sample[:i] + sample[i + 1:]).score
              for i, h in enumerate(sample)]
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
    return round(a / b, 4) if b else None


def side_metrics(synthetic: list[str], real_train: list[str], valid: list[str], seed: int,
                 rare_k: int = 2) -> dict:
    syn = [tokens(t) for t in synthetic]
    train = [tokens(t) for t in real_train]
    val = [tokens(t) for t in valid]
    if not syn or not train:
        return {"skipped": "no synthetic or no real text on this side"}
    n_tok = min(sum(map(len, syn)), sum(map(len, train)))
    syn_s, train_s = _sample_tokens(syn, n_tok, seed), _sample_tokens(train, n_tok, seed)
    d_syn, d_train = _diversity(syn_s), _diversity(train_s)
    syn_vocab = {t for s in syn for t in s}
    train_counts = Counter(t for s in train for t in s)
    rare = {t for t, c in train_counts.items() if c <= rare_k}
    syn_s_vocab = {t for s in syn_s for t in s}
    train_s_vocab = {t for s in train_s for t in s}
    out = {
        "sample_tokens": n_tok,
        "synthetic": d_syn, "real_train": d_train,
        "distinct2_ratio": _ratio(d_syn["distinct2"], d_train["distinct2"]),
        "mtld_ratio": _ratio(d_syn["mtld"], d_train["mtld"]),
        "rare_tokens": len(rare),
        "rare_coverage": round(len(rare & syn_vocab) / len(rare), 4) if rare else None,
        "jsd_train": jsd(Counter(t for s in syn for t in s), train_counts),
        "ks_length": ks([len(s) for s in syn], [len(s) for s in train]),
        "self_bleu": self_bleu([" ".join(s) for s in syn_s], seed),
        "self_bleu_real": self_bleu([" ".join(s) for s in train_s], seed),
        "prefix3_share": prefix3_share(syn_s),
        "prefix3_share_real": prefix3_share(train_s),
    }
    if out["self_bleu"] is not None and out["self_bleu_real"] is not None:
        out["self_bleu_excess"] = round(out["self_bleu"] - out["self_bleu_real"], 2)
    out["prefix3_excess"] = round(out["prefix3_share"] - out["prefix3_share_real"], 4)
    # rare real tokens found in an equal-size synthetic sample vs in the rest of real text
    held = _sample_tokens(train, min(n_tok, sum(map(len, train)) // 2), seed + 1)
    held_vocab = {t for s in held for t in s}
    held_ids = {id(s) for s in held}
    rare_rest = {t for t, c in Counter(t for s in train if id(s) not in held_ids
                                       for t in s).items() if c <= rare_k}
    cov_syn = len(rare_rest & syn_s_vocab) / len(rare_rest) if rare_rest else None
    cov_real = len(rare_rest & held_vocab) / len(rare_rest) if rare_rest else None
    out["rare_coverage_ratio"] = _ratio(cov_syn, cov_real) if cov_syn is not None else None
    if val:
        val_counts = Counter(t for s in val for t in s)
        vv = set(val_counts)
        out["valid"] = _diversity(val)
        out["valid_coverage"] = round(len(vv & syn_vocab) / len(vv), 4) if vv else None
        out["valid_oov_rate"] = round(sum(c for t, c in val_counts.items()
                                          if t not in syn_vocab) / sum(val_counts.values()), 4)
        cov_s = len(vv & syn_s_vocab) / len(vv) if vv else 0
        cov_t = len(vv & train_s_vocab) / len(vv) if vv else 0
        out["valid_coverage_ratio"] = _ratio(cov_s, cov_t)
        out["jsd_valid"] = jsd(Counter(t for s in syn for t in s), val_counts)
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

"""The combined quality score ``scores.quality``, and its calibration on real pairs.

Round trip alone is a weak judge: the reverse model repairs the forward model's errors. Real
training pairs have known references, so we back-translate their target side exactly as synthesis
does, score the result with every signal we have (round-trip chrF and BLEU, model log-probability
both ways when the backend gives it, length ratio, language-ID confidence), and fit a ridge
regression of the *reference* chrF (synthetic source vs the real source) on those signals. The
fitted model's prediction is ``scores.quality``: an estimate of the reference chrF of each row.
With fewer than ``MIN_FIT`` real pairs, documented default weights are used instead.

The calibration also scores the real pairs themselves as if they were synthetic (the real source
as the "synthetic" side, round-tripped), so filters can take thresholds from real data
(``real_percentile``).
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from translate_synth.text import stable_int

MIN_FIT = 20
FEATURES = ("rt_chrf", "rt_bleu", "logprob_fwd", "logprob_bwd", "length_dev", "length_logratio",
            "rt_length_dev", "langid_syn")
# the models compared by cross-validation on the real pairs; the best one is fitted on all pairs
CANDIDATES = {"all": FEATURES, "roundtrip+model": ("rt_chrf", "rt_bleu", "logprob_fwd",
                                                   "logprob_bwd"),
              "roundtrip": ("rt_chrf", "rt_bleu"), "rt_chrf": ("rt_chrf",)}
# used when there is too little real data to fit: round-trip chrF mostly, penalties for a length
# far from the authentic text's and for text not in the expected language
DEFAULT_WEIGHTS = {
    "intercept": 0.0, "fitted": False,
    "features": {"rt_chrf": {"mean": 0.0, "std": 1.0, "weight": 0.7},
                 "rt_bleu": {"mean": 0.0, "std": 1.0, "weight": 0.3},
                 "length_dev": {"mean": 0.0, "std": 1.0, "weight": -20.0},
                 "langid_syn": {"mean": 1.0, "std": 1.0, "weight": 20.0}},
}


def _sides(row: dict) -> tuple[str, str]:
    auth = row.get("authentic", "target")
    syn = "target" if auth == "source" else "source"
    return row[syn], row[auth]


def features(row: dict, langs: dict) -> dict[str, float | None]:
    """The signals of one row, from its stored scores and its text."""
    from translate_synth.filters.langid import confidence, known

    sc = row.get("scores", {})
    syn, auth = _sides(row)
    syn_side = "target" if row.get("authentic", "target") == "source" else "source"
    lang = langs.get(syn_side)
    return {
        "rt_chrf": sc.get("rt_chrf"), "rt_bleu": sc.get("rt_bleu"),
        "logprob_fwd": sc.get("logprob_fwd"), "logprob_bwd": sc.get("logprob_bwd"),
        "length_dev": abs(math.log(max(1, len(syn)) / max(1, len(auth)))),
        "length_logratio": math.log(max(1, len(syn)) / max(1, len(auth))),
        "rt_length_dev": abs(math.log(max(1, len(row.get("roundtrip") or "")) / max(1, len(auth)))),
        "langid_syn": sc["langid_synthetic"] if sc.get("langid_synthetic") is not None else (
            confidence(syn, lang) if lang and known(lang) else None),
    }


def predict(feats: dict, weights: dict) -> float:
    q = weights["intercept"]
    for name, w in weights["features"].items():
        x = feats.get(name)
        if x is not None:  # a missing signal counts as average: it adds nothing
            q += w["weight"] * (x - w["mean"]) / w["std"]
    return round(q, 4)


def fit(X: list[dict], y: list[float], ridge: float = 1.0, names=FEATURES) -> dict:
    """Ridge regression of y on the standardised features present in most rows."""
    names = [f for f in names if sum(x.get(f) is not None for x in X) >= 0.9 * len(X)]
    cols = []
    stats = {}
    for f in names:
        v = np.array([x[f] if x.get(f) is not None else np.nan for x in X], dtype=float)
        mean = float(np.nanmean(v))
        std = float(np.nanstd(v)) or 1.0
        stats[f] = (mean, std)
        cols.append(np.nan_to_num((v - mean) / std, nan=0.0))
    A = np.column_stack(cols) if cols else np.zeros((len(y), 0))
    yv = np.asarray(y, dtype=float)
    b0 = float(yv.mean())
    w = np.linalg.solve(A.T @ A + ridge * np.eye(A.shape[1]), A.T @ (yv - b0)) if cols else []
    return {"intercept": round(b0, 6), "fitted": True,
            "features": {f: {"mean": round(stats[f][0], 6), "std": round(stats[f][1], 6),
                             "weight": round(float(wi), 6)} for f, wi in zip(names, w)}}


def spearman(a, b) -> float | None:
    """Spearman rank correlation (average ranks for ties), or None when undefined."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 3:
        return None

    def ranks(v):
        order = np.argsort(v, kind="mergesort")
        r = np.empty(len(v))
        r[order] = np.arange(len(v))
        for val in np.unique(v):  # average ranks of ties
            m = v == val
            if m.sum() > 1:
                r[m] = r[m].mean()
        return r

    ra, rb = ranks(a), ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return None
    return round(float(np.corrcoef(ra, rb)[0, 1]), 4)


def cross_validate(X: list[dict], y: list[float], rows: list[dict], seed: int,
                   names=FEATURES) -> float | None:
    """2-fold out-of-sample Spearman of a model on ``names`` with y (folds by seeded hash)."""
    fold = np.array([stable_int(seed, r["target"]) % 2 for r in rows])
    pred = np.zeros(len(y))
    for k in (0, 1):
        train, test = fold != k, fold == k
        if train.sum() < MIN_FIT // 2 or not test.any():
            return None
        w = fit([x for x, t in zip(X, train) if t], [v for v, t in zip(y, train) if t],
                names=names)
        pred[test] = [predict(x, w) for x, t in zip(X, test) if t]
    return spearman(pred, y)


def select_and_fit(X: list[dict], y: list[float], rows: list[dict], seed: int) -> tuple[dict, dict]:
    """Compare the CANDIDATES by cross-validation, fit the best on all rows: (weights, report)."""
    report = {"n": len(y), "cv_spearman": {}}
    tried = []
    for name, names in CANDIDATES.items():
        usable = [f for f in names if sum(x.get(f) is not None for x in X) >= 0.9 * len(X)]
        if usable and set(usable) not in tried:  # without logprob, two candidates coincide
            tried.append(set(usable))
            report["cv_spearman"][name] = cross_validate(X, y, rows, seed, usable)
    scored = {k: v for k, v in report["cv_spearman"].items() if v is not None}
    best = max(scored, key=scored.get) if scored else "all"
    report["selected"] = best
    report["quality"] = scored.get(best)
    for f in ("rt_bleu", "rt_chrf", "logprob_fwd", "logprob_bwd"):
        pairs = [(x[f], v) for x, v in zip(X, y) if x.get(f) is not None]
        report[f] = spearman([p[0] for p in pairs], [p[1] for p in pairs]) if pairs else None
    return fit(X, y, names=CANDIDATES[best]), report


def sample_pairs(pairs, max_rows: int, seed: int) -> list[tuple[str, str]]:
    """A seeded, order-independent sample of at most ``max_rows`` real pairs (streams: keeps
    only ``max_rows`` pairs in memory)."""
    return heapq.nsmallest(max_rows, pairs, key=lambda p: stable_int(seed, "calibrate", *p))


def calibrate(pairs: list[tuple[str, str]], translator, scorer, langs: dict, decoding,
              rt_decoding, seed: int, model_scores=None) -> dict:
    """Back-translate real targets, score, fit quality weights; score the real pairs too.

    ``langs`` = {"source": src, "target": tgt}; ``model_scores(rows)`` adds logprob scores to
    rows in place when the backend can (None: skip). Returns a JSON-serialisable dict.
    """
    from sacrebleu.metrics import CHRF

    src, tgt = langs["source"], langs["target"]
    if not pairs:
        return {"n": 0, "weights": DEFAULT_WEIGHTS, "spearman": {}, "real_rows": [],
                "note": "no real pairs: default weights"}
    sources = [p[0] for p in pairs]
    targets = [p[1] for p in pairs]
    s_bt = [h[0] for h in translator.translate(targets, tgt, src, decoding, seed=seed)]
    rt_bt = [h[0] for h in translator.translate(s_bt, src, tgt, rt_decoding, seed=seed)]
    rt_real = [h[0] for h in translator.translate(sources, src, tgt, rt_decoding, seed=seed)]
    bt_rows, real_rows = [], []
    for s, t, sb, rb, rr in zip(sources, targets, s_bt, rt_bt, rt_real):
        bt_rows.append({"source": sb, "target": t, "authentic": "target", "origin": "bt",
                        "roundtrip": rb, "scores": scorer.score(rb, t)})
        real_rows.append({"source": s, "target": t, "authentic": "target", "origin": "real",
                          "roundtrip": rr, "scores": scorer.score(rr, t)})
    if model_scores is not None:
        model_scores(bt_rows)
        model_scores(real_rows)
    chrf = CHRF()
    y = [chrf.sentence_score(r["source"], [s]).score for r, s in zip(bt_rows, sources)]
    X = [features(r, langs) for r in bt_rows]
    report = {}
    if len(y) >= MIN_FIT:
        weights, report = select_and_fit(X, y, bt_rows, seed)
        note = f"fitted on {len(y)} real pairs (model '{report['selected']}')"
    else:
        weights, note = DEFAULT_WEIGHTS, f"only {len(y)} real pairs (< {MIN_FIT}): default weights"
    for r in bt_rows:
        r["scores"]["quality"] = predict(features(r, langs), weights)
    return {
        "n": len(y), "note": note, "weights": weights,
        "label": f"reference chrF of the back-translated source vs the real source "
                 f"({chrf.get_signature().format()})",
        "spearman": report,
        "reference_chrf": {"mean": round(float(np.mean(y)), 4)},
        "real_rows": real_rows,
    }

"""The combined quality score ``scores.quality``: an estimate of each row's reference chrF.

Round trip alone is a weak judge: the reverse model repairs the forward model's errors. Real
training pairs have references, so before synthesis the tool makes synthetic rows from them
exactly as synthesis does, per origin (``calibration.py``):

- ``bt``: back-translate the real target; truth = chrF of the synthetic source vs the real source;
- ``ft``: forward-translate the real source; truth = chrF of the synthetic target vs the real target;

scores them with every signal it has (round-trip chrF and BLEU, fluency under a character LM of
the run's real training text, model log-probabilities when the backend gives them, length and
language-ID signals), and chooses how to predict the truth (``quality_select.py``): a prior
chosen on dev books (``PRIOR``) that the run's pairs may veto, richer models only from
``MIN_PAIRS`` pairs and only when they beat it out of sample. ``quality`` is clipped to [0, 100]
for every row. Paraphrases have no reference to calibrate on: their ``quality`` is their
``rt_chrf``, never a scale fitted to another origin.

This module holds the pieces: signals of a row, the linear model, its fit, Spearman and the
paired bootstrap; the weights of an origin (``weights_for``).
"""

from __future__ import annotations

import math

import numpy as np


# Minimum calibration pairs of each step, and the prior: chosen on the dev books of
# eval/selection_study.py (Acts, John; real pairs varied 50, 100, 150, 300), README "Quality"
PRIOR_MIN_PAIRS = 30  # the prior (mapped into reference-chrF units, with its veto)
MIN_PAIRS = 300  # richer fitted models (config quality.min_pairs)
# weights of the standardised signals: fluency / rt_chrf = 1.5 (bt) and 2.0 (ft) had the highest
# mean Spearman with the truth over the 16 dev runs (0.426 and 0.417; rt_chrf alone 0.264 and
# 0.219); origins not named use rt_chrf (mapped) before richer models
PRIOR = {"bt": {"rt_chrf": 1.0, "fluency": 1.5}, "ft": {"rt_chrf": 1.0, "fluency": 2.0}}
FOLDS, REPEATS, BOOTSTRAP, LEVEL = 5, 4, 1000, 0.90
RIDGE = 1.0
FEATURES = ("rt_chrf", "rt_bleu", "fluency", "logprob_fwd", "logprob_bwd", "length_dev",
            "rt_length_dev", "langid_syn")
BASELINE = "rt_chrf"
CANDIDATES = {
    BASELINE: ("rt_chrf",),
    "roundtrip": ("rt_chrf", "rt_bleu"),
    "rt_chrf+fluency": ("rt_chrf", "fluency"),
    "roundtrip+fluency": ("rt_chrf", "rt_bleu", "fluency"),
    "roundtrip+model": ("rt_chrf", "rt_bleu", "logprob_fwd", "logprob_bwd"),
    "all": FEATURES,
}
CALIBRATED = ("bt", "ft")  # origins with a reference to calibrate on
# quality = rt_chrf (in [0, 100]); used for paraphrases, for origins without calibration, and
# below PRIOR_MIN_PAIRS
IDENTITY = {"method": "rt_chrf", "intercept": 0.0,
            "features": {"rt_chrf": {"mean": 0.0, "std": 1.0, "weight": 1.0}}}


def sig6(x: float) -> float:
    """Six significant digits: compact JSON that never rounds a small std to zero."""
    return float(f"{x:.6g}")


def row_sides(row: dict) -> tuple[str, str, str]:
    """(synthetic text, authentic text, synthetic side name)."""
    auth = row.get("authentic", "target")
    syn_side = "target" if auth == "source" else "source"
    return row[syn_side], row[auth], syn_side


def features(row: dict, langs: dict, lm=None) -> dict[str, float | None]:
    """The signals of one row, from its stored scores and its text. ``lm(side)`` gives the
    fluency model of a side when the row has no stored fluency score."""
    from translate_synth.lid import confidence, known

    sc = row.get("scores", {})
    syn, auth, syn_side = row_sides(row)
    lang = langs.get(syn_side)
    flu = sc.get("fluency_synthetic")
    if flu is None and lm is not None and lm(syn_side) is not None:
        flu = lm(syn_side).logprob([syn])[0]
    return {
        "rt_chrf": sc.get("rt_chrf"), "rt_bleu": sc.get("rt_bleu"), "fluency": flu,
        "logprob_fwd": sc.get("logprob_fwd"), "logprob_bwd": sc.get("logprob_bwd"),
        "length_dev": abs(math.log(max(1, len(syn)) / max(1, len(auth)))),
        "rt_length_dev": abs(math.log(max(1, len(row.get("roundtrip") or "")) / max(1, len(auth)))),
        "langid_syn": sc["langid_synthetic"] if sc.get("langid_synthetic") is not None else (
            confidence(syn, lang) if lang and known(lang) else None),
    }


def predict(feats: dict, weights: dict) -> float:
    """The linear prediction, clipped to [0, 100] (reference-chrF units)."""
    return round(min(100.0, max(0.0, predict_raw(feats, weights))), 4)


def usable(X: list[dict], names) -> list[str]:
    """The features present in at least 90 % of the rows and not constant."""
    out = []
    for f in names:
        v = [x[f] for x in X if x.get(f) is not None]
        if len(v) >= 0.9 * len(X) and len(v) > 1 and \
                float(np.std(v)) > 1e-6 * max(1.0, abs(float(np.mean(v)))):
            out.append(f)
    return out


def fit(X: list[dict], y: list[float], names=FEATURES, ridge: float = RIDGE) -> dict:
    """Ridge regression of y on the standardised usable features."""
    names = usable(X, names)
    cols, stats = [], {}
    for f in names:
        v = np.array([x[f] if x.get(f) is not None else np.nan for x in X], dtype=float)
        mean, std = float(np.nanmean(v)), float(np.nanstd(v))
        stats[f] = (mean, std if std > 1e-12 else 1.0)
        cols.append(np.nan_to_num((v - stats[f][0]) / stats[f][1], nan=0.0))
    yv = np.asarray(y, dtype=float)
    b0 = float(yv.mean())
    A = np.column_stack(cols) if cols else np.zeros((len(y), 0))
    w = np.linalg.solve(A.T @ A + ridge * np.eye(A.shape[1]), A.T @ (yv - b0)) if cols else []
    return {"method": "ridge", "intercept": sig6(b0),
            "features": {f: {"mean": sig6(stats[f][0]), "std": sig6(stats[f][1]),
                             "weight": sig6(float(wi))} for f, wi in zip(names, w)}}


def monotone_map(x: list[float], y: list[float]) -> dict | None:
    """rt_chrf -> reference-chrF units by a least-squares line; None unless the slope is > 0."""
    xv, yv = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(xv) < 2 or xv.std() < 1e-12:
        return None
    slope = float(np.cov(xv, yv, bias=True)[0, 1] / xv.var())
    if slope <= 0:
        return None
    return {"method": "monotone", "intercept": sig6(float(yv.mean() - slope * xv.mean())),
            "features": {"rt_chrf": {"mean": 0.0, "std": 1.0, "weight": sig6(slope)}}}


def _ranks(v: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean of their positions)."""
    _, inv, counts = np.unique(v, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return ((ends - (counts - 1) / 2.0) - 1.0)[inv]


def spearman(a, b) -> float | None:
    """Spearman rank correlation (average ranks for ties), or None when undefined."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 3:
        return None
    ra, rb = _ranks(a), _ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return None
    return round(float(np.corrcoef(ra, rb)[0, 1]), 4)


def rank_corr(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation, unrounded (0 when either side is constant)."""
    ra, rb = _ranks(a), _ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def oof_predictions(X: list[dict], y: list[float], names, seed: int, folds: int = FOLDS,
                    repeats: int = REPEATS) -> np.ndarray:
    """Out-of-fold predictions of a ridge model on ``names``, averaged over seeded repeats."""
    n = len(y)
    yv = np.asarray(y, dtype=float)
    pred = np.zeros(n)
    for rep in range(repeats):
        perm = np.random.default_rng([seed, rep]).permutation(n)
        fold = np.empty(n, dtype=int)
        fold[perm] = np.arange(n) % folds
        for k in range(folds):
            test = fold == k
            train = ~test
            w = fit([x for x, t in zip(X, train) if t], list(yv[train]), names)
            pred[test] += [predict_raw(x, w) for x, t in zip(X, test) if t]
    return pred / repeats


def predict_raw(feats: dict, weights: dict) -> float:
    """The linear prediction, unclipped (for ranking in cross-validation)."""
    q = weights["intercept"]
    for name, w in weights["features"].items():
        x = feats.get(name)
        if x is not None:  # a missing signal counts as average: it adds nothing
            q += w["weight"] * (x - w["mean"]) / w["std"]
    return q


def bootstrap(preds: dict[str, np.ndarray], y: np.ndarray, seed: int,
              baseline: str | tuple = BASELINE, n_boot: int = BOOTSTRAP,
              level: float = LEVEL) -> dict:
    """Spearman of each prediction with y, its interval, and the paired interval of its
    difference from each ``baseline``'s (the same resampled rows for both)."""
    baselines = (baseline,) if isinstance(baseline, str) else tuple(baseline)
    rng = np.random.default_rng([seed, 7919])
    n = len(y)
    names = list(preds)
    draws = {k: np.empty(n_boot) for k in names}
    for b in range(n_boot):
        idx = rng.integers(0, n, n)
        yb = y[idx]
        for k in names:
            draws[k][b] = rank_corr(preds[k][idx], yb)
    lo_q, hi_q = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    out = {}
    for k in names:
        out[k] = {"spearman": round(rank_corr(preds[k], y), 4),
                  "interval": [round(float(np.percentile(draws[k], lo_q)), 4),
                               round(float(np.percentile(draws[k], hi_q)), 4)]}
        for base in baselines:
            if k != base and base in draws:
                d = draws[k] - draws[base]
                out[k]["diff_vs_" + base] = {
                    "mean": round(float(d.mean()), 4),
                    "interval": [round(float(np.percentile(d, lo_q)), 4),
                                 round(float(np.percentile(d, hi_q)), 4)]}
    return out


def uncalibrated(why: str, origins=()) -> dict:
    """The calibration record when nothing was fitted: quality = rt_chrf for every origin."""
    warn = f"{why}: quality = rt_chrf for every row, not calibrated to reference chrF"
    return {"n": 0, "note": warn, "warnings": [warn],
            "origins": {o: {"method": "rt_chrf", "weights": IDENTITY, "note": why}
                        for o in (*CALIBRATED, "paraphrase")},
            "real_rows": []}


def weights_for(calibration: dict | None, origin: str) -> dict:
    """The quality weights of one origin (rt_chrf when the origin was not calibrated)."""
    got = ((calibration or {}).get("origins") or {}).get(origin) or {}
    return got.get("weights") or IDENTITY


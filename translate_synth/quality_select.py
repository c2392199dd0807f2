"""How ``scores.quality`` is predicted for one origin, chosen on the run's own real pairs.

In order, each step only where the pairs support it (the minimum pairs of each step were measured
by eval/selection_study.py on dev books, README "Quality"):

1. below ``PRIOR_MIN_PAIRS`` calibration pairs: ``quality`` = ``rt_chrf`` (nothing to map with);
2. the prior: a fixed combination of standardised signals (``PRIOR``, weights chosen on dev
   books only), standardised on the run's pairs and mapped into reference-chrF units by a
   least-squares line with a positive slope. The run's pairs can veto it: when the upper end of
   the ``LEVEL`` paired-bootstrap interval of (Spearman of the prior - Spearman of ``rt_chrf``)
   lies below 0, ``quality`` is ``rt_chrf`` mapped into those units instead (``monotone``);
3. richer ridge models (``CANDIDATES``) are cross-validated and recorded at every size; from
   ``MIN_PAIRS`` pairs one replaces the model in use when the lower end of the interval of its
   difference from it is above 0. The Spearman reported for a chosen richer model is the nested (outer-fold) one: the whole
   choice is redone without each outer fold and judged on it, not the number that chose it.
"""

from __future__ import annotations

import numpy as np

from translate_synth.quality import (BASELINE, BOOTSTRAP, CANDIDATES, FEATURES, FOLDS,
                                     IDENTITY, LEVEL,
                                     MIN_PAIRS, PRIOR_MIN_PAIRS, bootstrap, fit,
                                     monotone_map, oof_predictions, predict_raw, spearman, usable,
                                     sig6, rank_corr)

NESTED_BOOT = 200  # bootstrap draws of the choice inside each outer fold


def prior_score(X: list[dict], weights: dict[str, float], ref: list[dict] | None = None):
    """(score per row, {feature: (mean, std, weight)}): the prior's weighted sum of features
    standardised on ``ref`` (default: ``X``); a missing value counts as the mean."""
    ref = X if ref is None else ref
    names = usable(ref, list(weights))
    stats, total = {}, np.zeros(len(X))
    for f in names:
        v = np.array([x[f] for x in ref if x.get(f) is not None], dtype=float)
        mean, std = float(v.mean()), float(v.std()) or 1.0
        stats[f] = (mean, std, weights[f])
        col = np.array([x[f] if x.get(f) is not None else mean for x in X], dtype=float)
        total += weights[f] * (col - mean) / std
    return total, stats


def prior_weights(X: list[dict], y: list[float], weights: dict[str, float]) -> dict | None:
    """The prior mapped into reference-chrF units on (X, y): quality weights, or None when the
    prior does not rise with y (or has no usable signal)."""
    p, stats = prior_score(X, weights)
    mapped = monotone_map(list(p), y)
    if not stats or mapped is None:
        return None
    slope = mapped["features"]["rt_chrf"]["weight"]
    return {"method": "prior", "intercept": mapped["intercept"],
            "features": {f: {"mean": sig6(m), "std": sig6(s), "weight": sig6(slope * w)}
                         for f, (m, s, w) in stats.items()}}


def _signals(X, y) -> dict:
    out = {}
    for f in FEATURES:
        pairs = [(x[f], v) for x, v in zip(X, y) if x.get(f) is not None]
        if len(pairs) >= 3:
            out[f] = spearman([p[0] for p in pairs], [p[1] for p in pairs])
    return out


def _richer(X) -> dict[str, tuple]:
    """The richer candidates that differ from each other and from rt_chrf alone."""
    tried: dict[str, tuple] = {}
    for name, names in CANDIDATES.items():
        cols = usable(X, names)
        if name == BASELINE or not cols or tuple(cols) in tried.values() or cols == ["rt_chrf"]:
            continue  # a feature is missing (e.g. no log-probabilities): same as another one
        tried[name] = tuple(cols)
    return tried


def _choose(X, y, seed, prior, rich, n_boot, repeats=None,
            allow_rich: bool = True) -> tuple[str, dict, dict]:
    """(chosen name, its weights, the candidates' bootstrap record) on (X, y); richer models
    are cross-validated and recorded always, chosen only with ``allow_rich``."""
    yv = np.asarray(y, dtype=float)
    rt = np.array([x.get("rt_chrf") or 0.0 for x in X], dtype=float)
    preds = {BASELINE: rt}
    base, base_w = BASELINE, monotone_map(list(rt), y)
    if prior:
        p, stats = prior_score(X, prior)
        if len(stats) > 1:
            preds["prior"] = p
    kw = {} if repeats is None else {"repeats": repeats}
    for name, cols in rich.items():
        preds[name] = oof_predictions(X, y, cols, seed, **kw)
    cands = bootstrap(preds, yv, seed, baseline=(BASELINE, "prior"), n_boot=n_boot)
    if "prior" in cands:
        veto = cands["prior"]["diff_vs_" + BASELINE]["interval"][1] < 0
        w = prior_weights(X, y, prior)
        cands["prior"]["vetoed"] = veto
        if not veto and w is not None:
            base, base_w = "prior", w
    key = "diff_vs_" + base
    better = {k: c[key]["mean"] for k, c in cands.items()
              if allow_rich and k in rich and c[key]["interval"][0] > 0}
    if better:
        best = max(better, key=better.get)
        return best, fit(X, y, rich[best]), cands
    return base, base_w, cands


def nested_spearman(X, y, seed, prior, rich, folds: int = FOLDS) -> dict:
    """The whole choice (prior, veto, richer models) redone without each outer fold, its
    chosen model fitted there and judged on the fold: Spearman of the pooled outer-fold
    predictions with y (``LEVEL`` bootstrap interval) and how often each model was chosen."""
    n = len(y)
    yv = np.asarray(y, dtype=float)
    fold = np.empty(n, dtype=int)
    fold[np.random.default_rng([seed, 31]).permutation(n)] = np.arange(n) % folds
    pred, chosen = np.zeros(n), {}
    for k in range(folds):
        tr = [i for i in range(n) if fold[i] != k]
        te = [i for i in range(n) if fold[i] == k]
        Xt, yt = [X[i] for i in tr], [y[i] for i in tr]
        name, w, _ = _choose(Xt, yt, seed + k + 1, prior, rich, NESTED_BOOT, repeats=1)
        chosen[name] = chosen.get(name, 0) + 1
        w = w or IDENTITY
        pred[te] = [predict_raw(X[i], w) for i in te]
    rng = np.random.default_rng([seed, 131])
    draws = [rank_corr(pred[idx], yv[idx]) for idx in (rng.integers(0, n, n) for _ in range(1000))]
    lo, hi = (1 - LEVEL) / 2 * 100, (1 + LEVEL) / 2 * 100
    return {"spearman": round(rank_corr(pred, yv), 4),
            "interval": [round(float(np.percentile(draws, lo)), 4),
                         round(float(np.percentile(draws, hi)), 4)],
            "chosen_in_folds": chosen}


def select(X: list[dict], y: list[float], seed: int, min_pairs: int = MIN_PAIRS,
           prior: dict[str, float] | None = None,
           prior_min: int = PRIOR_MIN_PAIRS) -> dict:
    """Choose and fit the quality model of one origin: {"weights", "method", "selected",
    "candidates", "signals", "warnings", "nested"?}. ``prior``: {feature: weight} of the
    origin's prior (``quality.PRIOR``); None: rt_chrf is the model in use before richer ones."""
    n = len(y)
    out: dict = {"n": n, "warnings": [], "signals": _signals(X, y)}
    if n < min(prior_min, min_pairs):
        out.update(weights=IDENTITY, method="rt_chrf", selected=BASELINE, candidates={})
        out["warnings"].append(f"only {n} real pairs (< {min(prior_min, min_pairs)}): too few "
                               "to map or check a quality model; quality = rt_chrf")
        return out
    rich = _richer(X)  # measured at every size (calibration.json), chosen from min_pairs only
    name, w, cands = _choose(X, y, seed, prior, rich, n_boot=BOOTSTRAP,
                             allow_rich=n >= min_pairs)
    for k, cols in rich.items():  # each fitted on all pairs: what it would predict
        cands[k].update(features=list(cols), weights=fit(X, y, cols))
    if "prior" in cands:
        cands["prior"].update(features=list(prior_score(X, prior)[1]),
                              weights=prior_weights(X, y, prior))
    out["candidates"] = cands
    if cands.get("prior", {}).get("vetoed"):
        d = cands["prior"]["diff_vs_" + BASELINE]
        out["warnings"].append(f"the prior ({' + '.join(cands['prior']['features'])}) ranks "
                               f"these real pairs worse than rt_chrf (difference in Spearman "
                               f"{d['mean']} {d['interval']}, {int(LEVEL * 100)} % interval "
                               "below 0): vetoed; quality = rt_chrf mapped")
    if w is None:
        out.update(weights=IDENTITY, method="rt_chrf", selected=BASELINE)
        out["warnings"].append("rt_chrf does not rise with reference chrF on these real pairs: "
                               "the round trip says nothing here; quality = rt_chrf, unreliable")
        return out
    method = "fitted" if name in rich else ("prior" if name == "prior" else "monotone")
    out.update(weights=w, method=method, selected=name)
    if method == "fitted":
        out["nested"] = nested_spearman(X, y, seed, prior, rich)
    c = cands[name]
    if method != "fitted" and c["interval"][0] <= 0:
        out["warnings"].append(f"{name}'s Spearman with reference chrF is not above 0 with "
                               f"{int(LEVEL * 100)} % confidence ({c['interval']}): quality "
                               "ranks rows barely better than chance here")
    return out

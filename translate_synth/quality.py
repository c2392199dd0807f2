"""The combined quality score ``scores.quality``: an estimate of each row's reference chrF.

Round trip alone is a weak judge: the reverse model repairs the forward model's errors. Real
training pairs have references, so before synthesis the tool makes synthetic rows from them
exactly as synthesis does, per origin:

- ``bt``: back-translate the real target; truth = chrF of the synthetic source vs the real source;
- ``ft``: forward-translate the real source; truth = chrF of the synthetic target vs the real target;

scores them with every signal it has (round-trip chrF and BLEU, fluency under a character LM of
the run's real training text, model log-probabilities when the backend gives them, length and
language-ID signals), and chooses how to predict the truth, honestly:

1. every candidate model (``CANDIDATES``; ``rt_chrf`` alone is always one) is cross-validated
   (``FOLDS``-fold, repeated ``REPEATS`` times, seeded); its out-of-fold predictions, averaged over
   the repeats, give its out-of-sample Spearman with the truth, with a ``LEVEL`` paired-bootstrap
   interval, and the interval of its difference from ``rt_chrf``'s;
2. a richer model is chosen only when the lower end of that difference's interval is above 0
   (the best such one by its mean difference); otherwise ``quality`` is ``rt_chrf`` mapped by a
   least-squares line with a positive slope (``monotone``: the same ranking as ``rt_chrf``, in
   reference-chrF units); below ``MIN_PAIRS`` real pairs, ``quality`` is ``rt_chrf`` itself;
3. ``quality`` is clipped to [0, 100] for every row. Paraphrases have no reference to calibrate
   on: their ``quality`` is their ``rt_chrf``, never a scale fitted to another origin.

Every fall-back and every unreliable fit is a warning (stderr, ``calibration.json``,
``stats.json``, the report). The calibration also scores the real pairs themselves as if they
were synthetic (``real_rows``), so filters can take thresholds from real data
(``real_percentile``).
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from translate_synth.text import stable_int

# below this many real pairs the fit is noise (measured: eval/selection_study.py); rt_chrf is used
MIN_PAIRS = 100
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
# below MIN_PAIRS
IDENTITY = {"method": "rt_chrf", "intercept": 0.0,
            "features": {"rt_chrf": {"mean": 0.0, "std": 1.0, "weight": 1.0}}}


def _g(x: float) -> float:
    """Six significant digits: compact JSON that never rounds a small std to zero."""
    return float(f"{x:.6g}")


def _sides(row: dict) -> tuple[str, str, str]:
    """(synthetic text, authentic text, synthetic side name)."""
    auth = row.get("authentic", "target")
    syn_side = "target" if auth == "source" else "source"
    return row[syn_side], row[auth], syn_side


def features(row: dict, langs: dict, lm=None) -> dict[str, float | None]:
    """The signals of one row, from its stored scores and its text. ``lm(side)`` gives the
    fluency model of a side when the row has no stored fluency score."""
    from translate_synth.filters.langid import confidence, known

    sc = row.get("scores", {})
    syn, auth, syn_side = _sides(row)
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
    return {"method": "ridge", "intercept": _g(b0),
            "features": {f: {"mean": _g(stats[f][0]), "std": _g(stats[f][1]),
                             "weight": _g(float(wi))} for f, wi in zip(names, w)}}


def monotone_map(x: list[float], y: list[float]) -> dict | None:
    """rt_chrf -> reference-chrF units by a least-squares line; None unless the slope is > 0."""
    xv, yv = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(xv) < 2 or xv.std() < 1e-12:
        return None
    slope = float(np.cov(xv, yv, bias=True)[0, 1] / xv.var())
    if slope <= 0:
        return None
    return {"method": "monotone", "intercept": _g(float(yv.mean() - slope * xv.mean())),
            "features": {"rt_chrf": {"mean": 0.0, "std": 1.0, "weight": _g(slope)}}}


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


def _rho(a: np.ndarray, b: np.ndarray) -> float:
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


def bootstrap(preds: dict[str, np.ndarray], y: np.ndarray, seed: int, baseline: str = BASELINE,
              n_boot: int = BOOTSTRAP, level: float = LEVEL) -> dict:
    """Spearman of each prediction with y, its interval, and the paired interval of its
    difference from ``baseline``'s (the same resampled rows for both)."""
    rng = np.random.default_rng([seed, 7919])
    n = len(y)
    names = list(preds)
    draws = {k: np.empty(n_boot) for k in names}
    for b in range(n_boot):
        idx = rng.integers(0, n, n)
        yb = y[idx]
        for k in names:
            draws[k][b] = _rho(preds[k][idx], yb)
    lo_q, hi_q = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    out = {}
    for k in names:
        d = draws[k] - draws[baseline]
        out[k] = {"spearman": round(_rho(preds[k], y), 4),
                  "interval": [round(float(np.percentile(draws[k], lo_q)), 4),
                               round(float(np.percentile(draws[k], hi_q)), 4)]}
        if k != baseline:
            out[k]["diff_vs_" + baseline] = {
                "mean": round(float(d.mean()), 4),
                "interval": [round(float(np.percentile(d, lo_q)), 4),
                             round(float(np.percentile(d, hi_q)), 4)]}
    return out


def select(X: list[dict], y: list[float], seed: int, min_pairs: int = MIN_PAIRS) -> dict:
    """Choose and fit the quality model of one origin: {"weights", "method", "selected",
    "candidates", "signals", "warnings"}."""
    n = len(y)
    yv = np.asarray(y, dtype=float)
    out: dict = {"n": n, "warnings": []}
    # each signal alone, on all pairs (no fit: nothing to cross-validate)
    out["signals"] = {}
    for f in FEATURES:
        pairs = [(x[f], v) for x, v in zip(X, y) if x.get(f) is not None]
        if len(pairs) >= 3:
            out["signals"][f] = spearman([p[0] for p in pairs], [p[1] for p in pairs])
    if n < min_pairs:
        out.update(weights=IDENTITY, method="rt_chrf", selected=BASELINE, candidates={})
        out["warnings"].append(f"only {n} real pairs (< {min_pairs}): too few to fit or check a "
                               "quality model; quality = rt_chrf")
        return out
    preds, tried = {}, {}
    base = np.array([x.get("rt_chrf") or 0.0 for x in X], dtype=float)
    preds[BASELINE] = base
    for name, names in CANDIDATES.items():
        if name == BASELINE:
            continue
        cols = usable(X, names)
        key = tuple(cols)
        if not cols or key in tried.values() or cols == ["rt_chrf"]:
            continue  # a feature is missing (e.g. no log-probabilities): same as another one
        tried[name] = key
        preds[name] = oof_predictions(X, y, cols, seed)
    cands = bootstrap(preds, yv, seed)
    for name, key in tried.items():
        cands[name]["features"] = list(key)
    out["candidates"] = cands
    better = {k: c["diff_vs_" + BASELINE]["mean"] for k, c in cands.items()
              if k != BASELINE and c["diff_vs_" + BASELINE]["interval"][0] > 0}
    if better:
        best = max(better, key=better.get)
        out.update(weights=fit(X, y, tried[best]), method="fitted", selected=best)
        return out
    mapped = monotone_map(list(base), y)
    if mapped is None:
        out.update(weights=IDENTITY, method="rt_chrf", selected=BASELINE)
        out["warnings"].append("rt_chrf does not rise with reference chrF on these real pairs: "
                               "the round trip says nothing here; quality = rt_chrf, unreliable")
        return out
    out.update(weights=mapped, method="monotone", selected=BASELINE)
    if cands[BASELINE]["interval"][0] <= 0:
        out["warnings"].append(f"rt_chrf's Spearman with reference chrF is not above 0 with "
                               f"{int(LEVEL * 100)} % confidence "
                               f"({cands[BASELINE]['interval']}): quality ranks rows barely "
                               "better than chance here")
    return out


def sample_pairs(pairs, max_rows: int, seed: int) -> list[tuple[str, str]]:
    """A seeded, order-independent sample of at most ``max_rows`` real pairs (streams: keeps
    only ``max_rows`` pairs in memory)."""
    return heapq.nsmallest(max_rows, pairs, key=lambda p: stable_int(seed, "calibrate", *p))


def _fluency_cross_fitted(rows: list[dict], train_pairs: list[tuple[str, str]],
                          seed: int) -> None:
    """Add ``fluency_synthetic`` to calibration rows (each made from the real pair ``_pair``)
    with LMs that never saw that pair: the training pairs are split into groups, and the row of
    a pair is scored by the LM of every other group (else its own reference would be in the
    LM's text and fluency would look better than it is)."""
    from translate_synth.fluency import FOLDS as LM_FOLDS, cross_fitted

    def group(p):
        return stable_int(seed, "fluency-fold", *p) % LM_FOLDS

    groups = [group(p) for p in train_pairs]
    for syn_side, k in (("source", 0), ("target", 1)):
        idx = [i for i, r in enumerate(rows) if _sides(r)[2] == syn_side]
        if not idx:
            continue
        got = cross_fitted([p[k] for p in train_pairs], groups,
                           [_sides(rows[i])[0] for i in idx],
                           [group(rows[i]["_pair"]) for i in idx])
        for i, v in zip(idx, got):
            if v is not None:
                rows[i]["scores"]["fluency_synthetic"] = v


def calibrate(pairs: list[tuple[str, str]], translator, scorer, langs: dict, decoding,
              rt_decoding, seed: int, model_scores=None, origins=("bt",),
              train_pairs: list[tuple[str, str]] | None = None,
              min_pairs: int = MIN_PAIRS) -> dict:
    """Make synthetic rows from real pairs per origin, score them, choose the quality model.

    ``langs`` = {"source": src, "target": tgt}; ``model_scores(rows)`` adds logprob scores to
    rows in place when the backend can (None: skip); ``train_pairs``: the run's real training
    pairs (a sample) for the fluency LMs (default: ``pairs``). Returns a JSON-serialisable dict.
    """
    from sacrebleu.metrics import CHRF

    src, tgt = langs["source"], langs["target"]
    origins = [o for o in CALIBRATED if o in origins]
    if not pairs:
        return uncalibrated("no real pairs to calibrate on", origins)
    train_pairs = train_pairs or pairs
    sources = [p[0] for p in pairs]
    targets = [p[1] for p in pairs]
    chrf = CHRF()
    chrf.sentence_score("a", ["a"])  # sacrebleu has a signature only once it has scored
    real_rows, by_origin = [], {}
    rt_real = [h[0] for h in translator.translate(sources, src, tgt, rt_decoding, seed=seed)]
    for p, rr in zip(pairs, rt_real):
        real_rows.append({"source": p[0], "target": p[1], "authentic": "target",
                          "origin": "real", "roundtrip": rr, "scores": scorer.score(rr, p[1]),
                          "_pair": p})
    for origin in origins:
        auth, syn = ("target", "source") if origin == "bt" else ("source", "target")
        a_lang, s_lang = (tgt, src) if origin == "bt" else (src, tgt)
        auth_text = targets if origin == "bt" else sources
        ref_text = sources if origin == "bt" else targets
        hyp = [h[0] for h in translator.translate(auth_text, a_lang, s_lang, decoding, seed=seed)]
        back = [h[0] for h in translator.translate(hyp, s_lang, a_lang, rt_decoding, seed=seed)]
        rows = []
        for p, a, h, b in zip(pairs, auth_text, hyp, back):
            rows.append({auth: a, syn: h, "authentic": auth, "origin": origin, "roundtrip": b,
                         "scores": scorer.score(b, a), "_pair": p})
        by_origin[origin] = (rows, [chrf.sentence_score(h, [r]).score
                                    for h, r in zip(hyp, ref_text)])
    every = real_rows + [r for rows, _ in by_origin.values() for r in rows]
    if model_scores is not None:
        model_scores(every)
    _fluency_cross_fitted(every, train_pairs, seed)
    out = {"n": len(pairs), "label": f"reference chrF of the synthetic side vs the real text "
                                     f"it replaces ({chrf.get_signature().format()})",
           "origins": {}, "warnings": []}
    for origin, (rows, y) in by_origin.items():
        X = [features(r, langs) for r in rows]
        sel = select(X, y, seed, min_pairs)
        sel["reference_chrf_mean"] = round(float(np.mean(y)), 4)
        sel["note"] = _note(origin, sel)
        out["origins"][origin] = sel
        out["warnings"] += [f"{origin}: {w}" for w in sel["warnings"]]
    out["origins"]["paraphrase"] = {"method": "rt_chrf", "weights": IDENTITY,
                                    "note": "no reference exists for a paraphrase: quality = "
                                            "rt_chrf (same units, never a scale fitted to "
                                            "another origin)"}
    out["note"] = "; ".join(f"{o}: {v['note']}" for o, v in out["origins"].items()
                            if o in by_origin) or "no calibrated origin"
    for r in every:
        r.pop("_pair", None)
    out["real_rows"] = real_rows
    return out


def _note(origin: str, sel: dict) -> str:
    c = sel.get("candidates", {})
    if sel["method"] == "fitted":
        s = c[sel["selected"]]
        return (f"model '{sel['selected']}' fitted on {sel['n']} real pairs: out-of-sample "
                f"Spearman {s['spearman']} {s['interval']} vs rt_chrf "
                f"{c[BASELINE]['spearman']} {c[BASELINE]['interval']}")
    if sel["method"] == "monotone":
        b = c[BASELINE]
        return (f"rt_chrf mapped to reference-chrF units on {sel['n']} real pairs (no richer "
                f"model beat rt_chrf out of sample; rt_chrf Spearman {b['spearman']} "
                f"{b['interval']})")
    return "quality = rt_chrf (not calibrated: see the warning)"


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

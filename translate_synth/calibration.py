"""Calibration rows: the run's real pairs made into synthetic rows exactly as synthesis makes
them, scored, and the quality model of each origin chosen on them (``quality_select.select``).

Per origin with a reference: ``bt`` back-translates the real target (truth: chrF of the synthetic
source vs the real source), ``ft`` forward-translates the real source (truth: chrF vs the real
target). The real pairs themselves are also scored as if they were synthetic (``real_rows``), in
both shapes a synthetic row can have: ``authentic: target`` (the real source plays the synthetic
side, round-tripped through the target language) and ``authentic: source`` (the real target plays
the synthetic side, round-tripped through the source language), so ``real_percentile`` compares
each origin with real pairs of its own shape, in its own units.
"""

from __future__ import annotations

import heapq

import numpy as np

from translate_synth.quality import (BASELINE, CALIBRATED, IDENTITY, MIN_PAIRS, PRIOR,
                                     PRIOR_MIN_PAIRS, row_sides, features, uncalibrated)
from translate_synth.quality_select import select
from translate_synth.text import stable_int


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
        idx = [i for i, r in enumerate(rows) if row_sides(r)[2] == syn_side]
        if not idx:
            continue
        got = cross_fitted([p[k] for p in train_pairs], groups,
                           [row_sides(rows[i])[0] for i in idx],
                           [group(rows[i]["_pair"]) for i in idx])
        for i, v in zip(idx, got):
            if v is not None:
                rows[i]["scores"]["fluency_synthetic"] = v


def _real_rows(pairs: list[tuple[str, str]], translator, scorer, src: str, tgt: str,
               rt_decoding, seed: int) -> list[dict]:
    """The real pairs in both shapes: the real source as the synthetic side (round trip through
    the target language: a back-translation's shape), then the real target as it (a forward
    translation's and a target paraphrase's shape)."""
    real_rows = []
    for auth, k, (a_lang, s_lang) in (("target", 0, (tgt, src)), ("source", 1, (src, tgt))):
        syn_text = [p[k] for p in pairs]
        rt_real = [h[0] for h in translator.translate(syn_text, s_lang, a_lang, rt_decoding,
                                                      seed=seed)]
        for p, rr in zip(pairs, rt_real):
            real_rows.append({"source": p[0], "target": p[1], "authentic": auth,
                              "origin": "real", "roundtrip": rr,
                              "scores": scorer.score(rr, p[1 - k]), "_pair": p})
    return real_rows


def _origin_rows(origin: str, pairs: list[tuple[str, str]], translator, scorer, chrf, src: str,
                 tgt: str, decoding, rt_decoding, seed: int) -> tuple[list[dict], list[float]]:
    """The real pairs made into rows of ``origin`` (translated, round-tripped, scored) and each
    row's reference chrF (its synthetic side against the real text it replaces)."""
    sources = [p[0] for p in pairs]
    targets = [p[1] for p in pairs]
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
    return rows, [chrf.sentence_score(h, [r]).score for h, r in zip(hyp, ref_text)]


def calibrate(pairs: list[tuple[str, str]], translator, scorer, langs: dict, decoding,
              rt_decoding, seed: int, model_scores=None, origins=("bt",),
              train_pairs: list[tuple[str, str]] | None = None,
              min_pairs: int = MIN_PAIRS, prior_min: int = PRIOR_MIN_PAIRS) -> dict:
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
    chrf = CHRF()
    chrf.sentence_score("a", ["a"])  # sacrebleu has a signature only once it has scored
    real_rows = _real_rows(pairs, translator, scorer, src, tgt, rt_decoding, seed)
    by_origin = {}
    for origin in origins:
        by_origin[origin] = _origin_rows(origin, pairs, translator, scorer, chrf, src, tgt,
                                         decoding, rt_decoding, seed)
    every = real_rows + [r for rows, _ in by_origin.values() for r in rows]
    if model_scores is not None:
        model_scores(every)
    _fluency_cross_fitted(every, train_pairs, seed)
    out = {"n": len(pairs), "label": f"reference chrF of the synthetic side vs the real text "
                                     f"it replaces ({chrf.get_signature().format()})",
           "origins": {}, "warnings": []}
    for origin, (rows, y) in by_origin.items():
        X = [features(r, langs) for r in rows]
        sel = select(X, y, seed, min_pairs, prior=PRIOR.get(origin), prior_min=prior_min)
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
    b = c.get(BASELINE, {})
    if sel["method"] == "fitted":
        s = sel["nested"]
        return (f"model '{sel['selected']}' fitted on {sel['n']} real pairs: nested "
                f"out-of-sample Spearman {s['spearman']} {s['interval']} (the choice redone "
                f"without each fold) vs rt_chrf {b['spearman']} {b['interval']}")
    if sel["method"] == "prior":
        s = c["prior"]
        return (f"prior ({' + '.join(s['features'])}, weights chosen on dev books) mapped to "
                f"reference-chrF units on {sel['n']} real pairs: Spearman {s['spearman']} "
                f"{s['interval']} vs rt_chrf {b['spearman']} {b['interval']}")
    if sel["method"] == "monotone":
        why = "the prior was vetoed or has no signal" if "prior" in c or PRIOR.get(origin) \
            else "no prior for this origin"
        return (f"rt_chrf mapped to reference-chrF units on {sel['n']} real pairs ({why}; "
                f"rt_chrf Spearman {b['spearman']} {b['interval']})")
    return "quality = rt_chrf (not calibrated: see the warning)"



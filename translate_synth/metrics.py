"""Corpus metrics, in one place: BLEU, chrF and chrF++ (sacrebleu) with their signatures, and the
paired significance of a difference between two systems (sacrebleu's ``PairedTest``).

Used by ``evaluate``, ``train`` (its valid-set scores), ``ablate`` and the eval/ scripts. The
round-trip scoring of each synthetic row (``score.py``) is the scoring stage's own sentence-level
job and stays there.

sacrebleu keeps a few things this package needs behind underscored names (the seed a paired test
used, per-sentence sufficient statistics, a score from summed statistics, BLEU's own
preprocessing and reference length); each is wrapped here, once, so the rest of the package
never touches a sacrebleu private name.
"""

from __future__ import annotations

METRICS = ("bleu", "chrf", "chrf++")
PAIRED_TESTS = {"bs": "paired bootstrap resampling", "ar": "paired approximate randomisation"}


def corpus_metric_args(scoring, names: tuple[str, ...] = METRICS) -> dict[str, dict]:
    """sacrebleu constructor arguments of each corpus metric in ``names``, with the run's BLEU
    tokenisation and case (``scoring``: the config's ``scoring`` section)."""
    args = {"bleu": {"tokenize": scoring.bleu_tokenize, "lowercase": scoring.lowercase},
            "chrf": {"word_order": 0, "lowercase": scoring.lowercase},
            "chrf++": {"word_order": 2, "lowercase": scoring.lowercase}}
    return {k: args[k] for k in names}


def make_metrics(args: dict[str, dict]) -> dict:
    """sacrebleu metric objects, one per key of ``args`` (``bleu``: BLEU; ``chrf``, ``chrf++``:
    CHRF), built with its arguments."""
    from sacrebleu.metrics import BLEU, CHRF

    return {k: (BLEU if k == "bleu" else CHRF)(**a) for k, a in args.items()}


def corpus_scores(hyps: list[str], refs: list[str], args: dict[str, dict],
                  digits: int | None = None) -> tuple[dict, dict]:
    """({metric: score}, {metric: signature}) of sacrebleu's corpus metrics (one per key of
    ``args``), each score rounded to ``digits`` when given."""
    scores, sigs = {}, {}
    for name, m in make_metrics(args).items():
        s = m.corpus_score(hyps, [refs]).score
        scores[name] = s if digits is None else round(s, digits)
        sigs[name] = str(m.get_signature())
    return scores, sigs


def paired_significance(hyps: list[str], base: list[str], refs: list[str], args: dict,
                        test: str = "bs", n_samples: int = 0) -> dict:
    """sacrebleu's ``PairedTest`` of the model against the baseline on one set: per metric the
    two scores, their difference, the p-value (two-sided: how likely a difference this large is
    by chance) and the 95 % interval half-widths; the test's signature (seed, resamples)."""
    from sacrebleu.significance import PairedTest

    metrics = make_metrics(args)
    test_names = {m.corpus_score(["a"], [["a"]]).name: k for k, m in metrics.items()}
    pt = PairedTest([("baseline", base), ("model", hyps)], metrics, [refs], test_type=test,
                    n_samples=n_samples, n_ar_confidence=-1 if test == "bs" else 0)
    sigs, res = pt()
    out = {"test": test, "name": PAIRED_TESTS[test], "n_samples": pt.n_samples,
           "seed": paired_test_seed(pt), "metrics": {}}
    for sname, key in test_names.items():
        b, m = res[sname]
        out["metrics"][key] = {"model": _float(m.score), "baseline": _float(b.score),
                               "difference": _float(m.score) - _float(b.score),
                               "p_value": _float(m.p_value),
                               "model_mean": _float(m.mean), "model_ci": _float(m.ci),
                               "baseline_mean": _float(b.mean), "baseline_ci": _float(b.ci),
                               "signature": str(sigs[sname])}
    return out


def _float(x) -> float | None:
    return None if x is None else float(x)  # sacrebleu returns numpy numbers here


# ---------------------------------------------------------------- sacrebleu's private names

def paired_test_seed(pt) -> int | None:
    """The seed a sacrebleu ``PairedTest`` resampled with (``SACREBLEU_SEED``, else 12345; it
    shows it only in its signature string, so its private ``_seed`` is read here)."""
    return pt._seed


def segment_stats(metric, hyps: list[str], refs: list[str]) -> list:
    """sacrebleu's per-sentence sufficient statistics (one list per row), as its paired test
    holds them (private ``_extract_corpus_statistics``: sacrebleu has no public way to get
    them, and a paired bootstrap over many systems recomputes scores from them cheaply)."""
    return metric._extract_corpus_statistics(hyps, [refs])


def score_from_stats(metric, stats) -> float:
    """The metric's score from summed sufficient statistics (private
    ``_compute_score_from_stats``: the public scorers take text, not statistics)."""
    return metric._compute_score_from_stats(stats).score


def preprocess_segment(bleu, text: str) -> str:
    """A sentence as sacrebleu's BLEU tokenises (and lowercases) it before counting n-grams
    (private ``_preprocess_segment``: the same numbers as ``sentence_score`` from n-grams
    counted once)."""
    return bleu._preprocess_segment(text)


def closest_ref_len(bleu, hyp_len: int, ref_lens) -> int:
    """BLEU's reference length for a hypothesis of ``hyp_len`` tokens: the closest of
    ``ref_lens`` (private ``_get_closest_ref_len``, as ``sentence_score`` uses it)."""
    return bleu._get_closest_ref_len(hyp_len, ref_lens)

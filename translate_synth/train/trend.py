"""The divergence alarm's statistic: the trend of a valid set's per-row scores over the last
evaluations, with a bootstrap interval over the rows.

Each evaluation scores every row of a valid set (sentence chrF, ``sentence_chrf``). Over the
last ``K + 1`` evaluations of the same rows, a row's *rise* is its least-squares slope on the
evaluation index times ``K`` (what the fitted line gains over the window); the set's rise is the
mean over rows. That mean is linear in the rows, so a bootstrap over the rows (resampling whole
rows, each with all its evaluations: the paired design) needs only each row's own rise. The
gap between two sets (different rows) is bootstrapped with an independent resample of each.
A trend must not rest on one evaluation: the fit is redone with each evaluation of the window
left out, and the least rising of those fits is what the alarm reads (``robust``). Pure numpy
(and sacrebleu for the sentence scores); seeded, so a resumed training draws the same
resamples.
"""

from __future__ import annotations

import numpy as np


def sentence_chrf(hyps: list[str], refs: list[str], lowercase: bool = False) -> list[float]:
    """chrF (character 6-grams, beta 2, as the corpus score) of each hypothesis against its
    reference."""
    from sacrebleu.metrics import CHRF

    m = CHRF(word_order=0, lowercase=lowercase)
    return [round(m.sentence_score(h, [r]).score, 4) for h, r in zip(hyps, refs)]


def row_rises(scores: list[list[float]], t=None) -> np.ndarray:
    """``scores``: one list per evaluation (oldest first), one score per row (the same rows
    every time); ``t``: the evaluations' positions (default 0, 1, ...). Each row's
    least-squares rise over the window: slope x (last position - first)."""
    s = np.asarray(scores, dtype=float)  # (evaluations, rows)
    t = np.arange(s.shape[0], dtype=float) if t is None else np.asarray(t, dtype=float)
    if s.shape[0] < 2:
        return np.zeros(s.shape[1] if s.ndim == 2 else 0)
    c = t - t.mean()
    return (c / (c ** 2).sum() * (t[-1] - t[0])) @ s


def boot_means(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` bootstrap means of ``x`` (rows resampled with replacement)."""
    if len(x) == 0:
        return np.zeros(n)
    return x[rng.integers(0, len(x), size=(n, len(x)))].mean(axis=1)


def interval(boot: np.ndarray, confidence: float) -> tuple[float, float]:
    """Percentile interval of bootstrap values (two-sided, ``confidence`` e.g. 0.95)."""
    a = (1 - confidence) / 2
    lo, hi = np.quantile(boot, [a, 1 - a])
    return round(float(lo), 4), round(float(hi), 4)


def trend(real: list[list[float]], synthetic: list[list[float]], n_boot: int,
          confidence: float, seed) -> dict:
    """Rise over the window of the real set, the synthetic set and their gap (synthetic minus
    real), each with a bootstrap interval over the rows. ``robust``: the same fit with each
    evaluation of the window left out in turn, the least rising of them (the synthetic rise
    and the gap's lower bound): what no single evaluation makes."""
    rng = np.random.default_rng(seed)

    def fit(keep):
        r = row_rises([real[i] for i in keep], keep)
        s = row_rises([synthetic[i] for i in keep], keep)
        br, bs = boot_means(r, n_boot, rng), boot_means(s, n_boot, rng)
        return r.mean(), s.mean(), br, bs

    n = len(real)
    r, s, br, bs = fit(list(range(n)))
    out = {"real_rise": round(float(r), 4), "real_rise_ci": interval(br, confidence),
           "synthetic_rise": round(float(s), 4), "synthetic_rise_ci": interval(bs, confidence),
           "gap_rise": round(float(s - r), 4), "gap_rise_ci": interval(bs - br, confidence)}
    syn_min, gap_lo_min = out["synthetic_rise"], out["gap_rise_ci"][0]
    if n >= 3:
        for j in range(n):
            _, s_j, br_j, bs_j = fit([i for i in range(n) if i != j])
            syn_min = min(syn_min, round(float(s_j), 4))
            gap_lo_min = min(gap_lo_min, interval(bs_j - br_j, confidence)[0])
    out["robust"] = {"synthetic_rise": syn_min, "gap_rise_ci_low": gap_lo_min}
    return out

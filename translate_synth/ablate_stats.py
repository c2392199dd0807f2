"""The numbers of ``translate-synth ablate``: paired differences between two training conditions
with a 95 % interval and a p-value, per seed and across seeds; the budget block (has each
real-valid curve flattened?); and the sentence that says them.

Per seed: sacrebleu's paired bootstrap, replicated on its own sufficient statistics (the same
resamples: ``numpy.random.default_rng(12345).choice(rows, (1000, rows))``, the same p-value:
how often a resampled |difference| minus its mean exceeds the observed |difference|, plus one
over the resamples plus one), so the p equals ``sacrebleu.significance.PairedTest``'s; the
interval is the 2.5th to 97.5th percentile of the resampled differences (condition A minus B
on the same resampled rows).

Across seeds: a two-level bootstrap: each resample draws the rows (as above, shared by every
model: the pairing) and the seeds (with replacement); its difference is the mean over the
drawn seeds of A's corpus score minus B's, with seed s of A paired with seed s of B (the same
initialisation and batch order seed). So the interval covers both the test set's sampling and
the training seeds' spread; with one seed it is the per-seed interval.
"""

from __future__ import annotations

import numpy as np

from translate_synth.metrics import score_from_stats, segment_stats

N_SAMPLES = 1000
LATE_RISE = 0.5  # chrF: a best real-valid score that rose less over the second half: flat
SEED = 12345  # sacrebleu's default (SACREBLEU_SEED)


def sentence_stats(metric, hyps: list[str], refs: list[str]) -> np.ndarray:
    """sacrebleu's per-sentence sufficient statistics (rows x stats), as its paired test
    holds them (float32)."""
    return np.array(segment_stats(metric, hyps, refs), dtype="float32")


def _score(metric, stats: np.ndarray) -> float:
    return float(score_from_stats(metric, stats.sum(0)))


def paired_difference(metric, a: list[np.ndarray], b: list[np.ndarray],
                      n_samples: int = N_SAMPLES, seed: int = SEED) -> dict:
    """A minus B (lists of per-sentence statistics, one array per training seed, all on the
    same rows): observed mean difference, 95 % interval, p-value, and per seed the same."""
    if len(a) != len(b) or not a:
        raise ValueError("one statistics array per seed for both conditions")
    rows = a[0].shape[0]
    rng = np.random.default_rng(seed)
    idx = rng.choice(rows, size=(n_samples, rows), replace=True)
    n_seeds = len(a)
    sample = np.empty((n_samples, n_seeds))
    per_seed = []
    for s in range(n_seeds):
        obs = _score(metric, a[s]) - _score(metric, b[s])
        sa = np.array([_score(metric, a[s][i]) for i in idx])
        sb = np.array([_score(metric, b[s][i]) for i in idx])
        d = sa - sb
        sample[:, s] = d
        per_seed.append(_summary(obs, d))
    if n_seeds == 1:
        across = per_seed[0]
    else:
        pick = rng.integers(n_seeds, size=(n_samples, n_seeds))
        d = np.take_along_axis(sample, pick, axis=1).mean(1)
        across = _summary(float(np.mean([p["difference"] for p in per_seed])), d)
    return {**across, "seeds": n_seeds, "rows": rows, "n_samples": n_samples, "seed": seed,
            "per_seed": per_seed}


def _summary(observed: float, d: np.ndarray) -> dict:
    mag = np.abs(d)
    p = (int(np.sum(mag - mag.mean() > abs(observed))) + 1) / (len(d) + 1)
    if observed == 0 and not mag.any():  # the same output: no difference, not a significant one
        p = 1.0
    lo, hi = np.percentile(d, [2.5, 97.5])
    return {"difference": round(float(observed), 4), "ci95": [round(float(lo), 4),
                                                              round(float(hi), 4)],
            "p_value": round(p, 4)}


# ---------------------------------------------------------------- the budget

def curve_state(curve: list[list], steps: int,
                stopped: str) -> tuple[str | None, float | None]:
    """Had the real-valid chrF stopped rising? ``flat``: it rose (by ``LATE_RISE`` or more
    above the first evaluation) and then its best rose by less than ``LATE_RISE`` over the
    second half of the steps, or training stopped early; ``rising``: the best rose by
    ``LATE_RISE`` or more over the second half; ``never rose``: it never got ``LATE_RISE``
    above the first evaluation (not learning yet, at this budget); None with fewer than 3
    evaluations. Returns (state, the rise over the second half)."""
    if len(curve) < 3:
        return ("flat" if stopped == "early_stopping" else None), None
    first = [c for s, c in curve if s <= steps / 2]
    if not first:
        return None, None
    best = max(c for _, c in curve)
    rise = round(best - max(first), 4)
    if best - curve[0][1] < LATE_RISE:
        return "never rose", rise
    if stopped == "early_stopping" or rise < LATE_RISE:
        return "flat", rise
    return "rising", rise


def budget(models: list[dict], t, n_seeds: int) -> dict:
    """Steps, token batches and target tokens per condition, and whether the real-valid curves
    had flattened (all ``flat``: True; any ``rising`` or ``never rose``: False; else None)."""
    states = [m["curve_state"] for m in models]
    flat = False if {"rising", "never rose"} & set(states) else \
        (None if None in states or not states else True)
    steps = sorted({m["steps"] for m in models})
    tok: dict = {}
    for m in models:
        tok.setdefault(m["condition"], []).append(m["tokens"])
    return {"steps": steps[0] if len(steps) == 1 else steps, "max_steps": t.max_steps,
            "max_tokens": t.max_tokens, "seeds": n_seeds, "eval_every": t.eval_every,
            "target_tokens": {c: round(sum(v) / len(v)) for c, v in tok.items()},
            "flattened": flat, "late_rise_below": LATE_RISE,
            "curves": {f"{m['condition']}-seed{m['seed']}": m["curve_state"] for m in models}}


# ---------------------------------------------------------------- words

QUESTIONS = {
    "hybrid-real": {"a": "hybrid", "b": "real",
                    "question": "Does the synthetic data help?",
                    "what": "the synthetic data", "plus": "adds", "minus": "costs"},
    "hybrid-unfiltered": {"a": "hybrid", "b": "unfiltered",
                          "question": "Do the quality filters help?",
                          "what": "the quality filters", "plus": "add", "minus": "cost"},
}


def _signed(x: float) -> str:
    return f"{'+' if x >= 0 else ''}{x:.1f}"


def budget_words(budget: dict) -> str:
    steps = budget.get("steps")
    seeds = budget.get("seeds")
    states = set((budget.get("curves") or {}).values())
    where = f"at {steps:,} steps" if isinstance(steps, int) else "at this budget"
    if "rising" in states:
        state = "the models were still learning: the real-valid curves had not flattened"
    elif "never rose" in states:
        state = ("the real-valid chrF never rose: the models had not started to learn at this "
                 "budget")
    elif states == {"flat"}:
        state = "the real-valid curves had flattened"
    else:
        state = "too few evaluations to tell whether the models had stopped learning"
    return f"{where} ({seeds} seed{'s' if seeds != 1 else ''}; {state})"


def verdict(key: str, cmp: dict | None, budget: dict, metric: str = "chrf",
            conditions: tuple = ()) -> str:
    """One sentence per question: the difference, its interval, p and the budget it holds
    for; "can't tell at this size" when the interval spans 0."""
    q = QUESTIONS[key]
    if cmp is None:
        return (f"{q['question']} Not asked: --conditions has no "
                f"{q['b'] if q['b'] not in conditions else q['a']} (give "
                f"--conditions {q['a']},{q['b']} to ask it).")
    m = cmp[metric]
    lo, hi = m["ci95"]
    name = {"chrf": "chrF", "bleu": "BLEU"}[metric]
    p = "p < 0.01" if m["p_value"] < 0.01 else f"p = {m['p_value']:.2f}"
    nums = f"{_signed(m['difference'])} {name} [{_signed(lo)}, {_signed(hi)}], {p}"
    rows = f" on the real test set ({m['rows']} rows; {q['a']} minus {q['b']})"
    b = budget_words(budget)
    if lo <= 0 <= hi:
        return f"{q['question']} Can't tell at this size: {nums}{rows}, {b}."
    verb = q["plus"] if m["difference"] > 0 else q["minus"]
    return f"{q['question']} {b[0].upper() + b[1:]}, {q['what']} {verb} {nums}{rows}."

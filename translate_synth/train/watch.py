"""Watching a model train: the best checkpoint, early stopping, the divergence alarm, the curves.

Every evaluation scores the model on the run's real valid set and on its synthetic valid set.
Only the real set decides: the best checkpoint and early stopping use real-valid ``train.select``
(chrF by default). The synthetic set is watched for one failure: a model that keeps getting
better at reproducing the synthetic text while it stops getting better on real text is learning
the synthesis model's habits, not the language.

**Divergence alarm** (``train.divergence.*``). Every evaluation scores each row of both valid
sets (sentence chrF, ``trend.py``). At an evaluation with ``K = window`` evaluations before it,
the alarm reads the trend over those ``K + 1`` evaluations: each set's *rise* (the least-squares
line through its per-row scores, gained over the window, averaged over rows) and the *gap* rise
(synthetic minus real), each with a bootstrap interval over the rows (``bootstrap`` resamples,
``confidence``). It fires when all three hold: the gap's interval lies above zero (the
synthetic set pulls away, beyond what resampling the rows explains); the synthetic set rose by
at least ``delta`` (an effect worth a warning); the real set's rise is not shown to reach
``real_delta`` (its interval starts below it: real text has stopped improving). The first two
must also hold with any one evaluation of the window left out (``robust``): a trend that no
single lucky evaluation makes. Below ``min_rows`` rows in either set it does not judge: the
evaluation says "cannot judge" and the run counts those evaluations (``train.json``
``divergence``). Defaults and why: README, Training on what it emits; measured by
``eval/divergence.py`` (``eval/divergence.md``).
"""

from __future__ import annotations

from translate_synth.train.trend import trend

WINDOW_FIELDS = ("step", "stage", "real_chrf", "real_best_chrf", "synthetic_chrf",
                 "real_sentence_chrf", "synthetic_sentence_chrf")


class Watch:
    """The evaluations so far and what they decide. ``state()`` / ``Watch.from_state`` carry it
    through a checkpoint."""

    def __init__(self, select: str = "chrf", patience: int = 5, delta: float = 2.0,
                 window: int = 3, real_delta: float = 0.5, min_rows: int = 50,
                 bootstrap: int = 1000, confidence: float = 0.95, seed: int = 0):
        self.select, self.patience = select, patience
        self.delta, self.window, self.real_delta = delta, window, real_delta
        self.min_rows, self.bootstrap, self.confidence = min_rows, bootstrap, confidence
        self.seed = seed
        self.history: list[dict] = []
        self.best: dict | None = None
        self.stale = 0  # evaluations in this stage without a better real score
        self.alarms: list[dict] = []
        self.judged = 0  # evaluations the alarm judged (a full window, big enough sets)
        self.abstained = 0  # ... and those it could not judge (a set under min_rows rows)

    @staticmethod
    def value(select: str, real: dict) -> float:
        """Higher is better: the score, or minus the loss."""
        return -real["loss"] if select == "loss" else real[select]

    def update(self, step: int, stage: str, real: dict, synthetic: dict,
               rows: dict | None = None) -> dict:
        """Record one evaluation; ``rows``: {"real": [...], "synthetic": [...]}, each row's
        sentence chrF. Return {"best": bool, "alarm": dict or None, "divergence": "alarm",
        "clear", "cannot judge: ..." or None (window not full yet), "stop_stage": bool}."""
        best_chrf = max([h["real_chrf"] for h in self.history] + [real["chrf"]])
        rows = rows or {}
        mean = {k: round(sum(v) / len(v), 4) if v else None for k, v in rows.items()}
        self.history.append({"step": step, "stage": stage, "real_chrf": real["chrf"],
                             "real_best_chrf": best_chrf, "synthetic_chrf": synthetic["chrf"],
                             "real_sentence_chrf": mean.get("real"),
                             "synthetic_sentence_chrf": mean.get("synthetic"),
                             "rows": {k: list(v) for k, v in rows.items()}})
        for old in self.history[:-1 - self.window]:  # per-row scores: only the window's
            old.pop("rows", None)
        v = self.value(self.select, real)
        is_best = self.best is None or v > self.best["value"]
        if is_best:
            self.best = {"step": step, "stage": stage, "value": v, "select": self.select,
                         "real": real, "synthetic": synthetic}
            self.stale = 0
        else:
            self.stale += 1
        verdict, alarm = self._divergence()
        if alarm:
            self.alarms.append(alarm)
        return {"best": is_best, "alarm": alarm, "divergence": verdict,
                "stop_stage": bool(self.patience) and self.stale >= self.patience}

    def cannot_judge(self, n_real: int, n_synthetic: int) -> str | None:
        """Why the alarm cannot judge sets of these sizes, or None."""
        small = [f"{name} {n} rows" for name, n in (("real valid", n_real),
                                                   ("synthetic valid", n_synthetic))
                 if n < self.min_rows]
        if small:
            return (f"cannot judge: {', '.join(small)} (< train.divergence.min_rows "
                    f"{self.min_rows})")
        return None

    def _divergence(self) -> tuple[str | None, dict | None]:
        h = self.history
        if len(h) <= self.window:
            return None, None
        win = h[-1 - self.window:]
        if any("rows" not in e or set(e["rows"]) != {"real", "synthetic"} for e in win):
            return None, None
        n_real, n_syn = len(win[-1]["rows"]["real"]), len(win[-1]["rows"]["synthetic"])
        why = self.cannot_judge(n_real, n_syn)
        if why or any(len(e["rows"]["real"]) != n_real or
                      len(e["rows"]["synthetic"]) != n_syn for e in win):
            self.abstained += 1
            return why or "cannot judge: the valid sets changed size", None
        self.judged += 1
        b = win[-1]
        t = trend([e["rows"]["real"] for e in win], [e["rows"]["synthetic"] for e in win],
                  self.bootstrap, self.confidence, [self.seed, b["step"], len(h)])
        rb = t["robust"]
        if rb["gap_rise_ci_low"] > 0 and rb["synthetic_rise"] >= self.delta and \
                t["real_rise_ci"][0] < self.real_delta:
            return "alarm", {"step": b["step"], "stage": b["stage"], **t,
                             "rows": {"real": n_real, "synthetic": n_syn},
                             "delta": self.delta, "window": self.window,
                             "real_delta": self.real_delta, "confidence": self.confidence,
                             "curves": [{k: e[k] for k in WINDOW_FIELDS} for e in win]}
        return "clear", None

    def summary(self) -> dict:
        """What the alarm did over the whole training (train.json ``divergence``)."""
        return {"judged": self.judged, "abstained": self.abstained, "alarms": len(self.alarms),
                "min_rows": self.min_rows, "window": self.window, "delta": self.delta,
                "real_delta": self.real_delta, "bootstrap": self.bootstrap,
                "confidence": self.confidence}

    def new_stage(self) -> None:
        self.stale = 0

    def state(self) -> dict:
        return {"history": self.history, "best": self.best, "stale": self.stale,
                "alarms": self.alarms, "judged": self.judged, "abstained": self.abstained}

    @classmethod
    def from_state(cls, state: dict, **kw) -> "Watch":
        w = cls(**kw)
        w.history, w.best = state["history"], state["best"]
        w.stale, w.alarms = state["stale"], state["alarms"]
        w.judged, w.abstained = state.get("judged", 0), state.get("abstained", 0)
        return w


def alarm_text(a: dict) -> str:
    """One line for an alarm (log and error message)."""
    lo, hi = a["gap_rise_ci"]
    return (f"synthetic valid sentence chrF {a['synthetic_rise']:+.1f} over {a['window']} "
            f"evaluations, real {a['real_rise']:+.1f}; gap {a['gap_rise']:+.1f} "
            f"({100 * a['confidence']:.0f} % interval {lo:+.1f} to {hi:+.1f}; "
            f"{a['rows']['synthetic']} and {a['rows']['real']} rows)")


def div_note(d: dict) -> str:
    """How often the alarm judged and abstained (train.json ``divergence``)."""
    return (f"judged at {d['judged']} evaluations, could not judge at {d['abstained']}"
            + (f": a valid set under train.divergence.min_rows {d['min_rows']} rows"
               if d["abstained"] else ""))


def plot_curves(evals: list[dict], alarms: list[dict], best_step: int | None,
                title: str = "") -> bytes:
    """PNG: real vs synthetic valid chrF by step (top), rare-word recall on the real valid set
    by step (bottom); stage changes dotted, the best step a star, alarms red."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from translate_synth.report.plots import png_bytes

    steps = [e["step"] for e in evals]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True)
    ax1.plot(steps, [e["real"]["chrf"] for e in evals], "o-", color="tab:blue",
             label="real valid chrF")
    ax1.plot(steps, [float("nan") if e["synthetic"]["chrf"] is None else e["synthetic"]["chrf"]
                     for e in evals], "s--", color="tab:orange",
             label="synthetic valid chrF")
    best = [e for e in evals if e["step"] == best_step]
    if best:
        ax1.plot([best_step], [best[0]["real"]["chrf"]], "*", color="black", markersize=14,
                 label=f"best (step {best_step})")
    for i, a in enumerate(alarms):
        ax1.axvline(a["step"], color="tab:red", alpha=0.5,
                    label="divergence alarm" if i == 0 else None)
    for k, style in (("rare", "o-"), ("unseen", "^:"), ("frequent", "s--")):
        ys = [((e["real"].get("rare_words") or {}).get(k) or {}).get("recall") for e in evals]
        if any(y is not None for y in ys):
            ax2.plot(steps, [float("nan") if y is None else y for y in ys], style,
                     label=f"{k} words")
    for i in range(1, len(evals)):
        if evals[i]["stage"] != evals[i - 1]["stage"]:
            for ax in (ax1, ax2):
                ax.axvline((steps[i - 1] + steps[i]) / 2, color="grey", linestyle=":")
            ax1.text((steps[i - 1] + steps[i]) / 2, ax1.get_ylim()[1], f" {evals[i]['stage']}",
                     va="top", fontsize=8, color="grey")
    ax1.set_ylabel("chrF")
    ax1.legend(fontsize=8, loc="lower right")
    ax1.set_title(title or "validation by step")
    ax2.set_ylabel("recall (real valid)")
    ax2.set_xlabel("step")
    ax2.set_ylim(-0.02, 1.02)
    if ax2.get_legend_handles_labels()[0]:  # no recall line when no evaluation had one
        ax2.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return png_bytes(fig, dpi=100, style=None)

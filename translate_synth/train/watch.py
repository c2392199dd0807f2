"""Watching a model train: the best checkpoint, early stopping, the divergence alarm, the curves.

Every evaluation scores the model on the run's real valid set and on its synthetic valid set.
Only the real set decides: the best checkpoint and early stopping use real-valid ``train.select``
(chrF by default). The synthetic set is watched for one failure: a model that keeps getting
better at reproducing the synthetic text while it stops getting better on real text is learning
the synthesis model's habits, not the language.

**Divergence alarm.** At an evaluation, with ``K = train.divergence.window`` evaluations before
it: the synthetic-valid chrF rose by at least ``delta`` since K evaluations ago, while the best
real-valid chrF so far rose by less than ``real_delta``. Defaults: ``delta`` 2.0, ``K`` 3,
``real_delta`` 0.5 chrF. Why: corpus chrF on a few hundred sentences moves by a few tenths
between two checkpoints of a model that has stopped learning (sampling noise of the set and of
training), so a rise of 2 points over 3 evaluations is a trend, not noise, and a best-so-far that
moved by under half a point has not moved; three evaluations (1,500 steps at the default
``eval_every``) ask for a sustained trend, not one lucky checkpoint. The alarm is recorded (step,
stage, both rises and both curves over the window) in ``train.json`` and on the evaluation's log
line; ``--stop-on-divergence`` ends training there (the best real checkpoint is still the one
written).
"""

from __future__ import annotations

import io

WINDOW_FIELDS = ("step", "stage", "real_chrf", "real_best_chrf", "synthetic_chrf")


class Watch:
    """The evaluations so far and what they decide. ``state()`` / ``Watch.from_state`` carry it
    through a checkpoint."""

    def __init__(self, select: str = "chrf", patience: int = 5, delta: float = 2.0,
                 window: int = 3, real_delta: float = 0.5):
        self.select, self.patience = select, patience
        self.delta, self.window, self.real_delta = delta, window, real_delta
        self.history: list[dict] = []
        self.best: dict | None = None
        self.stale = 0  # evaluations in this stage without a better real score
        self.alarms: list[dict] = []

    @staticmethod
    def value(select: str, real: dict) -> float:
        """Higher is better: the score, or minus the loss."""
        return -real["loss"] if select == "loss" else real[select]

    def update(self, step: int, stage: str, real: dict, synthetic: dict) -> dict:
        """Record one evaluation; return {"best": bool, "alarm": dict or None,
        "stop_stage": bool}."""
        best_chrf = max([h["real_chrf"] for h in self.history] + [real["chrf"]])
        self.history.append({"step": step, "stage": stage, "real_chrf": real["chrf"],
                             "real_best_chrf": best_chrf, "synthetic_chrf": synthetic["chrf"]})
        v = self.value(self.select, real)
        is_best = self.best is None or v > self.best["value"]
        if is_best:
            self.best = {"step": step, "stage": stage, "value": v, "select": self.select,
                         "real": real, "synthetic": synthetic}
            self.stale = 0
        else:
            self.stale += 1
        alarm = self._divergence()
        if alarm:
            self.alarms.append(alarm)
        return {"best": is_best, "alarm": alarm,
                "stop_stage": bool(self.patience) and self.stale >= self.patience}

    def _divergence(self) -> dict | None:
        h = self.history
        if len(h) <= self.window:
            return None
        a, b = h[-1 - self.window], h[-1]
        syn_rise = b["synthetic_chrf"] - a["synthetic_chrf"]
        real_rise = b["real_best_chrf"] - a["real_best_chrf"]
        if syn_rise >= self.delta and real_rise < self.real_delta:
            return {"step": b["step"], "stage": b["stage"],
                    "synthetic_chrf_rise": round(syn_rise, 4),
                    "real_best_chrf_rise": round(real_rise, 4),
                    "delta": self.delta, "window": self.window, "real_delta": self.real_delta,
                    "curves": [{k: e[k] for k in WINDOW_FIELDS} for e in h[-1 - self.window:]]}
        return None

    def new_stage(self) -> None:
        self.stale = 0

    def state(self) -> dict:
        return {"history": self.history, "best": self.best, "stale": self.stale,
                "alarms": self.alarms}

    @classmethod
    def from_state(cls, state: dict, **kw) -> "Watch":
        w = cls(**kw)
        w.history, w.best = state["history"], state["best"]
        w.stale, w.alarms = state["stale"], state["alarms"]
        return w


def plot_curves(evals: list[dict], alarms: list[dict], best_step: int | None,
                title: str = "") -> bytes:
    """PNG: real vs synthetic valid chrF by step (top), rare-word recall on the real valid set
    by step (bottom); stage changes dotted, the best step a star, alarms red."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [e["step"] for e in evals]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True)
    ax1.plot(steps, [e["real"]["chrf"] for e in evals], "o-", color="tab:blue",
             label="real valid chrF")
    ax1.plot(steps, [e["synthetic"]["chrf"] for e in evals], "s--", color="tab:orange",
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
    ax2.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()

"""Report plots with matplotlib (Agg): each returns PNG bytes."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def funnel(steps: list[dict]) -> bytes:
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(steps) + 1.2))
    names = [s["name"] for s in steps][::-1]
    kept = [s["kept"] for s in steps][::-1]
    removed = [s["removed"] for s in steps][::-1]
    ax.barh(names, kept, color="#4c9a5b", label="kept")
    ax.barh(names, removed, left=kept, color="#d0533f", label="removed")
    ax.set_xlabel("rows")
    ax.set_title("filter funnel")
    ax.legend(loc="lower right")
    return _png(fig)


def histogram(parts: dict[str, list[float]], title: str, xlabel: str) -> bytes:
    fig, ax = plt.subplots(figsize=(6, 3.2))
    colors = {"accepted": "#4c9a5b", "rejected": "#d0533f", "real": "#3b6fb6",
              "synthetic": "#e39a2d"}
    for name, values in parts.items():
        if values:
            ax.hist(values, bins=30, alpha=0.6, label=f"{name} (n={len(values)})",
                    color=colors.get(name), density=len(parts) > 1 and name in ("real",
                                                                              "synthetic"))
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.legend()
    return _png(fig)


def collapse(sides: dict, thresholds: dict) -> bytes:
    metrics = [m for m in thresholds if any(isinstance(s.get(m), (int, float))
                                            for s in sides.values())]
    fig, axes = plt.subplots(1, max(1, len(metrics)), figsize=(1.6 * max(1, len(metrics)) + 1,
                                                                 3.2))
    axes = axes if hasattr(axes, "__len__") else [axes]
    for ax, m in zip(axes, metrics):
        thr = thresholds[m]
        vals = [(side, s.get(m)) for side, s in sides.items() if isinstance(s.get(m),
                                                                            (int, float))]
        bad = [(thr["value"] is not None) and ((thr["direction"] == "min" and v < thr["value"]) or
                                                (thr["direction"] == "max" and v > thr["value"]))
               for _, v in vals]
        ax.bar([s for s, _ in vals], [v for _, v in vals],
               color=["#d0533f" if b else "#4c9a5b" for b in bad])
        if thr["value"] is not None:
            ax.axhline(thr["value"], color="black", linestyle="--", linewidth=1)
        ax.set_title(m, fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle("collapse metrics (dashed: alarm threshold; red: crossed)", fontsize=9)
    return _png(fig)


def curriculum(stages: dict) -> bytes:
    fig, ax = plt.subplots(figsize=(6, 3))
    origins = sorted({o for s in stages.values() for o in s.get("origins", {})})
    bottom = [0] * len(stages)
    for o in origins:
        vals = [s.get("origins", {}).get(o, 0) for s in stages.values()]
        ax.bar(list(stages), vals, bottom=bottom, label=o)
        bottom = [b + v for b, v in zip(bottom, vals)]
    ax.set_ylabel("rows")
    ax.set_title("curriculum composition")
    ax.legend()
    return _png(fig)


def comparison(rows: list[dict]) -> bytes:
    fig, ax1 = plt.subplots(figsize=(max(5, 0.8 * len(rows) + 2), 3.4))
    langs = [r["lang"] for r in rows]
    ax1.bar(langs, [r["acceptance"] or 0 for r in rows], color="#3b6fb6")
    ax1.set_ylabel("acceptance rate")
    ax1.set_ylim(0, 1)
    ax2 = ax1.twinx()
    ax2.plot(langs, [r["rt_chrf_mean"] or 0 for r in rows], "o-", color="#e39a2d")
    ax2.set_ylabel("mean round-trip chrF (accepted)")
    ax1.set_title("languages compared")
    return _png(fig)

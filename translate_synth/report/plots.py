"""Report plots with matplotlib (Agg): each returns PNG bytes.

Every plot is meant to be read at a glance in a page about 1,100 pixels wide: fonts of 11-13
points at 100 dpi, a title that says what is shown, labelled axes, counts written on the bars,
and rejected rows in their own panel (never a thin sliver under the accepted ones).
"""

from __future__ import annotations

import contextlib
import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

DPI = 100
STYLE = {"font.size": 11, "axes.titlesize": 13, "axes.labelsize": 11, "xtick.labelsize": 10.5,
         "ytick.labelsize": 10.5, "legend.fontsize": 10, "figure.titlesize": 14,
         "axes.spines.top": False, "axes.spines.right": False}
GREEN, RED, BLUE, ORANGE, GREY = "#4c9a5b", "#d0533f", "#3b6fb6", "#e39a2d", "#8a8a8a"
# rejected rows, by the first filter that rejected them: one color per filter in every plot
FILTER_COLORS = {"select": "#d0533f", "rt_chrf": "#e39a2d", "rt_bleu": "#c9b22e",
                 "copy": "#8e44ad", "langid": "#16a085", "length_ratio": "#8c564b",
                 "real_target_overlap": "#7f8c8d", "duplicate": "#34495e", "quality": "#e377c2",
                 "script": "#17becf", "repetition": "#bcbd22", "heldout_overlap": "#2c3e50"}
OTHER_COLORS = ["#1f77b4", "#ff7f0e", "#9467bd", "#aec7e8", "#98df8a", "#c5b0d5"]
MAX_GROUPS = 6
ORIGIN_COLORS = {"real": BLUE, "bt": "#2e8b57", "ft": ORANGE, "paraphrase": "#9b59b6"}
ORIGIN_WORDS = {"real": "real pairs", "bt": "back-translation", "ft": "forward translation",
                "paraphrase": "paraphrase"}


def _fig(*args, **kw):
    with plt.rc_context(STYLE):
        return plt.subplots(*args, layout="constrained", **kw)


def png_bytes(fig, dpi: int = DPI, style: dict | None = STYLE) -> bytes:
    """``fig`` as PNG bytes, then closed: the one savefig of the package's plots. ``style``:
    the matplotlib settings to save under (None: as they are)."""
    buf = io.BytesIO()
    with plt.rc_context(style) if style is not None else contextlib.nullcontext():
        fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def _legend(ax, **kw) -> None:
    """A legend only when something is labelled (matplotlib warns otherwise)."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, **kw)


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _short(v: float) -> str:
    if v == int(v):
        return f"{int(v):,}"
    text = f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"
    return text.rstrip("0").rstrip(".")


def funnel(steps: list[dict]) -> bytes:
    """Rows reaching each filter, split into kept and removed, with the counts written out."""
    with plt.rc_context(STYLE):
        fig, ax = _fig(figsize=(10, 0.36 * len(steps) + 1.6))
        names = [s["name"] for s in steps][::-1]
        kept = [s["kept"] for s in steps][::-1]
        removed = [s["removed"] for s in steps][::-1]
        seen = [s["seen"] for s in steps][::-1]
        top = max(seen + [1])
        ax.barh(names, kept, color=GREEN, label="kept")
        ax.barh(names, removed, left=kept, color=RED, label="removed")
        for y, (k, r, s) in enumerate(zip(kept, removed, seen)):
            text = f"{_n(k)} kept" + (f", {_n(r)} removed ({100 * r / s:.1f} %)" if r else "")
            ax.text(top * 1.01, y, text, va="center", fontsize=10.5,
                    color=RED if r else "#333333")
        ax.set_xlim(0, top * 1.6)
        ax.set_xlabel("candidate rows reaching the filter (filters run top to bottom)")
        ax.set_title(f"filter funnel: {_n(steps[-1]['kept'] if steps else 0)} of "
                     f"{_n(steps[0]['seen'] if steps else 0)} synthetic candidates kept")
        _legend(ax, loc="upper right")
        return png_bytes(fig)


def score_histogram(accepted: list[float], rejected: dict[str, list[float]], label: str,
                    threshold: float | None = None) -> bytes:
    """Two panels on one x axis, each with its own count axis: the accepted rows, then the
    rejected ones stacked by the first filter that rejected them."""
    with plt.rc_context(STYLE):
        fig, (top, bottom) = _fig(2, 1, figsize=(5.4, 6.2), sharex=True)
        values = list(accepted) + [v for vs in rejected.values() for v in vs]
        lo, hi = (min(values), max(values)) if values else (0.0, 100.0)
        if hi <= lo:
            lo, hi = lo - 1, hi + 1
        bins = [lo + (hi - lo) * i / 30 for i in range(31)]
        n_rej = sum(len(v) for v in rejected.values())
        if accepted:
            top.hist(accepted, bins=bins, color=GREEN)
        else:
            top.text(0.5, 0.5, "no row accepted", transform=top.transAxes, ha="center",
                     va="center", fontsize=13, color=RED)
        top.set_title(f"{label}: {_n(len(accepted))} accepted", loc="left")
        top.set_ylabel("rows")
        groups = [(name, vs) for name, vs in rejected.items() if vs]
        if len(groups) > MAX_GROUPS:
            rest = [v for _, vs in groups[MAX_GROUPS - 1:] for v in vs]
            groups = groups[:MAX_GROUPS - 1] + [("other filters", rest)]
        others = iter(OTHER_COLORS)
        colors = [FILTER_COLORS.get(name) or next(others, GREY) for name, _ in groups]
        if n_rej:
            bottom.hist([vs for _, vs in groups], bins=bins, stacked=True, color=colors,
                        label=[f"{name} ({_n(len(vs))})" for name, vs in groups])
            handles, names = bottom.get_legend_handles_labels()
            fig.legend(handles, names, title="rejected first by", loc="outside lower center",
                       ncols=min(2, len(names)))
        else:
            bottom.text(0.5, 0.5, "no row rejected", transform=bottom.transAxes, ha="center",
                        va="center", fontsize=13)
        bottom.set_title(f"{label}: {_n(n_rej)} rejected", loc="left")
        bottom.set_ylabel("rows")
        bottom.set_xlabel(label)
        if threshold is not None:
            for ax in (top, bottom):
                ax.axvline(threshold, color="black", linestyle="--", linewidth=1.2)
            right = threshold > (lo + hi) / 2
            top.text(threshold, top.get_ylim()[1],
                     f"filter min {_short(threshold)} " if right else
                     f" filter min {_short(threshold)}", va="top",
                     ha="right" if right else "left", fontsize=10)
        return png_bytes(fig)


def lengths(parts: dict[str, list[float]]) -> bytes:
    """Sentence lengths of real and synthetic text, as shares of rows (their counts differ)."""
    with plt.rc_context(STYLE):
        fig, ax = _fig(figsize=(6.2, 3.8))
        values = [v for vs in parts.values() for v in vs]
        hi = max(values) if values else 1
        bins = [hi * i / 30 for i in range(31)]
        colors = {"real": BLUE, "synthetic": ORANGE}
        for name, vs in parts.items():
            if vs:
                ax.hist(vs, bins=bins, weights=[100 / len(vs)] * len(vs), histtype="step",
                        linewidth=2.2, color=colors.get(name),
                        label=f"{name} ({_n(len(vs))} sentences)")
        ax.set_title("sentence length: real vs synthetic")
        ax.set_xlabel("characters per sentence")
        ax.set_ylabel("% of sentences")
        _legend(ax)
        return png_bytes(fig)


COLLAPSE_WORDS = {
    "distinct2_ratio": "distinct word pairs",
    "mtld_ratio": "vocabulary richness (MTLD)",
    "valid_coverage_ratio": "held-out words covered",
    "rare_coverage_ratio": "rare real words covered",
    "jsd_train": "word distribution distance",
    "ks_length": "length distribution distance",
    "self_bleu_excess": "self-BLEU above real",
    "prefix3_excess": "same openings above real",
}


def crossed(value, thr: dict) -> bool:
    if value is None or thr.get("value") is None:
        return False
    return (thr["direction"] == "min" and value < thr["value"]) or (
        thr["direction"] == "max" and value > thr["value"])


def collapse(sides: dict, thresholds: dict, side_names: dict | None = None) -> bytes:
    """One small panel per metric (own scale), one bar per side, the alarm threshold dashed."""
    side_names = side_names or {}
    metrics = [m for m in thresholds if any(isinstance(s.get(m), (int, float))
                                            for s in sides.values())] or ["none"]
    cols = min(4, len(metrics))
    rows = math.ceil(len(metrics) / cols)
    with plt.rc_context(STYLE):
        fig, axes = _fig(rows, cols, figsize=(2.75 * cols, 2.9 * rows + 0.5), squeeze=False)
        flat = [ax for row in axes for ax in row]
        for ax in flat[len(metrics):]:
            ax.set_visible(False)
        for ax, m in zip(flat, metrics):
            if m == "none":
                ax.text(0.5, 0.5, "no metric computed", ha="center", va="center")
                ax.set_axis_off()
                continue
            thr = thresholds[m]
            vals = [(side_names.get(side, side), s.get(m)) for side, s in sides.items()
                    if isinstance(s.get(m), (int, float))]
            bars = ax.bar([s for s, _ in vals], [v for _, v in vals],
                          color=[RED if crossed(v, thr) else GREEN for _, v in vals])
            for b, (_, v) in zip(bars, vals):
                ax.annotate(_short(v), (b.get_x() + b.get_width() / 2, v),
                            xytext=(0, 3 if v >= 0 else -3), textcoords="offset points",
                            ha="center", va="bottom" if v >= 0 else "top", fontsize=10.5,
                            fontweight="bold" if crossed(v, thr) else "normal")
            ax.axhline(0, color="#999999", linewidth=0.8)
            title = COLLAPSE_WORDS.get(m, m)
            if thr.get("value") is not None:
                ax.axhline(thr["value"], color="black", linestyle="--", linewidth=1.2)
                title += f"\nalarm if {'below' if thr['direction'] == 'min' else 'above'} " \
                         f"{_short(thr['value'])}"
            else:
                title += "\n(no alarm set)"
            ax.set_title(title, fontsize=11)
            lo, hi = ax.get_ylim()
            ax.set_ylim(lo - 0.08 * (hi - lo) if lo < 0 else lo, hi + 0.12 * (hi - lo))
        fig.suptitle("collapse monitor: synthetic text against real text (red: alarm)")
        return png_bytes(fig)


def curriculum(stages: dict, real_pairs: int) -> bytes:
    """Rows per curriculum stage by origin; real rows split into the distinct real pairs and
    their repeats (upsampling), with the repeat factor written on the bar."""
    with plt.rc_context(STYLE):
        fig, ax = _fig(figsize=(6.2, 3.8))
        names = list(stages)
        origins = sorted({o for s in stages.values() for o in s.get("origins", {})},
                         key=lambda o: (o != "real", o))
        bottom = [0] * len(names)
        for o in origins:
            vals = [s.get("origins", {}).get(o, 0) for s in stages.values()]
            if o == "real" and real_pairs:
                once = [min(v, real_pairs) for v in vals]
                again = [v - w for v, w in zip(vals, once)]
                ax.bar(names, once, bottom=bottom, color=BLUE, label="real pairs")
                bottom = [b + v for b, v in zip(bottom, once)]
                if any(again):
                    ax.bar(names, again, bottom=bottom, color=BLUE, alpha=0.45, hatch="//",
                           label="real pairs, repeated")
                    bottom = [b + v for b, v in zip(bottom, again)]
                continue
            ax.bar(names, vals, bottom=bottom, color=ORIGIN_COLORS.get(o),
                   label=ORIGIN_WORDS.get(o, o))
            bottom = [b + v for b, v in zip(bottom, vals)]
        for x, (name, s) in enumerate(stages.items()):
            real = s.get("origins", {}).get("real", 0)
            note = f"{_n(s.get('rows', 0))} rows"
            if real_pairs and real > real_pairs:
                note += f"\nreal x{real / real_pairs:.1f}"
            ax.annotate(note, (x, bottom[x]), xytext=(0, 3), textcoords="offset points",
                        ha="center", va="bottom", fontsize=10.5)
        ax.set_ylim(0, max(bottom + [1]) * 1.3)
        ax.set_ylabel("rows")
        ax.set_xlabel("stage (trained in this order)")
        ax.set_title("curriculum: rows per stage")
        _legend(ax, loc="upper right")
        return png_bytes(fig)


def comparison(rows: list[dict]) -> bytes:
    """Runs side by side: share of candidates kept, and mean scores of the kept rows."""
    with plt.rc_context(STYLE):
        labels = [r["label"] for r in rows]
        width = max(9, 1.1 * len(rows) + 5)
        fig, (a1, a2) = _fig(1, 2, figsize=(width, 3.9))
        kept = [100 * (r["acceptance"] or 0) for r in rows]
        bars = a1.bar(labels, kept, color=BLUE)
        for b, v in zip(bars, kept):
            a1.annotate(f"{v:.0f} %", (b.get_x() + b.get_width() / 2, v), xytext=(0, 3),
                        textcoords="offset points", ha="center", va="bottom")
        a1.set_ylim(0, 115)
        a1.set_ylabel("% of candidates")
        a1.set_title("synthetic rows kept")
        x = range(len(rows))
        w = 0.38
        for i, (key, name, color) in enumerate((("rt_chrf_mean", "round-trip chrF", ORANGE),
                                                ("quality_mean", "quality", GREEN))):
            vals = [r.get(key) or 0 for r in rows]
            a2.bar([j + (i - 0.5) * w for j in x], vals, width=w, color=color, label=name)
        for j, r in enumerate(rows):
            if not r.get("kept", r.get("synthetic_kept")):
                a2.text(j, 4, "nothing\nkept", ha="center", va="bottom", color=RED)
        a2.set_xticks(list(x), labels)
        a2.set_ylim(0, 115)
        a2.set_ylabel("mean of the kept rows (0-100)")
        a2.set_title("scores of the kept rows")
        _legend(a2, loc="upper right", ncols=2)
        for ax in (a1, a2):
            if len(rows) > 4 or max(len(lb) for lb in labels) > 12:
                ax.tick_params(axis="x", labelrotation=20)
        return png_bytes(fig)

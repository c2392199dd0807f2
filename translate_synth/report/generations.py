"""The report of ``translate-synth generations``: generations.json, generations.md and
generations.png from the rounds' records (``generations.py`` runs the rounds)."""

from __future__ import annotations

import math
from pathlib import Path

from translate_synth.emit import write_bytes, write_json
from translate_synth.report.plots import png_bytes


def _f(x, nd=1, pct=False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{100 * x:.{nd}f} %" if pct else f"{x:.{nd}f}"


def write_report(root: Path, ident: dict, rounds: list[dict], fmt: int,
                 stopped: dict | None = None) -> dict:
    """generations.json, .md and .png of the rounds so far (``fmt``: the json's format)."""
    rows = []
    for r in rounds:
        m = r["metrics"]
        tgt = m["collapse"].get("target") or {}
        rows.append({
            "round": r["round"], "synthesised_with": r["synthesised_with"],
            "curriculum": r["curriculum"],
            "real_test_chrf": m["real_test"].get("chrf"),
            "real_test_bleu": m["real_test"].get("bleu"),
            "synthetic_valid_chrf": m["synthetic_valid"].get("chrf"),
            "rare_word_recall": m["rare_word_recall"].get("rare"),
            "target_distinct2": tgt.get("distinct2"),
            "target_distinct2_ratio": tgt.get("distinct2_ratio"),
            "target_rare_coverage": tgt.get("rare_coverage"),
            "target_rare_coverage_ratio": tgt.get("rare_coverage_ratio"),
            "alarms": [f"{a['side']}:{a['metric']}={a['value']}" for a in m["alarms"]],
            "divergence_alarms": sum(len(v) for v in m["divergence_alarms"].values()),
        })
    report = {"format": fmt, "kind": "translate-synth generations", **ident,
              "stopped": stopped,
              "heldout": rounds[0]["heldout"] if rounds else None,
              "heldout_note": "every round's valid.jsonl/test.jsonl is round 0's (sha256 "
                              "checked); every model is evaluated on round 0's real test set",
              "table": rows, "rounds": rounds}
    write_json(root / "generations.json", report)
    write_bytes(root / "generations.md", _md(report).encode("utf-8"))
    write_bytes(root / "generations.png", _plot(report))
    return report


def _md(rep: dict) -> str:
    lines = [f"# Generations: {rep['lang']}, mix {rep['mix']}, model {rep['model']}", "",
             "Each round trains on its run's emitted data; the next round synthesises with "
             "those models. Scores: the forward model on round 0's real test set "
             "(`eval/eval.json` of each round); diversity: the target side of the round's "
             "accepted synthetic text (`collapse.json`).", "",
             "| round | synthesised with | real test chrF | BLEU | synthetic valid chrF | "
             "rare-word recall | distinct-2 (ratio) | rare coverage (ratio) | alarms |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rep["table"]:
        lines.append(
            f"| {r['round']} | {r['synthesised_with']} | {_f(r['real_test_chrf'])} | "
            f"{_f(r['real_test_bleu'])} | {_f(r['synthetic_valid_chrf'])} | "
            f"{_f(r['rare_word_recall'], pct=True)} | {_f(r['target_distinct2'], 3)} "
            f"({_f(r['target_distinct2_ratio'], 2)}) | {_f(r['target_rare_coverage'], 3)} "
            f"({_f(r['target_rare_coverage_ratio'], 2)}) | {len(r['alarms'])} |")
    lines += ["", "## Alarms by round", ""]
    for r in rep["table"]:
        a = ", ".join(r["alarms"]) or "none"
        lines.append(f"- round {r['round']}: collapse: {a}; training divergence alarms: "
                     f"{r['divergence_alarms']}")
    if rep.get("stopped"):
        lines += ["", f"Stopped: {rep['stopped']['reason']}."]
    lines += ["", rep["heldout_note"] + ".", ""]
    return "\n".join(lines)


def _plot(rep: dict) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = rep["table"]
    xs = [r["round"] for r in t]

    def ys(key, scale=1.0):
        return [float("nan") if r[key] is None else r[key] * scale for r in t]

    fig, (a1, a2) = plt.subplots(2, 1, figsize=(7, 6.5), sharex=True)
    a1.plot(xs, ys("real_test_chrf"), "o-", label="real test chrF")
    a1.plot(xs, ys("synthetic_valid_chrf"), "s--", label="synthetic valid chrF")
    a1.plot(xs, ys("rare_word_recall", 100), "^:", label="rare-word recall (%)")
    for r in t:
        if r["alarms"]:
            a1.axvline(r["round"], color="tab:red", alpha=0.3)
    a1.set_ylabel("score")
    a1.legend(fontsize=8)
    a1.set_title(f"{rep['lang']}: mix {rep['mix']}, model {rep['model']} "
                 "(red: a collapse alarm)", fontsize=9)
    a2.plot(xs, ys("target_distinct2"), "o-", label="distinct-2 (synthetic target)")
    a2.plot(xs, ys("target_distinct2_ratio"), "o:", label="distinct-2 ratio to real")
    a2.plot(xs, ys("target_rare_coverage"), "s-", label="rare-token coverage")
    a2.plot(xs, ys("target_rare_coverage_ratio"), "s:", label="rare coverage ratio to real")
    a2.set_xlabel("round")
    a2.set_xticks(xs)
    a2.legend(fontsize=8)
    fig.tight_layout()
    return png_bytes(fig, dpi=90, style=None)

"""Evaluation reports: ``report.json`` (the numbers), ``report.html`` (one self-contained page,
plots embedded) and ``report.md`` (plots beside it in ``report_plots/``)."""

from __future__ import annotations

import base64
from pathlib import Path

from translate_synth.emit import write_bytes, write_json
from translate_synth.report import plots
from translate_synth.report.gather import gather, summary_row
from translate_synth.report.render import render_html, render_md


def make_plots(g: dict) -> dict[str, bytes]:
    st = g["stats"]
    out = {}
    if st.get("filters"):
        out["funnel"] = plots.funnel(st["filters"])
    for k, label in (("rt_bleu", "round-trip BLEU"), ("rt_chrf", "round-trip chrF")):
        if any(g["histograms"][k].values()):
            out[k] = plots.histogram(g["histograms"][k], f"{label}: accepted vs rejected", label)
    if any(g["lengths"].values()):
        out["lengths"] = plots.histogram(g["lengths"], "sentence length: real vs synthetic",
                                         "characters")
    col = g.get("collapse")
    if col and col.get("sides"):
        out["collapse"] = plots.collapse(col["sides"], col["thresholds"])
    if st.get("curriculum"):
        out["curriculum"] = plots.curriculum(st["curriculum"])
    return out


def write_report(run_dirs: list[Path], out_dir: Path) -> dict:
    """Write report.json/.html/.md for one or more run directories into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    langs, images = [], {}
    for d in run_dirs:
        g = gather(Path(d))
        pngs = make_plots(g)
        g["plots"] = sorted(pngs)
        g["summary"] = summary_row(g)
        langs.append(g)
        for name, data in pngs.items():
            images[f"{g['lang']}_{name}"] = data
    table = [g["summary"] for g in langs]
    if len(langs) > 1:
        images["comparison"] = plots.comparison(table)
    report = {"languages": [{k: v for k, v in g.items() if k not in ("histograms", "lengths")}
                            for g in langs],
              "summary": table, "plots": sorted(images)}
    write_json(out_dir / "report.json", report)
    plot_dir = out_dir / "report_plots"
    plot_dir.mkdir(exist_ok=True)
    for name, data in images.items():
        write_bytes(plot_dir / f"{name}.png", data)  # atomically, like every output
    b64 = {k: base64.b64encode(v).decode() for k, v in images.items()}
    _atomic_text(out_dir / "report.html", render_html(report, b64))
    _atomic_text(out_dir / "report.md", render_md(report))
    return report


def _atomic_text(path: Path, text: str) -> None:
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)

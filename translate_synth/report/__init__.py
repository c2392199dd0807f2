"""Evaluation reports: ``report.json`` (the numbers), ``report.html`` (one self-contained page,
plots embedded) and ``report.md`` (plots beside it in ``report_plots/``)."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

from translate_synth.emit import write_bytes, write_json
from translate_synth.report import plots
from translate_synth.report.ablations import (ablates_html, ablates_md, gather_ablate,
                                              is_ablate_dir)
from translate_synth.report.evaluations import (eval_labels, gather_eval, is_eval_dir,
                                                model_rows, models_html, models_md)
from translate_synth.report.gather import gather, summary_row
from translate_synth.report.page_html import render_html
from translate_synth.report.page_md import render_md

__all__ = ["make_plots", "run_labels", "write_report"]


def _score_min(filters: list[dict], score: str) -> float | None:
    """The absolute minimum a filter on ``score`` applied (None when no filter cuts it)."""
    for f in filters:
        if f.get("score") == score:
            v = ((f.get("thresholds") or {}).get("resolved") or {}).get("min")
            if v is not None:
                return v
    return None


def make_plots(g: dict) -> dict[str, bytes]:
    st = g["stats"]
    out = {}
    if st.get("filters"):
        out["funnel"] = plots.funnel(st["filters"])
    for k, label in (("rt_bleu", "round-trip BLEU"), ("rt_chrf", "round-trip chrF")):
        h = g["histograms"][k]
        if h["accepted"] or any(h["rejected"].values()):
            out[k] = plots.score_histogram(h["accepted"], h["rejected"], label,
                                           _score_min(st.get("filters", []), k))
    if any(g["lengths"].values()):
        out["lengths"] = plots.lengths(g["lengths"])
    col = g.get("collapse")
    if col and col.get("sides"):
        names = {side: f"{side} ({s['lang']})" if s.get("lang") else side
                 for side, s in col["sides"].items() if isinstance(s, dict)}
        out["collapse"] = plots.collapse(col["sides"], col.get("thresholds", {}), names)
    if st.get("curriculum"):
        real = ((st.get("emitted") or {}).get("train") or {}).get("real", 0)
        out["curriculum"] = plots.curriculum(st["curriculum"], real)
    return out


def run_labels(dirs: list[str], langs: list[str]) -> list[tuple[str, str]]:
    """(label, file-name slug) per run: its language when no other run has it, else the
    language and the shortest tail of its directory path that tells the runs apart (a run dir
    is OUT/<lang>, so OUT's name first), numbered if even the full paths agree."""
    out: list[tuple[str, str]] = []
    for i, (d, lang) in enumerate(zip(dirs, langs)):
        same = [j for j, other in enumerate(langs) if other == lang]
        if len(same) == 1:
            out.append((lang, _slug(lang)))
            continue

        def tail(j: int, k: int) -> tuple[str, ...]:
            parts = Path(os.path.abspath(dirs[j])).parts
            if parts and parts[-1] == langs[j]:
                parts = parts[:-1]
            return parts[-k:] if k else ()

        longest = max(len(Path(os.path.abspath(dirs[j])).parts) for j in same)
        k = next((k for k in range(1, longest + 1)
                  if len({tail(j, k) for j in same}) == len(same)), 0)
        name = "/".join(p.strip("/") or "root" for p in tail(i, k)) if k else ""
        out.append((f"{lang} ({name})" if name else lang, _slug(f"{lang}-{name}" if name
                                                                else lang)))
    seen: dict[str, int] = {}
    final = []
    for label, slug in out:  # still equal (the same dir given twice): number them
        seen[slug] = seen.get(slug, 0) + 1
        if seen[slug] > 1:
            label, slug = f"{label} #{seen[slug]}", f"{slug}-{seen[slug]}"
        final.append((label, slug))
    return final


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._") or "run"


def write_report(run_dirs: list[Path], out_dir: Path) -> dict:
    """Write report.json/.html/.md for one or more run directories into ``out_dir``; evaluation
    directories (``translate-synth evaluate --out``) among them are compared in one table."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    evals = [gather_eval(Path(d)) for d in run_dirs if is_eval_dir(Path(d))]
    abls = [gather_ablate(Path(d)) for d in run_dirs if is_ablate_dir(Path(d))]
    runs = [gather(Path(d)) for d in run_dirs
            if not is_eval_dir(Path(d)) and not is_ablate_dir(Path(d))]
    images = {}
    for g, (label, slug) in zip(runs, run_labels([g["dir"] for g in runs],
                                                 [g["lang"] for g in runs])):
        g["label"], g["slug"] = label, slug
        pngs = make_plots(g)
        g["plots"] = sorted(pngs)
        g["summary"] = summary_row(g)
        for name, data in pngs.items():
            images[f"{slug}_{name}"] = data
    table = [g["summary"] for g in runs]
    if len(runs) > 1:
        images["comparison"] = plots.comparison(table)
    report = {"languages": [{k: v for k, v in g.items() if k not in ("histograms", "lengths")}
                            for g in runs],
              "summary": table, "plots": sorted(images)}
    title = None
    if evals:
        report["evaluations"], report["models"] = evals, model_rows(evals)
        what = (f"evaluation of {eval_labels(evals)[0]}" if len(evals) == 1 else
                f"{len(evals)} evaluations compared")
        title = what if not runs else f"{_plural_runs(runs)} and {what}"
    if abls:  # ablation directories (`translate-synth ablate --out`)
        report["ablations"] = abls
        what = "ablation" if len(abls) == 1 else f"{len(abls)} ablations"
        title = f"{title} and {what}" if title else \
            (f"{_plural_runs(runs)} and {what}" if runs else what)
    write_json(out_dir / "report.json", report)
    plot_dir = out_dir / "report_plots"
    plot_dir.mkdir(exist_ok=True)
    for name, data in images.items():
        write_bytes(plot_dir / f"{name}.png", data)  # atomically, like every output
    b64 = {k: base64.b64encode(v).decode() for k, v in images.items()}
    _atomic_text(out_dir / "report.html", render_html(report, b64, models_html(evals)
                                                     + ablates_html(abls), title))
    _atomic_text(out_dir / "report.md", render_md(report, models_md(evals) + ablates_md(abls),
                                                 title))
    return report


def _plural_runs(runs: list[dict]) -> str:
    return runs[0].get("label", runs[0]["lang"]) if len(runs) == 1 else f"{len(runs)} runs"


def _atomic_text(path: Path, text: str) -> None:
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)

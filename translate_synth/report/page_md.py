"""report.md: the title, the runs compared (the cross-language table, when there are several
runs), the models compared, then per run the banner, the verdict, what was made, the filters,
the curriculum, the plots (beside it in ``report_plots/``) and the best examples."""

from __future__ import annotations

from translate_synth.report.gather import quality_warnings
from translate_synth.report.markup import md_table
from translate_synth.report.run_facts import (alarm_words, banner, collapse_notes,
                                              curriculum_rows, kept_counts, made_rows,
                                              quality_rows, side_langs, verdict)
from translate_synth.report.wording import (model_words, num, origin_counts, origin_words, pct,
                                            scores_words, threshold_words, words)


def runs_compared_md(report: dict) -> list[str]:
    """The runs-compared table (several runs: e.g. the languages of a batch), as lines."""
    return ["", *md_table(
        ["run", "language", "real train pairs", "candidates", "synthetic kept", "kept %",
         "synthetic in train.jsonl", "BLEU (kept)", "chrF (kept)", "quality (kept)",
         "collapse alarms", "quality warnings"],
        [[r["label"], r["lang"], num(r["real_train"]), num(r["candidates"]),
          num(r["kept"]), pct(r["kept"], r["candidates"]), num(r["synthetic_kept"]),
          num(r["rt_bleu_mean"]), num(r["rt_chrf_mean"]), num(r["quality_mean"]),
          r["alarms"], r["quality_warnings"]] for r in report["summary"]])]


def _made_md(g: dict) -> list[str]:
    seen, kept = kept_counts(g)
    out = [f"**{verdict(g)[1]}**", "", "What was made:", ""]
    return out + md_table(["origin", "inputs", "candidates", "kept", "kept %", "removed most by"],
                          [[origin_words(r["origin"]), num(r["inputs"]), num(r["candidates"]),
                            num(r["kept"]), pct(r["kept"], r["candidates"]), r["removed_by"]]
                           for r in made_rows(g)] +
                          [["**all**", "", num(seen), num(kept), pct(kept, seen), ""]])


def _safety_md(g: dict) -> list[str]:
    alarms = (g.get("collapse") or {}).get("alarms") or []
    out = ["", "Is it safe to train on?", ""]
    if g.get("collapse") is None:
        out.append("- collapse monitor off")
    out += [f"- **collapse alarm**, {alarm_words(a, side_langs(g))}" for a in alarms]
    out += [f"- **collapse monitor:** {n}" for n in collapse_notes(g.get("collapse"),
                                                                   side_langs(g))]
    if g.get("collapse") is not None and not alarms:
        out.append("- no collapse alarm")
    out += [f"- **quality warning:** {words(w)}" for w in quality_warnings(g)]
    out += [f"- quality score of {origin_words(q['origin'])}: {q['how']}"
            for q in quality_rows(g)]
    return out


def _filters_md(g: dict) -> list[str]:
    st = g["stats"]
    seen, kept = kept_counts(g)
    out = md_table(["filter", "threshold", "seen", "kept", "removed", "removed %",
                    "rare target types kept, %", "kept / seen per origin"],
                   [[f["name"], threshold_words(f), num(f["seen"]), num(f["kept"]),
                     num(f["removed"]), pct(f["removed"], f["seen"]),
                     (lambda r: f"{100 * r['before']:.1f} -> {100 * r['after']:.1f}"
                      if r else "")((f.get("rare_types") or {}).get("target")),
                     origin_counts(f)]
                    for f in st.get("filters") or []])
    train = (st.get("emitted") or {}).get("train") or {}
    out += ["", f"Kept {num(kept)} of {num(seen)} candidates ({pct(kept, seen)}); train.jsonl "
            f"= {num(train.get('real', 0))} real pairs + "
            f"{num(sum(v for k, v in train.items() if k != 'real'))} synthetic rows."]
    cur = curriculum_rows(g)
    if cur:
        out += ["", *md_table(["stage", "rows", "real rows", "real pairs repeated",
                               "synthetic rows"],
                              [[c["stage"], num(c["rows"]), num(c["real"]), c["times"],
                                c["synthetic"]] for c in cur])]
    return out


def run_md(g: dict) -> list[str]:
    """One run's part of report.md, as lines."""
    slug = g.get("slug", g["lang"])
    out = ["", f"## {g.get('label', g['lang'])}: {g.get('source_lang')} -> {g['lang']}", "",
           f"Run directory `{g['dir']}`.", ""]
    out += [f"> **{line}**" if i == 0 else f"> {line}"
            for i, line in enumerate(banner(g))] + ([""] if banner(g) else [])
    out += _made_md(g) + _safety_md(g)
    out += ["", f"Model: {model_words(g['manifest'].get('model'))}.", ""]
    out += _filters_md(g)
    for name in g.get("plots", []):
        out.append(f"\n![{name}](report_plots/{slug}_{name}.png)")
    out += ["", "Signatures: " + "; ".join(f"{k} `{v}`" for k, v in
                                            (g["manifest"].get("signatures") or {}).items())]
    out += ["", "Best accepted:"]
    for e in g["examples"]["best"]:
        out.append(f"- `{e['origin']}` {e['authentic']} → {e['synthetic']} "
                   f"(round trip: {e['roundtrip']}; {scores_words(e['scores'])})")
    return out


def render_md(report: dict, models: list[str] = (), title: str | None = None) -> str:
    """``models``: the models-compared lines (evaluation directories), placed before the runs."""
    runs = report["languages"]
    out = ["# translate-synth report" + (f": {title}" if title else
                                         f": {runs[0].get('label', runs[0]['lang'])}"
                                         if len(runs) == 1 else f": {len(runs)} runs compared")]
    if len(runs) > 1:
        out += runs_compared_md(report)
    if "comparison" in report["plots"]:
        out += ["", "![runs compared](report_plots/comparison.png)"]
    out += list(models)
    for g in runs:
        out += run_md(g)
    return "\n".join(out) + "\n"

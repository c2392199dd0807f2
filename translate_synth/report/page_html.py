"""report.html, one self-contained page: the title, the runs compared (the cross-language table
and plot, when there are several runs), their banners, the models compared, then one section per
run (``run_html``)."""

from __future__ import annotations

from translate_synth.report.markup import esc, html_table, img_tag
from translate_synth.report.run_facts import banner
from translate_synth.report.run_html import run_section_html
from translate_synth.report.wording import num, pct

CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1120px;color:#222;
padding:0 1em;line-height:1.4}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:3px 8px;font-size:13.5px;vertical-align:top;text-align:left}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
.alarm{color:#b00;font-weight:bold}.ok{color:#2a7a3a;font-weight:bold}
.warn{color:#a05a00;font-weight:bold}
img{max-width:100%;margin:.5em 0}code{font-size:12.5px}.ex td{max-width:330px}
section{border-top:3px solid #ddd;margin-top:2em}h1{margin-bottom:.2em}.sub{color:#555}
.banner{background:#b00;color:#fff;font-size:20px;font-weight:bold;padding:14px 18px;
border-radius:6px;margin:1em 0}.banner p{margin:.3em 0;font-size:15px;font-weight:normal}
.summary{background:#f7f7f2;border:1px solid #ddd;border-radius:6px;padding:4px 18px 12px}
.summary h4{margin:.9em 0 .3em}.verdict{font-size:17px}.pair{display:flex;flex-wrap:wrap;
gap:8px}.pair img{max-width:49%}td a{white-space:nowrap}nav a{margin-right:.8em}
pre{font-size:12px;background:#f7f7f7;padding:8px;overflow:auto}"""
CHECK = """<script>window.addEventListener('load',function(){var b=0,imgs=document.images;
for(var i=0;i<imgs.length;i++){if(!imgs[i].complete||imgs[i].naturalWidth===0)b++;}
document.body.setAttribute('data-images',imgs.length);
document.body.setAttribute('data-broken-images',b);});</script>"""


def runs_compared_html(report: dict, b64: dict) -> str:
    """The runs-compared table and plot (several runs: e.g. the languages of a batch)."""
    s = report["summary"]
    rows = []
    for r, g in zip(s, report["languages"]):
        low = bool(banner(g))
        kept = pct(r["kept"], r["candidates"])
        rows.append([f"<a href='#{esc(g.get('slug', r['lang']))}'>{esc(r['label'])}</a>",
                     esc(r["lang"]), esc(num(r["real_train"])), esc(num(r["candidates"])),
                     esc(num(r["kept"])),
                     f"<span class='alarm'>{esc(kept)}</span>" if low else esc(kept),
                     esc(num(r["synthetic_kept"])),
                     esc(num(r["rt_bleu_mean"])), esc(num(r["rt_chrf_mean"])),
                     esc(num(r["quality_mean"])),
                     f"<span class='alarm'>{r['alarms']}</span>" if r["alarms"] else "0",
                     f"<span class='alarm'>{r['quality_warnings']}</span>"
                     if r["quality_warnings"] else "0"])
    return ("<h2>Runs compared</h2>" + html_table(
        ["run", "language", "real train pairs", "synthetic candidates", "synthetic kept",
         "kept %", "synthetic in train.jsonl", "BLEU (kept, mean)", "chrF (kept, mean)",
         "quality (kept, mean)", "collapse alarms", "quality warnings"], rows,
        num_cols=tuple(range(2, 12))) +
        img_tag(b64, "comparison", "runs compared"))


def render_html(report: dict, b64: dict, models: str = "", title: str | None = None) -> str:
    """``models``: the models-compared part (evaluation directories), placed before the runs."""
    runs = report["languages"]
    if title:
        title = f"translate-synth report: {title}"
    elif len(runs) == 1:
        g = runs[0]
        title = f"translate-synth report: {g.get('label', g['lang'])}"
    else:
        title = f"translate-synth report: {len(runs)} runs compared"
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}"
             f"</title><style>{CSS}</style></head><body><h1>{esc(title)}</h1>"]
    if len(runs) > 1:
        parts.append(runs_compared_html(report, b64))
        for g in runs:
            lines = banner(g)
            if lines:
                parts.append(f"<div class='banner' role='alert'>{esc(g.get('label'))}: "
                             f"{esc(lines[0])}</div>")
    parts.append(models)
    for g in runs:
        parts.append(run_section_html(g, b64))
    parts.append(CHECK + "</body></html>")
    return "".join(parts)


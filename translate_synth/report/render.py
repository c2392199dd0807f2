"""report.json -> HTML (self-contained) and Markdown."""

from __future__ import annotations

import html
import json

CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;
font-size:13px;vertical-align:top}th{background:#f3f3f3}.alarm{color:#b00;font-weight:bold}
.ok{color:#2a7a3a}img{max-width:100%;margin:.5em 0}code{font-size:12px}
.ex td{max-width:330px}section{border-top:2px solid #ddd;margin-top:2em}"""
CHECK = """<script>window.addEventListener('load',function(){var b=0,imgs=document.images;
for(var i=0;i<imgs.length;i++){if(!imgs[i].complete||imgs[i].naturalWidth===0)b++;}
document.body.setAttribute('data-images',imgs.length);
document.body.setAttribute('data-broken-images',b);});</script>"""

SUMMARY_COLS = ("lang", "real_train", "valid", "test", "candidates", "synthetic_kept",
                "acceptance", "rt_bleu_mean", "rt_chrf_mean", "quality_mean", "alarms")


def _e(x) -> str:
    return html.escape("" if x is None else str(x))


def _table(header, rows) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _img(b64: dict, name: str, alt: str) -> str:
    if name not in b64:
        return ""
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{b64[name]}">'


def _examples(rows) -> str:
    return _table(["origin", "authentic", "synthetic", "round trip", "scores", "rejected by"],
                  [[_e(r["origin"]), _e(r["authentic"]), _e(r["synthetic"]), _e(r["roundtrip"]),
                    _e(", ".join(f"{k} {v}" for k, v in r["scores"].items())),
                    _e(", ".join(r.get("rejected_by") or []))] for r in rows])


def render_html(report: dict, b64: dict) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>translate-synth report"
             f"</title><style>{CSS}</style></head><body><h1>translate-synth report</h1>"]
    s = report["summary"]
    parts.append("<h2>Languages</h2>" + _table(
        SUMMARY_COLS, [[(f"<span class='alarm'>{r[c]}</span>" if c == "alarms" and r[c]
                         else _e(r[c])) for c in SUMMARY_COLS] for r in s]))
    parts.append(_img(b64, "comparison", "languages compared"))
    for g in report["languages"]:
        lang, st, man = g["lang"], g["stats"], g["manifest"]
        p = lambda n, alt: _img(b64, f"{lang}_{n}", alt)  # noqa: E731
        parts.append(f"<section><h2>{_e(lang)} ({_e(g['source_lang'])} &rarr; {_e(lang)})</h2>")
        parts.append("<h3>Filter funnel</h3>" + p("funnel", "filter funnel") + _table(
            ["filter", "score", "direction", "thresholds", "seen", "kept", "removed", "removed %"],
            [[_e(f["name"]), _e(f.get("score")), _e(f["direction"]),
              _e(json.dumps(f.get("thresholds", {}))), f["seen"], f["kept"], f["removed"],
              f"{100 * f['removed_share']:.1f}"] for f in st.get("filters", [])]))
        parts.append("<h3>Scores</h3>" + p("rt_bleu", "round-trip BLEU histogram") +
                     p("rt_chrf", "round-trip chrF histogram") +
                     p("lengths", "length distributions"))
        q = g.get("calibration") or {}
        if q:
            parts.append("<h3>Quality score</h3>" + "".join(
                f"<p class='alarm'>warning: {_e(w)}</p>" for w in q.get("warnings", [])))
            parts.append(_table(["origin", "method", "how quality is computed"],
                                [[_e(o), _e(c.get("method")), _e(c.get("note"))]
                                 for o, c in (q.get("origins") or {}).items()]))
        rare = [f for f in st.get("filters", []) if f.get("rare_types")]
        if rare:
            sides = list(rare[0]["rare_types"])
            parts.append("<h3>What each filter costs in rare words</h3><p>Share of the word "
                         "types rare in the real training text (seen at most collapse.rare_k "
                         "times) carried by the rows reaching the filter, then by the rows it "
                         "keeps.</p>" + _table(
                             ["filter"] + [f"rare {s} types (%)" for s in sides],
                             [[_e(f["name"])] + [
                                 _e(f"{100 * f['rare_types'][s]['before']:.1f} -> "
                                    f"{100 * f['rare_types'][s]['after']:.1f}")
                                 if s in f["rare_types"] else "" for s in sides]
                              for f in rare]))
        col = g.get("collapse")
        if col:
            alarms = col.get("alarms", [])
            parts.append("<h3>Collapse monitor</h3>" + p("collapse", "collapse metrics"))
            parts.append("<p class='ok'>no alarm</p>" if not alarms else _table(
                ["side", "metric", "value", "threshold", "hint"],
                [[_e(a["side"]), f"<span class='alarm'>{_e(a['metric'])}</span>",
                  _e(a["value"]), _e(f"{a['direction']} {a['threshold']}"), _e(a["hint"])]
                 for a in alarms]))
        if st.get("curriculum"):
            parts.append("<h3>Curriculum</h3>" + p("curriculum", "curriculum composition") +
                         _table(["stage", "rows", "origins", "real share"],
                                [[_e(k), v["rows"], _e(json.dumps(v["origins"])),
                                  _e(v["real_share"])] for k, v in st["curriculum"].items()]))
        parts.append("<h3>Examples</h3>")
        for which in ("best", "median", "worst"):
            parts.append(f"<h4>{which} accepted</h4><div class='ex'>"
                         f"{_examples(g['examples'][which])}</div>")
        for fname, rows in g.get("rejected_examples", {}).items():
            parts.append(f"<h4>rejected by {_e(fname)}</h4><div class='ex'>{_examples(rows)}</div>")
        parts.append("<h3>Reproducibility</h3>" + _table(
            ["metric", "sacrebleu signature"],
            [[_e(k), f"<code>{_e(v)}</code>"] for k, v in man.get("signatures", {}).items()]))
        parts.append(f"<p>Model: <code>{_e(json.dumps(man.get('model')))}</code></p>"
                     f"<details><summary>config</summary><pre>"
                     f"{_e(json.dumps(man.get('config'), indent=1))}</pre></details></section>")
    parts.append(CHECK + "</body></html>")
    return "".join(parts)


def render_md(report: dict) -> str:
    out = ["# translate-synth report", "", "| " + " | ".join(SUMMARY_COLS) + " |",
           "|" + "---|" * len(SUMMARY_COLS)]
    for r in report["summary"]:
        out.append("| " + " | ".join(str(r[c]) for c in SUMMARY_COLS) + " |")
    if "comparison" in report["plots"]:
        out += ["", "![languages compared](report_plots/comparison.png)"]
    for g in report["languages"]:
        lang, st = g["lang"], g["stats"]
        q = g.get("calibration") or {}
        out += ["", f"## {lang}", ""] + [f"**warning:** quality: {w}  " for w in
                                         q.get("warnings", [])]
        out += [f"- quality, {o}: {c.get('note')}" for o, c in (q.get("origins") or {}).items()]
        out += ["", "| filter | seen | kept | removed | removed % | rare types kept (target) |",
                "|---|---|---|---|---|---|"]
        for f in st.get("filters", []):
            r = (f.get("rare_types") or {}).get("target")
            rare = f"{100 * r['before']:.1f} -> {100 * r['after']:.1f}" if r else ""
            out.append(f"| {f['name']} | {f['seen']} | {f['kept']} | {f['removed']} | "
                       f"{100 * f['removed_share']:.1f} | {rare} |")
        for name in g.get("plots", []):
            out.append(f"\n![{name}](report_plots/{lang}_{name}.png)")
        alarms = (g.get("collapse") or {}).get("alarms", [])
        out += ["", f"Collapse alarms: {len(alarms)}"]
        for a in alarms:
            out.append(f"- **{a['metric']}** ({a['side']}): {a['value']} vs {a['direction']} "
                       f"{a['threshold']}: {a['hint']}")
        out += ["", "Signatures: " + "; ".join(f"{k} `{v}`" for k, v in
                                                g["manifest"].get("signatures", {}).items())]
        out += ["", "Best accepted:"]
        for e in g["examples"]["best"]:
            out.append(f"- `{e['origin']}` {e['authentic']} → {e['synthetic']} "
                       f"(round trip: {e['roundtrip']})")
    return "\n".join(out) + "\n"

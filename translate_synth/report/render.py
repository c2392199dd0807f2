"""report.json -> HTML (self-contained) and Markdown, in words and rounded numbers.

Each run gets a summary first (what was made, what was kept and by which filters, whether it is
safe to train on: collapse alarms and quality warnings), a loud banner when (almost) nothing
synthetic was kept, then the details: funnel, scores, quality, rare words, collapse, curriculum,
examples, model and reproducibility. No JSON text: settings and numbers are written as words.
"""

from __future__ import annotations

import html
import math
import re

from translate_synth.finalize import LOW_KEEP
from translate_synth.report.gather import quality_warnings
from translate_synth.report.plots import COLLAPSE_WORDS, ORIGIN_WORDS, crossed

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

FILTER_WORDS = {
    "heldout_overlap": "row equals a valid or test sentence",
    "duplicate": "repeats a real pair or an earlier row",
    "real_target_overlap": "back-translation of a target the real pairs already have",
    "length_ratio": "synthetic / authentic length (best at 1)",
    "length": "sentence length in characters",
    "copy": "synthetic side copies its input (character-trigram overlap)",
    "repetition": "repeated word n-grams (loops, hallucination)",
    "script": "share of letters in the language's script",
    "langid": "language-ID probability of the expected language",
    "rt_chrf": "round-trip chrF against the authentic text",
    "rt_bleu": "round-trip BLEU against the authentic text",
    "logprob_fwd": "mean token log-probability, synthetic given authentic",
    "logprob_bwd": "mean token log-probability, authentic given synthetic",
    "fluency": "character 5-gram language model, log2-probability per character",
    "quality": "predicted reference chrF (0-100)",
    "novelty": "word types only this row carries",
    "select": "quality plus a bonus per word type only this row carries",
}
DIRECTION_WORDS = {"higher": "higher is better", "lower": "lower is better",
                   "range": "in a range"}
SCORE_WORDS = {"quality": "quality", "rt_chrf": "chrF", "rt_bleu": "BLEU",
               "length_ratio": "length ratio", "copy": "copy", "langid_synthetic": "langid",
               "logprob_fwd": "log-prob"}
METHOD_WORDS = {"rt_chrf": "round-trip chrF as is (not calibrated)",
                "monotone": "round-trip chrF mapped to reference-chrF units",
                "fitted": "model fitted on real pairs",
                "prior": "dev-book prior (round-trip chrF + fluency) mapped to reference-chrF "
                         "units"}


# ---------------------------------------------------------------- numbers and words

def num(x, unit: str = "") -> str:
    """A number for people: thousands separators, at most 2 decimals, no trailing zeros."""
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}{unit}"
    if not isinstance(x, float):
        return f"{x}{unit}"
    if not math.isfinite(x):
        return f"{x}{unit}"
    if abs(x) >= 100:
        text = f"{x:,.0f}"
    elif abs(x) >= 10:
        text = f"{x:.1f}"
    else:
        text = f"{x:.2f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return ("0" if text in ("-0", "") else text) + unit


def pct(part, whole) -> str:
    if not whole:
        return "-"
    v = 100 * part / whole
    return f"{v:.1f} %" if v < 99.95 or part == whole else "99.9 %"


def words(text) -> str:
    """Text written by the tool (warnings, notes, hints) with long decimals rounded."""
    return re.sub(r"(?<![\w.])-?\d+\.\d{3,}(?![\d.])", lambda m: num(float(m.group())),
                  "" if text is None else str(text))


def _e(x) -> str:
    return html.escape("" if x is None else str(x))


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{num(n)} {one if n == 1 else (many or one + 's')}"


def origin_words(o: str) -> str:
    return f"{ORIGIN_WORDS[o]} ({o})" if o in ORIGIN_WORDS and ORIGIN_WORDS[o] != o and \
        o != "real" else ORIGIN_WORDS.get(o, o)


def _cut_words(b: dict) -> str:
    lo, hi = b.get("min"), b.get("max")
    return (f"{num(lo)} to {num(hi)}" if lo is not None and hi is not None else
            f"cut at {num(lo if lo is not None else hi)}" if (lo, hi) != (None, None) else "")


def origin_counts(f: dict) -> str:
    """A funnel step's kept/seen per origin: "bt 120/150, ft 98/140"."""
    return ", ".join(f"{o} {num(v['kept'])}/{num(v['seen'])}"
                     for o, v in (f.get("by_origin") or {}).items() if v.get("seen"))


def threshold_words(f: dict) -> str:
    """A filter's threshold as a person would say it: "min 30", "keep best 80 %"..."""
    th = dict(f.get("thresholds") or {})
    res = th.pop("resolved", None) or {}
    per_origin = th.pop("resolved_by_origin", None) or {}
    pool = th.pop("pool", None)
    t = f.get("type") or f.get("name")
    for k in ("min", "max"):
        th.pop(k, None)
    lo, hi = res.get("min"), res.get("max")
    if t == "heldout_overlap":
        parts = ["drop every match"]
    elif t == "duplicate":
        parts = [f"drop repeats ({th.pop('mode', 'normalised')} text)"]
    elif t == "real_target_overlap":
        parts = ["scored only (keep: true)" if th.pop("keep", False) else "drop every match"]
    else:
        cut = (f"kept {num(lo)} to {num(hi)}" if lo is not None and hi is not None else
               f"cut at {num(lo if lo is not None else hi)}" if (lo, hi) != (None, None)
               else "")
        if per_origin:  # one cut per origin
            cut = ", ".join(f"{o} {_cut_words(b)}" for o, b in per_origin.items()
                            if _cut_words(b)) or cut
        where = " over all origins" if pool == "all" else (" per origin" if per_origin else "")
        if th.get("keep_top") is not None:
            k = th.pop("keep_top")
            share = (", ".join(f"{o} {num(100 * v)} %" for o, v in k.items())
                     if isinstance(k, dict) else f"{num(100 * k)} %")
            parts = [f"keep best {share}{where}" + (f" ({cut})" if cut else "")]
        elif th.get("real_percentile") is not None:
            p = th.pop("real_percentile")
            parts = [f"at least the real pairs' {num(p)}th percentile{where}" +
                     (f" ({cut})" if cut else "")]
        elif lo is not None and hi is not None:
            parts = [f"between {num(lo)} and {num(hi)}"]
        elif lo is not None:
            parts = [f"min {num(lo)}"]
        elif hi is not None:
            parts = [f"max {num(hi)}"]
        else:
            parts = ["scored only, no threshold"]
        th.pop("keep_top", None)
        th.pop("real_percentile", None)
    if isinstance(th.get("novelty_weight"), dict):
        parts.append("quality points per novel word type: " + ", ".join(
            f"{o} +{num(v)}" for o, v in th.pop("novelty_weight").items()))
    elif th.get("novelty_weight") is not None:
        parts.append(f"+{num(th.pop('novelty_weight'))} quality point per novel word type")
    if th.get("side"):
        parts.append(f"{th.pop('side')} side")
    for k, v in th.items():  # any other option, as "key value"
        if v is not None:
            parts.append(f"{k.replace('_', ' ')} {_value_words(v)}")
    return "; ".join(parts)


def _value_words(v) -> str:
    if isinstance(v, dict):
        return ", ".join(f"{k} {_value_words(x)}" for k, x in v.items()) or "none"
    if isinstance(v, (list, tuple)):
        return ", ".join(_value_words(x) for x in v) or "none"
    if isinstance(v, (int, float)):
        return num(v)
    return "none" if v is None else str(v)


def scores_words(scores: dict) -> str:
    return ", ".join(f"{SCORE_WORDS.get(k, k)} {num(v)}" for k, v in scores.items())


def model_words(m: dict | None) -> str:
    """manifest["model"] in one sentence: backend, model id, family, device."""
    if not m:
        return "not recorded"
    m = dict(m)
    out = [f"{m.pop('backend', '?')} backend", f"model {_value_words(m.pop('model', None))}"]
    ids = m.pop("ids", None)
    if ids:
        out.append("per direction " + _value_words(ids))
    fam = m.pop("family", None)
    if fam:
        out.append("family " + _value_words(fam))
    rev = m.pop("revision", None)
    if rev:
        out.append(f"revision {rev}")
    dev = m.pop("device", None)
    if dev:
        threads = m.pop("threads", None)
        out.append(f"on {dev}" + (f" with {_plural(threads, 'thread')}" if threads else ""))
    for k in ("dtype", "quantization"):
        if m.get(k):
            out.append(f"{k} {m.pop(k)}")
    note = m.pop("decoding_note", None)
    cache = m.pop("cache", None)
    conv = m.pop("converted", None)
    for k, v in m.items():
        if v not in (None, {}, []):
            out.append(f"{k.replace('_', ' ')} {_value_words(v)}")
    text = ", ".join(out)
    if note:
        text += f" ({note})"
    if conv:
        text += f"; CTranslate2 conversions: {_value_words(conv)}"
    if cache:
        text += f"; translations cached in {cache}"
    return text


def decoding_words(d: dict | None) -> str:
    if not d:
        return "-"
    if d.get("sampling"):
        how = f"sampling (temperature {num(d.get('temperature'))}, top-p {num(d.get('top_p'))}"
        how += f", top-k {num(d['top_k'])})" if d.get("top_k") else ")"
    else:
        how = "greedy" if d.get("beam_size", 1) <= 1 else f"beam {num(d.get('beam_size'))}"
    how += f", at most {num(d.get('max_new_tokens'))} new tokens"
    if d.get("min_new_tokens"):
        how += f", at least {num(d['min_new_tokens'])}"
    return how + (f", batches of {num(d.get('batch_size'))} rows / "
                  f"{num(d.get('max_tokens'))} tokens")


def _yaml(cfg) -> str:
    import yaml

    return yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True, default_flow_style=False,
                          width=100)


# ---------------------------------------------------------------- facts shared by HTML and md

def _kept(g: dict) -> tuple[int, int]:
    """(candidates, synthetic rows kept) as the funnel counts them."""
    funnel = g["stats"].get("filters") or []
    if not funnel:
        return 0, 0
    return funnel[0]["seen"], funnel[-1]["kept"]


def banner(g: dict) -> list[str]:
    """Lines of the loud banner, or [] when enough synthetic rows were kept."""
    seen, kept = _kept(g)
    real = ((g["stats"].get("emitted") or {}).get("train") or {}).get("real", 0)
    funnel = g["stats"].get("filters") or []
    worst = max(funnel, key=lambda f: f["removed"]) if funnel else None
    why = (f"{worst['name']} removed the most ({num(worst['removed'])} rows, "
           f"{threshold_words(worst)})") if worst and worst["removed"] else ""
    check = ("Check the model's output in candidates.jsonl and the thresholds; "
             "`translate-synth refilter` re-decides without the model.")
    if not seen:
        return ["No synthetic candidate was made.",
                f"train.jsonl holds only the {num(real)} real pairs: check the monolingual "
                "inputs and the synthesis settings."]
    if kept == 0:
        return [f"No synthetic row was kept: the filters removed all {num(seen)} candidates.",
                f"train.jsonl holds only the {num(real)} real pairs. {why}. {check}"]
    if kept < LOW_KEEP * seen:
        return [f"Only {num(kept)} of {num(seen)} synthetic candidates were kept "
                f"({pct(kept, seen)}, under a tenth).", f"{why}. {check}"]
    return []


def alarm_words(a: dict, side_lang: dict) -> str:
    side = a.get("side", "?")
    lang = a.get("lang") or side_lang.get(side)
    thr = a.get("threshold")
    below = a.get("direction") == "min"
    return (f"{side} side{f' ({lang})' if lang else ''}: "
            f"{COLLAPSE_WORDS.get(a.get('metric'), a.get('metric'))} = {num(a.get('value'))}, "
            f"alarm {'below' if below else 'above'} {num(thr)}: {words(a.get('hint'))}")


def collapse_notes(col: dict | None, langs: dict) -> list[str]:
    """Sides the collapse monitor could not judge, and why (too few rows, no text)."""
    out = []
    for side, m in ((col or {}).get("sides") or {}).items():
        if not isinstance(m, dict):
            continue
        why = [words(m[k]) for k in ("skipped", "note") if m.get(k)]
        if why:
            lang = m.get("lang") or langs.get(side)
            out.append(f"{side} side{f' ({lang})' if lang else ''} not fully checked: "
                       + "; ".join(why))
    return out


def _side_langs(g: dict) -> dict:
    return {"source": g.get("source_lang"), "target": g.get("lang")}


def curriculum_rows(g: dict) -> list[dict]:
    """Per stage: rows, real rows, how many times each real pair appears, synthetic by origin."""
    st = g["stats"]
    real_pairs = ((st.get("emitted") or {}).get("train") or {}).get("real", 0)
    out = []
    for name, s in (st.get("curriculum") or {}).items():
        origins = s.get("origins") or {}
        real = origins.get("real", 0)
        if not real:
            times = "no real pairs"
        elif real_pairs and real > real_pairs:
            times = f"{real / real_pairs:.1f}x (each of the {num(real_pairs)} real pairs " \
                    f"about {real / real_pairs:.0f} times)"
        elif real_pairs and real < real_pairs:
            times = f"once ({num(real)} of the {num(real_pairs)} real pairs)"
        else:
            times = "once (no repeat)"
        syn = ", ".join(f"{num(v)} {o}" for o, v in origins.items() if o != "real") or "none"
        out.append({"stage": name, "rows": s.get("rows", 0), "real": real, "times": times,
                    "synthetic": syn, "real_share": s.get("real_share")})
    return out


def quality_rows(g: dict) -> list[dict]:
    """Per origin: how quality is computed, on how many real pairs, and what each signal says."""
    cal = g.get("calibration") or (g["stats"].get("quality") or {})
    out = []
    for o, c in (cal.get("origins") or {}).items():
        cands = c.get("candidates") or {}
        how = METHOD_WORDS.get(c.get("method"), c.get("method") or "-")
        sel = c.get("selected")
        if c.get("method") == "fitted" and sel in cands:
            # a nested Spearman when there is one: not the number that chose the model
            s, b = c.get("nested") or cands[sel], cands.get("rt_chrf", {})
            how += (f" '{sel}': out-of-sample Spearman {num(s.get('spearman'))} "
                    f"(90 % interval {_interval(s.get('interval'))}) against round-trip chrF's "
                    f"{num(b.get('spearman'))} ({_interval(b.get('interval'))})")
        elif c.get("method") == "prior" and "prior" in cands:
            s, b = cands["prior"], cands.get("rt_chrf", {})
            how += (f": Spearman on the run's real pairs {num(s.get('spearman'))} (90 % "
                    f"interval {_interval(s.get('interval'))}) against round-trip chrF's "
                    f"{num(b.get('spearman'))} ({_interval(b.get('interval'))})")
        elif c.get("method") == "monotone" and "rt_chrf" in cands:
            b = cands["rt_chrf"]
            how += (f": no prior for this origin, or the run's pairs vetoed it (round-trip "
                    f"chrF Spearman "
                    f"{num(b.get('spearman'))}, 90 % interval {_interval(b.get('interval'))})")
        else:
            how = words(c.get("note")) or how
        signals = ", ".join(f"{k} {num(v)}" for k, v in (c.get("signals") or {}).items()
                            if v is not None)
        out.append({"origin": o, "n": c.get("n"), "how": how,
                    "reference": c.get("reference_chrf_mean"), "signals": signals,
                    "warnings": [words(w) for w in c.get("warnings") or []]})
    return out


def _interval(iv) -> str:
    if not iv or len(iv) != 2:
        return "-"
    return f"{num(iv[0])} to {num(iv[1])}"


def made_rows(g: dict) -> list[dict]:
    """Per origin: inputs, candidates, kept, and the filters that removed most of the rest."""
    syn = g["stats"].get("synthesis") or {}
    out = []
    for o, c in (g.get("origins") or {}).items():
        removed = ", ".join(f"{f} {num(n)}" for f, n in list(c["removed_by"].items())[:3])
        out.append({"origin": o, "inputs": (syn.get(o) or {}).get("inputs"),
                    "candidates": c["candidates"], "kept": c["kept"],
                    "removed_by": removed or "-"})
    return out


def verdict(g: dict) -> tuple[bool, str]:
    """(anything flagged, one sentence)."""
    alarms = (g.get("collapse") or {}).get("alarms") or []
    warns = quality_warnings(g)
    flags = []
    if banner(g):
        flags.append("too few synthetic rows kept")
    if alarms:
        flags.append(_plural(len(alarms), "collapse alarm"))
    unchecked = collapse_notes(g.get("collapse"), _side_langs(g))
    if unchecked:
        flags.append(f"collapse not fully checked on {_plural(len(unchecked), 'side')}")
    if warns:
        flags.append(_plural(len(warns), "quality warning"))
    if not flags:
        return False, ("Nothing flagged: no collapse alarm and no quality warning. Still read "
                       "the examples below before training.")
    return True, "Read before training on it: " + ", ".join(flags) + "."


# ---------------------------------------------------------------- HTML

def _table(header, rows, num_cols=()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(
        f"<td class='n'>{c}</td>" if i in num_cols else f"<td>{c}</td>"
        for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _img(b64: dict, name: str, alt: str) -> str:
    if name not in b64:
        return ""
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{b64[name]}">'


def _examples(rows) -> str:
    return _table(["origin", "authentic", "synthetic", "round trip", "scores", "rejected by"],
                  [[_e(r["origin"]), _e(r["authentic"]), _e(r["synthetic"]), _e(r["roundtrip"]),
                    _e(scores_words(r["scores"])), _e(", ".join(r.get("rejected_by") or []))]
                   for r in rows])


def _summary_html(g: dict) -> str:
    st = g["stats"]
    seen, kept = _kept(g)
    real = st.get("real") or {}
    emitted = st.get("emitted") or {}
    train = emitted.get("train") or {}
    syn_kept = sum(v for k, v in train.items() if k != "real")
    out = ["<div class='summary'><h3>Summary</h3>"]
    flagged, sentence = verdict(g)
    out.append(f"<p class='verdict {'alarm' if flagged else 'ok'}'>{_e(sentence)}</p>")
    # what was made
    out.append("<h4>What was made</h4><p>" + _e(
        f"{num(real.get('read', 0))} real pairs read ({num(real.get('train', 0))} for training, "
        f"{num(real.get('valid', 0))} valid, {num(real.get('test', 0))} test). The model made "
        f"{num(seen)} synthetic candidates:") + "</p>")
    rows = made_rows(g)
    out.append(_table(
        ["origin", "input sentences", "candidates", "kept", "kept %", "removed most by"],
        [[_e(origin_words(r["origin"])), _e(num(r["inputs"])), _e(num(r["candidates"])),
          _e(num(r["kept"])), _e(pct(r["kept"], r["candidates"])), _e(r["removed_by"])]
         for r in rows] + [["<b>all</b>", "", f"<b>{_e(num(seen))}</b>",
                            f"<b>{_e(num(kept))}</b>", f"<b>{_e(pct(kept, seen))}</b>", ""]],
        num_cols=(1, 2, 3, 4)))
    # what was kept
    funnel = st.get("filters") or []
    cut = [f for f in funnel if f["removed"]]
    idle = [f["name"] for f in funnel if not f["removed"]]
    out.append("<h4>What was kept</h4><p>" + _e(
        f"{num(kept)} of {num(seen)} candidates kept ({pct(kept, seen)}).") + "</p>")
    if cut:
        out.append("<ul>" + "".join(
            f"<li><b>{_e(f['name'])}</b> removed {_e(num(f['removed']))} of "
            f"{_e(num(f['seen']))} ({_e(pct(f['removed'], f['seen']))}): "
            f"{_e(threshold_words(f))}</li>" for f in cut) + "</ul>")
    if idle:
        out.append(f"<p>Removed nothing: {_e(', '.join(idle))}.</p>")
    out.append("<p>" + _e(
        f"Training set (train.jsonl): {num(train.get('real', 0) + syn_kept)} rows = "
        f"{num(train.get('real', 0))} real pairs + {num(syn_kept)} synthetic"
        + (" (" + ", ".join(f"{num(v)} {k}" for k, v in train.items() if k != "real") + ")"
           if syn_kept else "")
        + f". valid.jsonl ({num(sum((emitted.get('valid') or {}).values()))} rows) and "
          f"test.jsonl ({num(sum((emitted.get('test') or {}).values()))} rows) hold real "
          "pairs only.") + "</p>")
    extra = [k for k in emitted if k not in ("train", "valid", "test")]
    for k in extra:
        out.append(f"<p>{_e(k)}.jsonl: {_e(num(sum(emitted[k].values())))} rows.</p>")
    cur = curriculum_rows(g)
    if cur:
        out.append("<p>Curriculum, in training order: " + _e("; then ".join(
            f"{c['stage']} ({num(c['rows'])} rows, real pairs {c['times'].split(' (')[0]})"
            for c in cur)) + ".</p>")
    # safe to train on?
    out.append("<h4>Is it safe to train on?</h4><ul>")
    col = g.get("collapse")
    if col is None:
        out.append("<li>Collapse monitor off (collapse.enabled is false).</li>")
    else:
        alarms = col.get("alarms") or []
        notes = collapse_notes(col, _side_langs(g))
        out += [f"<li class='alarm'>Collapse alarm, {_e(alarm_words(a, _side_langs(g)))}"
                "</li>" for a in alarms]
        out += [f"<li class='warn'>Collapse monitor: {_e(n)}.</li>" for n in notes]
        if not alarms and not notes:
            out.append("<li class='ok'>No collapse alarm: the kept synthetic text keeps the "
                       "diversity, coverage and rare words of the real text on every metric "
                       "checked.</li>")
        elif not alarms:
            out.append("<li>No collapse alarm on what could be checked.</li>")
    warns = quality_warnings(g)
    out += [f"<li class='alarm'>Quality warning: {_e(words(w))}</li>" for w in warns]
    for q in quality_rows(g):
        out.append(f"<li>Quality score of {_e(origin_words(q['origin']))}: {_e(q['how'])}"
                   "</li>")
    out.append("</ul>")
    man = g["manifest"]
    out.append(f"<p><b>Model:</b> {_e(model_words(man.get('model')))}.</p></div>")
    return "".join(out)


def _section_html(g: dict, b64: dict) -> str:
    lang, st, man, slug = g["lang"], g["stats"], g["manifest"], g.get("slug", g["lang"])
    p = lambda n, alt: _img(b64, f"{slug}_{n}", alt)  # noqa: E731
    a = lambda n: f"{slug}-{n}"  # noqa: E731
    parts = [f"<section id='{_e(slug)}'><h2>{_e(g.get('label', lang))}: "
             f"{_e(g.get('source_lang'))} &rarr; {_e(lang)}</h2>"
             f"<p class='sub'>Run directory {_e(g['dir'])}; translate-synth "
             f"{_e(man.get('version'))}, seed {_e(num(man.get('seed')))}.</p>"]
    parts.append("<nav>" + "".join(
        f"<a href='#{_e(a(n))}'>{t}</a>" for n, t in (
            ("funnel", "funnel"), ("scores", "scores"), ("quality", "quality score"),
            ("rare", "rare words"), ("collapse", "collapse"), ("curriculum", "curriculum"),
            ("examples", "examples"), ("repro", "model and reproducibility"))) + "</nav>")
    lines = banner(g)
    if lines:
        parts.append(f"<div class='banner' role='alert'>{_e(lines[0])}" +
                     "".join(f"<p>{_e(x)}</p>" for x in lines[1:]) + "</div>")
    parts.append(_summary_html(g))

    funnel = st.get("filters") or []
    parts.append(f"<h3 id='{_e(a('funnel'))}'>Filter funnel</h3>" + p("funnel", "filter funnel")
                 + _table(["filter", "what it scores", "direction", "threshold", "seen", "kept",
                           "removed", "removed %", "kept / seen per origin"],
                          [[_e(f["name"]), _e(FILTER_WORDS.get(f.get("type"), f.get("score"))),
                            _e(DIRECTION_WORDS.get(f.get("direction"), f.get("direction"))),
                            _e(threshold_words(f)), _e(num(f["seen"])), _e(num(f["kept"])),
                            _e(num(f["removed"])), _e(pct(f["removed"], f["seen"])),
                            _e(origin_counts(f))]
                           for f in funnel], num_cols=(4, 5, 6, 7)))

    sc = st.get("scores") or {}
    parts.append(f"<h3 id='{_e(a('scores'))}'>Scores</h3>")
    if sc:
        parts.append(_table(
            ["score", "all candidates: rows", "mean", "median", "kept: rows", "mean", "median"],
            [[_e(SCORE_WORDS.get(k, k))] + [
                _e(num((v.get(part) or {}).get(x))) for part in ("all", "accepted")
                for x in ("n", "mean", "median")] for k, v in sc.items()],
            num_cols=(1, 2, 3, 4, 5, 6)))
    parts.append("<div class='pair'>" + p("rt_bleu", "round-trip BLEU histogram") +
                 p("rt_chrf", "round-trip chrF histogram") + "</div>" +
                 p("lengths", "length distributions"))

    parts.append(f"<h3 id='{_e(a('quality'))}'>Quality score</h3>")
    warns = quality_warnings(g)
    parts += [f"<p class='alarm'>Warning: {_e(words(w))}</p>" for w in warns]
    label = (g.get("calibration") or {}).get("label") or (st.get("quality") or {}).get("label")
    if label:
        parts.append(f"<p>Truth on the real pairs: {_e(label)}.</p>")
    qrows = quality_rows(g)
    if qrows:
        parts.append(_table(
            ["origin", "real pairs", "how quality is computed",
             "mean reference chrF on real pairs", "Spearman of each signal with the truth"],
            [[_e(origin_words(q["origin"])), _e(num(q["n"])), _e(q["how"]),
              _e(num(q["reference"])), _e(q["signals"] or "-")] for q in qrows],
            num_cols=(1, 3)))
    else:
        parts.append("<p>No quality calibration recorded.</p>")

    rare = [f for f in funnel if f.get("rare_types")]
    parts.append(f"<h3 id='{_e(a('rare'))}'>What each filter costs in rare words</h3>")
    if rare:
        sides = list(rare[0]["rare_types"])
        langs = _side_langs(g)
        parts.append("<p>Share of the word types rare in the real training text (seen at most "
                     "collapse.rare_k times) carried by the rows reaching the filter, then by "
                     "the rows it keeps.</p>" + _table(
                         ["filter"] + [f"rare {s} ({langs.get(s) or s}) types, %" for s in sides],
                         [[_e(f["name"])] + [
                             _e(f"{100 * f['rare_types'][s]['before']:.1f} -> "
                                f"{100 * f['rare_types'][s]['after']:.1f}")
                             if s in f["rare_types"] else "" for s in sides]
                          for f in rare], num_cols=tuple(range(1, len(sides) + 1))))
    else:
        parts.append("<p>Not recorded for this run.</p>")

    col = g.get("collapse")
    parts.append(f"<h3 id='{_e(a('collapse'))}'>Collapse monitor</h3>")
    if col:
        parts.append(p("collapse", "collapse metrics") + _collapse_table(col, _side_langs(g)))
    else:
        parts.append("<p>Off for this run (collapse.enabled is false).</p>")

    parts.append(f"<h3 id='{_e(a('curriculum'))}'>Curriculum</h3>")
    cur = curriculum_rows(g)
    if cur:
        parts.append(p("curriculum", "curriculum composition") + _table(
            ["stage (in order)", "rows", "real rows", "real pairs repeated",
             "synthetic rows by origin", "real share"],
            [[_e(c["stage"]), _e(num(c["rows"])), _e(num(c["real"])), _e(c["times"]),
              _e(c["synthetic"]), _e(pct(c["real_share"] or 0, 1))] for c in cur],
            num_cols=(1, 2, 5)))
    else:
        parts.append("<p>No curriculum stages.</p>")

    parts.append(f"<h3 id='{_e(a('examples'))}'>Examples</h3>")
    for which in ("best", "median", "worst"):
        rows = g["examples"][which]
        parts.append(f"<h4>{which} accepted, by quality</h4>" +
                     (f"<div class='ex'>{_examples(rows)}</div>" if rows else "<p>none</p>"))
    for fname, rows in g.get("rejected_examples", {}).items():
        parts.append(f"<h4>rejected first by {_e(fname)}</h4><div class='ex'>"
                     f"{_examples(rows)}</div>")

    parts.append(f"<h3 id='{_e(a('repro'))}'>Model and reproducibility</h3>")
    parts.append(f"<p><b>Model:</b> {_e(model_words(man.get('model')))}.</p>")
    dec = man.get("decoding") or {}
    if dec:
        parts.append(_table(["decoding", "settings"],
                            [[_e(k.replace("_", " ")), _e(decoding_words(v))]
                             for k, v in dec.items()]))
    engines = man.get("metric_engines") or {}
    parts.append(_table(["metric", "sacrebleu signature", "computed by"],
                        [[_e(k), f"<code>{_e(v)}</code>", _e(engines.get(k, ""))]
                         for k, v in (man.get("signatures") or {}).items()]))
    inputs = man.get("inputs") or []
    if inputs:
        parts.append(_table(["input", "file", "format", "bytes", "sha256"],
                            [[_e(i.get("kind")), _e(i.get("path")), _e(i.get("format")),
                              _e(num(i.get("bytes"))), f"<code>{_e(i.get('sha256'))}</code>"]
                             for i in inputs], num_cols=(3,)))
    pk = man.get("packages") or {}
    if pk:
        parts.append("<p>Packages: " + _e(", ".join(f"{k} {v}" for k, v in pk.items())) +
                     ".</p>")
    if man.get("config") is not None:
        parts.append("<details><summary>resolved configuration (YAML)</summary><pre>"
                     f"{_e(_yaml(man['config']))}</pre></details>")
    parts.append("</section>")
    return "".join(parts)


def _collapse_table(col: dict, langs: dict) -> str:
    sides = {k: v for k, v in (col.get("sides") or {}).items() if isinstance(v, dict)}
    thresholds = col.get("thresholds") or {}
    rows = []
    for m, thr in thresholds.items():
        vals = [sides[s].get(m) for s in sides]
        if not any(isinstance(v, (int, float)) for v in vals):
            continue
        cells = [f"<span class='alarm'>{_e(num(v))} (alarm)</span>" if crossed(v, thr)
                 else _e(num(v)) for v in vals]
        limit = ("no alarm set" if thr.get("value") is None else
                 f"{'min' if thr.get('direction') == 'min' else 'max'} {num(thr['value'])}")
        rows.append([_e(COLLAPSE_WORDS.get(m, m)), _e(m)] + cells + [_e(limit)])
    alarms = col.get("alarms") or []
    notes = collapse_notes(col, langs)
    head = ("<p class='ok'>No alarm.</p>" if not alarms and not notes else "".join(
        f"<p class='alarm'>Alarm, {_e(alarm_words(a, langs))}</p>" for a in alarms) + "".join(
        f"<p class='warn'>{_e(n)}.</p>" for n in notes))
    if not rows:
        return head + "<p>Too few rows to compute the metrics.</p>"
    return head + "<p>Synthetic text against real text of the same language, on samples of " \
        "equal size (ratios are about 1 for real text against real text).</p>" + _table(
            ["metric", "key"] + [f"{s} ({langs.get(s) or s})" for s in sides] + ["alarm"],
            rows, num_cols=tuple(range(2, 2 + len(sides))))


def _comparison_html(report: dict, b64: dict) -> str:
    s = report["summary"]
    rows = []
    for r, g in zip(s, report["languages"]):
        low = bool(banner(g))
        kept = pct(r["kept"], r["candidates"])
        rows.append([f"<a href='#{_e(g.get('slug', r['lang']))}'>{_e(r['label'])}</a>",
                     _e(r["lang"]), _e(num(r["real_train"])), _e(num(r["candidates"])),
                     _e(num(r["kept"])),
                     f"<span class='alarm'>{_e(kept)}</span>" if low else _e(kept),
                     _e(num(r["synthetic_kept"])),
                     _e(num(r["rt_bleu_mean"])), _e(num(r["rt_chrf_mean"])),
                     _e(num(r["quality_mean"])),
                     f"<span class='alarm'>{r['alarms']}</span>" if r["alarms"] else "0",
                     f"<span class='alarm'>{r['quality_warnings']}</span>"
                     if r["quality_warnings"] else "0"])
    return ("<h2>Runs compared</h2>" + _table(
        ["run", "language", "real train pairs", "synthetic candidates", "synthetic kept",
         "kept %", "synthetic in train.jsonl", "BLEU (kept, mean)", "chrF (kept, mean)",
         "quality (kept, mean)", "collapse alarms", "quality warnings"], rows,
        num_cols=tuple(range(2, 12))) +
        _img(b64, "comparison", "runs compared"))


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
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(title)}"
             f"</title><style>{CSS}</style></head><body><h1>{_e(title)}</h1>"]
    if len(runs) > 1:
        parts.append(_comparison_html(report, b64))
        for g in runs:
            lines = banner(g)
            if lines:
                parts.append(f"<div class='banner' role='alert'>{_e(g.get('label'))}: "
                             f"{_e(lines[0])}</div>")
    parts.append(models)
    for g in runs:
        parts.append(_section_html(g, b64))
    parts.append(CHECK + "</body></html>")
    return "".join(parts)


# ---------------------------------------------------------------- Markdown

def _md_cell(x) -> str:
    return str(x).replace("|", "\\|").replace("\n", " ")


def _md_table(header, rows) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows]


def render_md(report: dict, models: list[str] = (), title: str | None = None) -> str:
    """``models``: the models-compared lines (evaluation directories), placed before the runs."""
    runs = report["languages"]
    out = ["# translate-synth report" + (f": {title}" if title else
                                         f": {runs[0].get('label', runs[0]['lang'])}"
                                         if len(runs) == 1 else f": {len(runs)} runs compared")]
    if len(runs) > 1:
        out += ["", *_md_table(
            ["run", "language", "real train pairs", "candidates", "synthetic kept", "kept %",
             "synthetic in train.jsonl", "BLEU (kept)", "chrF (kept)", "quality (kept)",
             "collapse alarms", "quality warnings"],
            [[r["label"], r["lang"], num(r["real_train"]), num(r["candidates"]),
              num(r["kept"]), pct(r["kept"], r["candidates"]), num(r["synthetic_kept"]),
              num(r["rt_bleu_mean"]), num(r["rt_chrf_mean"]), num(r["quality_mean"]),
              r["alarms"], r["quality_warnings"]] for r in report["summary"]])]
    if "comparison" in report["plots"]:
        out += ["", "![runs compared](report_plots/comparison.png)"]
    out += list(models)
    for g in runs:
        st, slug = g["stats"], g.get("slug", g["lang"])
        seen, kept = _kept(g)
        out += ["", f"## {g.get('label', g['lang'])}: {g.get('source_lang')} -> {g['lang']}", "",
                f"Run directory `{g['dir']}`.", ""]
        out += [f"> **{line}**" if i == 0 else f"> {line}"
                for i, line in enumerate(banner(g))] + ([""] if banner(g) else [])
        out += [f"**{verdict(g)[1]}**", "", "What was made:", ""]
        out += _md_table(["origin", "inputs", "candidates", "kept", "kept %", "removed most by"],
                         [[origin_words(r["origin"]), num(r["inputs"]), num(r["candidates"]),
                           num(r["kept"]), pct(r["kept"], r["candidates"]), r["removed_by"]]
                          for r in made_rows(g)] +
                         [["**all**", "", num(seen), num(kept), pct(kept, seen), ""]])
        alarms = (g.get("collapse") or {}).get("alarms") or []
        out += ["", "Is it safe to train on?", ""]
        if g.get("collapse") is None:
            out.append("- collapse monitor off")
        out += [f"- **collapse alarm**, {alarm_words(a, _side_langs(g))}" for a in alarms]
        out += [f"- **collapse monitor:** {n}" for n in collapse_notes(g.get("collapse"),
                                                                       _side_langs(g))]
        if g.get("collapse") is not None and not alarms:
            out.append("- no collapse alarm")
        out += [f"- **quality warning:** {words(w)}" for w in quality_warnings(g)]
        out += [f"- quality score of {origin_words(q['origin'])}: {q['how']}"
                for q in quality_rows(g)]
        out += ["", f"Model: {model_words(g['manifest'].get('model'))}.", ""]
        out += _md_table(["filter", "threshold", "seen", "kept", "removed", "removed %",
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
            out += ["", *_md_table(["stage", "rows", "real rows", "real pairs repeated",
                                    "synthetic rows"],
                                   [[c["stage"], num(c["rows"]), num(c["real"]), c["times"],
                                     c["synthetic"]] for c in cur])]
        for name in g.get("plots", []):
            out.append(f"\n![{name}](report_plots/{slug}_{name}.png)")
        out += ["", "Signatures: " + "; ".join(f"{k} `{v}`" for k, v in
                                                (g["manifest"].get("signatures") or {}).items())]
        out += ["", "Best accepted:"]
        for e in g["examples"]["best"]:
            out.append(f"- `{e['origin']}` {e['authentic']} → {e['synthetic']} "
                       f"(round trip: {e['roundtrip']}; {scores_words(e['scores'])})")
    return "\n".join(out) + "\n"

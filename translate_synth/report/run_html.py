"""One run's section of report.html: a summary first (what was made, what was kept and by which
filters, whether it is safe to train on), a loud banner when (almost) nothing synthetic was kept,
then the details: funnel, scores, quality, rare words, collapse, curriculum, examples, model and
reproducibility."""

from __future__ import annotations

from translate_synth.report.gather import quality_warnings
from translate_synth.report.markup import esc, html_table, img_tag
from translate_synth.report.plots import COLLAPSE_WORDS, crossed
from translate_synth.report.run_facts import (alarm_words, banner, collapse_notes,
                                              curriculum_rows, kept_counts, made_rows,
                                              quality_rows, side_langs, verdict)
from translate_synth.report.wording import (DIRECTION_WORDS, FILTER_WORDS, SCORE_WORDS,
                                            decoding_words, model_words, num, origin_counts,
                                            origin_words, pct, scores_words, threshold_words,
                                            words)

NAV = (("funnel", "funnel"), ("scores", "scores"), ("quality", "quality score"),
       ("rare", "rare words"), ("collapse", "collapse"), ("curriculum", "curriculum"),
       ("examples", "examples"), ("repro", "model and reproducibility"))


def _yaml(cfg) -> str:
    import yaml

    return yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True, default_flow_style=False,
                          width=100)


def _examples(rows) -> str:
    return html_table(["origin", "authentic", "synthetic", "round trip", "scores",
                       "rejected by"],
                      [[esc(r["origin"]), esc(r["authentic"]), esc(r["synthetic"]),
                        esc(r["roundtrip"]), esc(scores_words(r["scores"])),
                        esc(", ".join(r.get("rejected_by") or []))]
                       for r in rows])


# ---------------------------------------------------------------- the summary box

def _made_html(g: dict) -> str:
    seen, kept = kept_counts(g)
    real = g["stats"].get("real") or {}
    out = ["<h4>What was made</h4><p>" + esc(
        f"{num(real.get('read', 0))} real pairs read ({num(real.get('train', 0))} for training, "
        f"{num(real.get('valid', 0))} valid, {num(real.get('test', 0))} test). The model made "
        f"{num(seen)} synthetic candidates:") + "</p>"]
    rows = made_rows(g)
    out.append(html_table(
        ["origin", "input sentences", "candidates", "kept", "kept %", "removed most by"],
        [[esc(origin_words(r["origin"])), esc(num(r["inputs"])), esc(num(r["candidates"])),
          esc(num(r["kept"])), esc(pct(r["kept"], r["candidates"])), esc(r["removed_by"])]
         for r in rows] + [["<b>all</b>", "", f"<b>{esc(num(seen))}</b>",
                            f"<b>{esc(num(kept))}</b>", f"<b>{esc(pct(kept, seen))}</b>", ""]],
        num_cols=(1, 2, 3, 4)))
    return "".join(out)


def _kept_html(g: dict) -> str:
    st = g["stats"]
    seen, kept = kept_counts(g)
    emitted = st.get("emitted") or {}
    train = emitted.get("train") or {}
    syn_kept = sum(v for k, v in train.items() if k != "real")
    funnel = st.get("filters") or []
    cut = [f for f in funnel if f["removed"]]
    idle = [f["name"] for f in funnel if not f["removed"]]
    out = ["<h4>What was kept</h4><p>" + esc(
        f"{num(kept)} of {num(seen)} candidates kept ({pct(kept, seen)}).") + "</p>"]
    if cut:
        out.append("<ul>" + "".join(
            f"<li><b>{esc(f['name'])}</b> removed {esc(num(f['removed']))} of "
            f"{esc(num(f['seen']))} ({esc(pct(f['removed'], f['seen']))}): "
            f"{esc(threshold_words(f))}</li>" for f in cut) + "</ul>")
    if idle:
        out.append(f"<p>Removed nothing: {esc(', '.join(idle))}.</p>")
    out.append("<p>" + esc(
        f"Training set (train.jsonl): {num(train.get('real', 0) + syn_kept)} rows = "
        f"{num(train.get('real', 0))} real pairs + {num(syn_kept)} synthetic"
        + (" (" + ", ".join(f"{num(v)} {k}" for k, v in train.items() if k != "real") + ")"
           if syn_kept else "")
        + f". valid.jsonl ({num(sum((emitted.get('valid') or {}).values()))} rows) and "
          f"test.jsonl ({num(sum((emitted.get('test') or {}).values()))} rows) hold real "
          "pairs only.") + "</p>")
    extra = [k for k in emitted if k not in ("train", "valid", "test")]
    for k in extra:
        out.append(f"<p>{esc(k)}.jsonl: {esc(num(sum(emitted[k].values())))} rows.</p>")
    cur = curriculum_rows(g)
    if cur:
        out.append("<p>Curriculum, in training order: " + esc("; then ".join(
            f"{c['stage']} ({num(c['rows'])} rows, real pairs {c['times'].split(' (')[0]})"
            for c in cur)) + ".</p>")
    return "".join(out)


def _safety_html(g: dict) -> str:
    out = ["<h4>Is it safe to train on?</h4><ul>"]
    col = g.get("collapse")
    if col is None:
        out.append("<li>Collapse monitor off (collapse.enabled is false).</li>")
    else:
        alarms = col.get("alarms") or []
        notes = collapse_notes(col, side_langs(g))
        out += [f"<li class='alarm'>Collapse alarm, {esc(alarm_words(a, side_langs(g)))}"
                "</li>" for a in alarms]
        out += [f"<li class='warn'>Collapse monitor: {esc(n)}.</li>" for n in notes]
        if not alarms and not notes:
            out.append("<li class='ok'>No collapse alarm: the kept synthetic text keeps the "
                       "diversity, coverage and rare words of the real text on every metric "
                       "checked.</li>")
        elif not alarms:
            out.append("<li>No collapse alarm on what could be checked.</li>")
    warns = quality_warnings(g)
    out += [f"<li class='alarm'>Quality warning: {esc(words(w))}</li>" for w in warns]
    for q in quality_rows(g):
        out.append(f"<li>Quality score of {esc(origin_words(q['origin']))}: {esc(q['how'])}"
                   "</li>")
    out.append("</ul>")
    return "".join(out)


def _summary_html(g: dict) -> str:
    flagged, sentence = verdict(g)
    man = g["manifest"]
    return ("<div class='summary'><h3>Summary</h3>"
            f"<p class='verdict {'alarm' if flagged else 'ok'}'>{esc(sentence)}</p>"
            + _made_html(g) + _kept_html(g) + _safety_html(g)
            + f"<p><b>Model:</b> {esc(model_words(man.get('model')))}.</p></div>")


# ---------------------------------------------------------------- the details

def _head_html(g: dict, slug: str) -> str:
    lang, man = g["lang"], g["manifest"]
    out = [f"<section id='{esc(slug)}'><h2>{esc(g.get('label', lang))}: "
           f"{esc(g.get('source_lang'))} &rarr; {esc(lang)}</h2>"
           f"<p class='sub'>Run directory {esc(g['dir'])}; translate-synth "
           f"{esc(man.get('version'))}, seed {esc(num(man.get('seed')))}.</p>"]
    out.append("<nav>" + "".join(f"<a href='#{esc(f'{slug}-{n}')}'>{t}</a>" for n, t in NAV)
               + "</nav>")
    lines = banner(g)
    if lines:
        out.append(f"<div class='banner' role='alert'>{esc(lines[0])}" +
                   "".join(f"<p>{esc(x)}</p>" for x in lines[1:]) + "</div>")
    return "".join(out)


def _funnel_html(g: dict, slug: str, b64: dict) -> str:
    funnel = g["stats"].get("filters") or []
    return (f"<h3 id='{esc(f'{slug}-funnel')}'>Filter funnel</h3>"
            + img_tag(b64, f"{slug}_funnel", "filter funnel")
            + html_table(["filter", "what it scores", "direction", "threshold", "seen", "kept",
                          "removed", "removed %", "kept / seen per origin"],
                         [[esc(f["name"]), esc(FILTER_WORDS.get(f.get("type"), f.get("score"))),
                           esc(DIRECTION_WORDS.get(f.get("direction"), f.get("direction"))),
                           esc(threshold_words(f)), esc(num(f["seen"])), esc(num(f["kept"])),
                           esc(num(f["removed"])), esc(pct(f["removed"], f["seen"])),
                           esc(origin_counts(f))]
                          for f in funnel], num_cols=(4, 5, 6, 7)))


def _scores_html(g: dict, slug: str, b64: dict) -> str:
    sc = g["stats"].get("scores") or {}
    out = [f"<h3 id='{esc(f'{slug}-scores')}'>Scores</h3>"]
    if sc:
        out.append(html_table(
            ["score", "all candidates: rows", "mean", "median", "kept: rows", "mean", "median"],
            [[esc(SCORE_WORDS.get(k, k))] + [
                esc(num((v.get(part) or {}).get(x))) for part in ("all", "accepted")
                for x in ("n", "mean", "median")] for k, v in sc.items()],
            num_cols=(1, 2, 3, 4, 5, 6)))
    out.append("<div class='pair'>" + img_tag(b64, f"{slug}_rt_bleu", "round-trip BLEU histogram")
               + img_tag(b64, f"{slug}_rt_chrf", "round-trip chrF histogram") + "</div>"
               + img_tag(b64, f"{slug}_lengths", "length distributions"))
    return "".join(out)


def _quality_html(g: dict, slug: str) -> str:
    st = g["stats"]
    out = [f"<h3 id='{esc(f'{slug}-quality')}'>Quality score</h3>"]
    out += [f"<p class='alarm'>Warning: {esc(words(w))}</p>" for w in quality_warnings(g)]
    label = (g.get("calibration") or {}).get("label") or (st.get("quality") or {}).get("label")
    if label:
        out.append(f"<p>Truth on the real pairs: {esc(label)}.</p>")
    qrows = quality_rows(g)
    if qrows:
        out.append(html_table(
            ["origin", "real pairs", "how quality is computed",
             "mean reference chrF on real pairs", "Spearman of each signal with the truth"],
            [[esc(origin_words(q["origin"])), esc(num(q["n"])), esc(q["how"]),
              esc(num(q["reference"])), esc(q["signals"] or "-")] for q in qrows],
            num_cols=(1, 3)))
    else:
        out.append("<p>No quality calibration recorded.</p>")
    return "".join(out)


def _rare_html(g: dict, slug: str) -> str:
    rare = [f for f in g["stats"].get("filters") or [] if f.get("rare_types")]
    out = f"<h3 id='{esc(f'{slug}-rare')}'>What each filter costs in rare words</h3>"
    if not rare:
        return out + "<p>Not recorded for this run.</p>"
    sides = list(rare[0]["rare_types"])
    langs = side_langs(g)
    return out + (
        "<p>Share of the word types rare in the real training text (seen at most "
        "collapse.rare_k times) carried by the rows reaching the filter, then by "
        "the rows it keeps.</p>" + html_table(
            ["filter"] + [f"rare {s} ({langs.get(s) or s}) types, %" for s in sides],
            [[esc(f["name"])] + [
                esc(f"{100 * f['rare_types'][s]['before']:.1f} -> "
                    f"{100 * f['rare_types'][s]['after']:.1f}")
                if s in f["rare_types"] else "" for s in sides]
             for f in rare], num_cols=tuple(range(1, len(sides) + 1))))


def _collapse_table(col: dict, langs: dict) -> str:
    sides = {k: v for k, v in (col.get("sides") or {}).items() if isinstance(v, dict)}
    thresholds = col.get("thresholds") or {}
    rows = []
    for m, thr in thresholds.items():
        vals = [sides[s].get(m) for s in sides]
        if not any(isinstance(v, (int, float)) for v in vals):
            continue
        cells = [f"<span class='alarm'>{esc(num(v))} (alarm)</span>" if crossed(v, thr)
                 else esc(num(v)) for v in vals]
        limit = ("no alarm set" if thr.get("value") is None else
                 f"{'min' if thr.get('direction') == 'min' else 'max'} {num(thr['value'])}")
        rows.append([esc(COLLAPSE_WORDS.get(m, m)), esc(m)] + cells + [esc(limit)])
    alarms = col.get("alarms") or []
    notes = collapse_notes(col, langs)
    head = ("<p class='ok'>No alarm.</p>" if not alarms and not notes else "".join(
        f"<p class='alarm'>Alarm, {esc(alarm_words(a, langs))}</p>" for a in alarms) + "".join(
        f"<p class='warn'>{esc(n)}.</p>" for n in notes))
    if not rows:
        return head + "<p>Too few rows to compute the metrics.</p>"
    return head + "<p>Synthetic text against real text of the same language, on samples of " \
        "equal size (ratios are about 1 for real text against real text).</p>" + html_table(
            ["metric", "key"] + [f"{s} ({langs.get(s) or s})" for s in sides] + ["alarm"],
            rows, num_cols=tuple(range(2, 2 + len(sides))))


def _collapse_html(g: dict, slug: str, b64: dict) -> str:
    col = g.get("collapse")
    out = f"<h3 id='{esc(f'{slug}-collapse')}'>Collapse monitor</h3>"
    if col:
        return out + img_tag(b64, f"{slug}_collapse", "collapse metrics") + _collapse_table(
            col, side_langs(g))
    return out + "<p>Off for this run (collapse.enabled is false).</p>"


def _curriculum_html(g: dict, slug: str, b64: dict) -> str:
    out = f"<h3 id='{esc(f'{slug}-curriculum')}'>Curriculum</h3>"
    cur = curriculum_rows(g)
    if not cur:
        return out + "<p>No curriculum stages.</p>"
    return out + img_tag(b64, f"{slug}_curriculum", "curriculum composition") + html_table(
        ["stage (in order)", "rows", "real rows", "real pairs repeated",
         "synthetic rows by origin", "real share"],
        [[esc(c["stage"]), esc(num(c["rows"])), esc(num(c["real"])), esc(c["times"]),
          esc(c["synthetic"]), esc(pct(c["real_share"] or 0, 1))] for c in cur],
        num_cols=(1, 2, 5))


def _examples_html(g: dict, slug: str) -> str:
    out = [f"<h3 id='{esc(f'{slug}-examples')}'>Examples</h3>"]
    for which in ("best", "median", "worst"):
        rows = g["examples"][which]
        out.append(f"<h4>{which} accepted, by quality</h4>" +
                   (f"<div class='ex'>{_examples(rows)}</div>" if rows else "<p>none</p>"))
    for fname, rows in g.get("rejected_examples", {}).items():
        out.append(f"<h4>rejected first by {esc(fname)}</h4><div class='ex'>"
                   f"{_examples(rows)}</div>")
    return "".join(out)


def _repro_html(g: dict, slug: str) -> str:
    man = g["manifest"]
    out = [f"<h3 id='{esc(f'{slug}-repro')}'>Model and reproducibility</h3>",
           f"<p><b>Model:</b> {esc(model_words(man.get('model')))}.</p>"]
    dec = man.get("decoding") or {}
    if dec:
        out.append(html_table(["decoding", "settings"],
                              [[esc(k.replace("_", " ")), esc(decoding_words(v))]
                               for k, v in dec.items()]))
    engines = man.get("metric_engines") or {}
    out.append(html_table(["metric", "sacrebleu signature", "computed by"],
                          [[esc(k), f"<code>{esc(v)}</code>", esc(engines.get(k, ""))]
                           for k, v in (man.get("signatures") or {}).items()]))
    inputs = man.get("inputs") or []
    if inputs:
        out.append(html_table(["input", "file", "format", "bytes", "sha256"],
                              [[esc(i.get("kind")), esc(i.get("path")), esc(i.get("format")),
                                esc(num(i.get("bytes"))), f"<code>{esc(i.get('sha256'))}</code>"]
                               for i in inputs], num_cols=(3,)))
    pk = man.get("packages") or {}
    if pk:
        out.append("<p>Packages: " + esc(", ".join(f"{k} {v}" for k, v in pk.items())) +
                   ".</p>")
    if man.get("config") is not None:
        out.append("<details><summary>resolved configuration (YAML)</summary><pre>"
                   f"{esc(_yaml(man['config']))}</pre></details>")
    return "".join(out)


def run_section_html(g: dict, b64: dict) -> str:
    """One run's ``<section>`` of report.html; ``b64``: the report's PNGs as base64 text."""
    slug = g.get("slug", g["lang"])
    return "".join([_head_html(g, slug), _summary_html(g), _funnel_html(g, slug, b64),
                    _scores_html(g, slug, b64), _quality_html(g, slug), _rare_html(g, slug),
                    _collapse_html(g, slug, b64), _curriculum_html(g, slug, b64),
                    _examples_html(g, slug), _repro_html(g, slug), "</section>"])

"""Evaluation directories (``translate-synth evaluate --out DIR``) in reports: ``eval.md``, and
the models-compared table and sections of ``translate-synth report`` when evaluation directories
are given beside (or instead of) run directories. Reads ``eval.json`` only; words and rounded
numbers, no JSON text."""

from __future__ import annotations

import os
from pathlib import Path

from translate_synth.rundir import read_result
from translate_synth.report.markup import esc, html_table, md_table
from translate_synth.report.wording import num, origin_words

METRIC_WORDS = {"bleu": "BLEU", "chrf": "chrF", "chrf++": "chrF++"}
SET_WORDS = {"test": "real test set", "valid": "real valid set",
             "valid_synthetic": "synthetic valid set"}
CLASS_WORDS = {"rare": "rare", "unseen": "unseen", "frequent": "frequent"}


def is_eval_dir(d: Path) -> bool:
    """An evaluation directory: ``eval.json`` and no run manifest."""
    d = Path(d)
    return (d / "eval.json").is_file() and not (d / "manifest.json").exists()


def gather_eval(d: Path) -> dict:
    return read_result(d, "eval.json", "translate-synth evaluation", "evaluate", "eval_dir")


# ---------------------------------------------------------------- words

def short_model(m: dict | None) -> str:
    if not m:
        return "-"
    spec = str(m.get("spec") or m.get("model") or "?")
    if spec == "bergamot" or m.get("kind") == "bergamot":
        return "bergamot"
    p = spec.rstrip("/")
    return Path(p).name if os.path.isabs(p) or os.path.exists(p) else spec


def eval_labels(evals: list[dict]) -> list[str]:
    """The model's short name; the evaluation directory's name too when two share one."""
    base = [short_model(e.get("model")) for e in evals]
    out = []
    for i, (b, e) in enumerate(zip(base, evals)):
        label = b if base.count(b) == 1 else f"{b} ({Path(e['eval_dir']).name})"
        n = sum(1 for x in out if x == label or x.startswith(label + " #"))
        out.append(f"{label} #{n + 1}" if n else label)
    return out


def pvalue(p) -> str:
    if p is None:
        return "-"
    return "p < 0.01" if p < 0.01 else f"p = {p:.2f}"


def recall_words(r: dict | None) -> str:
    if not r or not r.get("occurrences"):
        return "none in the references"
    return f"{100 * r['recall']:.1f} % ({num(r['recalled'])} of {num(r['occurrences'])})"


def _pct(r: dict | None) -> str:
    return "-" if not r or r.get("recall") is None else f"{100 * r['recall']:.1f} %"


def _run_words(ev: dict) -> str:
    run = ev.get("run") or {}
    return f"{run.get('lang', '?')} run {run.get('dir', '?')}"


def _set_words(name: str, entry: dict) -> str:
    return f"{SET_WORDS.get(name, name)} ({num(entry.get('rows'))} rows)"


def significance_words(sig: dict | None, metric: str) -> str:
    if not sig or metric not in (sig.get("metrics") or {}):
        return "-"
    m = sig["metrics"][metric]
    d = m["difference"]
    verdict = "significant at 5 %" if m["p_value"] is not None and m["p_value"] < 0.05 else \
        "not significant"
    return f"{'+' if d >= 0 else ''}{num(d)} ({pvalue(m['p_value'])}, {verdict})"


def gap_words(gap: dict | None) -> str:
    if not gap:
        return "no synthetic valid set: no gap measured"
    parts = ", ".join(f"{METRIC_WORDS[m]} {'+' if gap[m] >= 0 else ''}{num(gap[m])}"
                      for m in ("bleu", "chrf", "chrf++") if m in gap)
    return (f"synthetic valid minus {SET_WORDS.get(gap['real'], gap['real'])}: {parts} "
            "(positive: the model does better on synthetic text than on real text)")


def model_line(m: dict | None) -> str:
    if not m:
        return "-"
    what = {"bergamot": "bergamot backend (the built-in en<->pt model)",
            "transformers": "transformers backend", "ctranslate2": "ctranslate2 backend "
            "(converted from transformers)", "ct2dir": "a CTranslate2 model directory"}
    out = f"{m.get('spec')}: {what.get(m.get('kind'), m.get('kind'))}"
    if m.get("device"):
        out += f", on {m['device']}"
    if m.get("quantization"):
        out += f", compute type {m['quantization']}"
    dec = m.get("decoding") or {}
    if m.get("kind") != "bergamot" and dec:
        out += ", greedy" if dec.get("beam_size", 1) <= 1 else f", beam {num(dec['beam_size'])}"
    if m.get("synthesised_this_run"):
        out += "; the run synthesised its data with this model"
    return out


# ---------------------------------------------------------------- rows shared by HTML and md

def set_rows(ev: dict) -> list[dict]:
    """One row per (direction, set, system): scores, rare-word recall, vs baseline."""
    out = []
    has_base = ev.get("baseline") is not None
    for key, d in (ev.get("directions") or {}).items():
        for name, e in (d.get("sets") or {}).items():
            systems = [("model", e.get("scores"), e.get("rare_words"))]
            if has_base and e.get("baseline"):
                systems.append(("baseline", e["baseline"].get("scores"),
                                e["baseline"].get("rare_words")))
            for role, sc, rw in systems:
                out.append({
                    "direction": f"{d['source_lang']} -> {d['target_lang']}",
                    "set": _set_words(name, e), "role": role,
                    "model": short_model(ev.get(role)),
                    **{m: num((sc or {}).get(m)) for m in ("bleu", "chrf", "chrf++")},
                    **{c: _pct((rw or {}).get(c)) for c in CLASS_WORDS},
                    "vs": significance_words(e.get("significance"), "chrf")
                    if role == "model" and has_base else "",
                    "vs_bleu": significance_words(e.get("significance"), "bleu")
                    if role == "model" and has_base else ""})
    return out


def model_rows(evals: list[dict]) -> list[dict]:
    """The models-compared table: per evaluation, direction and role, on the real set."""
    out = []
    for ev, label in zip(evals, eval_labels(evals)):
        split = (ev.get("run") or {}).get("split", "test")
        for key, d in (ev.get("directions") or {}).items():
            sets = d.get("sets") or {}
            real = sets.get(split)
            syn = sets.get("valid_synthetic")
            for role in ("model", "baseline"):
                if role == "baseline" and not ev.get("baseline"):
                    continue
                pick = (lambda e: e and (e.get("scores") if role == "model" else
                                         (e.get("baseline") or {}).get("scores")) or {})
                rare = (lambda e: e and (e.get("rare_words") if role == "model" else
                                         (e.get("baseline") or {}).get("rare_words")) or {})
                r, s = pick(real), pick(syn)
                out.append({
                    "label": label if role == "model" else
                    f"{short_model(ev.get('baseline'))} (baseline of {label})",
                    "eval_dir": ev["eval_dir"], "run": _run_words(ev),
                    "direction": f"{d['source_lang']} -> {d['target_lang']}",
                    "set": _set_words(split, real) if real else f"no {split} set",
                    "bleu": r.get("bleu"), "chrf": r.get("chrf"), "chrf++": r.get("chrf++"),
                    "rare": (rare(real) or {}).get("rare", {}).get("recall"),
                    "unseen": (rare(real) or {}).get("unseen", {}).get("recall"),
                    "frequent": (rare(real) or {}).get("frequent", {}).get("recall"),
                    "synthetic_chrf": s.get("chrf"),
                    "gap_chrf": (s["chrf"] - r["chrf"]) if s.get("chrf") is not None and
                    r.get("chrf") is not None else None,
                    "vs_baseline": significance_words((real or {}).get("significance"), "chrf")
                    if role == "model" and ev.get("baseline") else ""})
    return out


MODEL_HEADER = ["model", "run", "direction", "real set", "BLEU", "chrF", "chrF++",
                "rare-word recall", "unseen-word recall", "frequent-word recall",
                "chrF on synthetic valid", "gap (synthetic - real chrF)", "chrF vs baseline"]


def _model_cells(r: dict) -> list[str]:
    gap = r["gap_chrf"]
    return [r["label"], r["run"], r["direction"], r["set"], num(r["bleu"]), num(r["chrf"]),
            num(r["chrf++"]), _pct({"recall": r["rare"]}), _pct({"recall": r["unseen"]}),
            _pct({"recall": r["frequent"]}), num(r["synthetic_chrf"]),
            "-" if gap is None else f"{'+' if gap >= 0 else ''}{num(gap)}",
            r["vs_baseline"] or "-"]


SET_HEADER = ["direction", "set", "model", "BLEU", "chrF", "chrF++", "rare-word recall",
              "unseen-word recall", "frequent-word recall", "chrF vs baseline",
              "BLEU vs baseline"]


def _set_cells(r: dict) -> list[str]:
    return [r["direction"], r["set"], f"{r['model']} ({r['role']})", r["bleu"], r["chrf"],
            r["chrf++"], r["rare"], r["unseen"], r["frequent"], r["vs"] or "-",
            r["vs_bleu"] or "-"]


def _facts(ev: dict) -> list[str]:
    """Sentences about one evaluation: model, baseline, rare words, gap, notes."""
    run = ev.get("run") or {}
    out = [f"Model: {model_line(ev.get('model'))}."]
    st = (ev.get("model") or {}).get("settings")
    if st:
        ms = st.get("model_settings") or {}
        out.append("From the run: languages, language codes, BLEU tokenisation and case, "
                   "rare-word k and decoding length and batch limits; from the model: "
                   f"revision {ms.get('revision') or 'default'}, dtype {ms.get('dtype')}, "
                   f"remote code {'trusted' if ms.get('trust_remote_code') else 'not trusted'} "
                   f"({st.get('model_settings_from')}), beam from "
                   f"{st.get('decoding_beam_from')}, no sampling.")
    if ev.get("baseline"):
        sig = next((e["significance"] for d in ev["directions"].values()
                    for e in d["sets"].values() if e.get("significance")), None)
        out.append(f"Baseline: {model_line(ev['baseline'])}. Differences are tested with "
                   f"sacrebleu's {sig['name'] if sig else 'paired test'} "
                   f"({num(sig['n_samples']) if sig else '-'} samples, seed "
                   f"{sig['seed'] if sig else '-'}): the p-value is how often a difference at "
                   "least this large arises by chance.")
    out.append(f"Rare words are reference words seen 1 to {num(run.get('rare_k'))} times in the "
               f"run's {num(run.get('real_train_pairs'))} real training pairs, unseen ones never; "
               "an occurrence counts as recalled when the hypothesis of that sentence has the "
               "word (clipped by counts).")
    for key, d in (ev.get("directions") or {}).items():
        head = f"{d['source_lang']} -> {d['target_lang']}"
        out.append(f"{head}: {gap_words(d.get('gap'))}.")
        for name, e in (d.get("sets") or {}).items():
            rw = e.get("rare_words") or {}
            out.append(f"{head}, {_set_words(name, e)}: the model recalls "
                       f"{recall_words(rw.get('rare'))} of rare-word occurrences, "
                       f"{recall_words(rw.get('unseen'))} of unseen ones and "
                       f"{recall_words(rw.get('frequent'))} of frequent ones.")
            side = e.get("reference_side")
            if side and side.get("synthetic"):
                out.append(f"{head}, {SET_WORDS.get(name, name)}: {num(side['synthetic'])} of "
                           f"{num(e['rows'])} references are machine-made (the synthetic side "
                           "of their row).")
    out += [f"Note: {n}." for n in ev.get("notes") or []]
    return out


def _origin_rows(ev: dict) -> list[list[str]]:
    rows = []
    for d in (ev.get("directions") or {}).values():
        e = (d.get("sets") or {}).get("valid_synthetic") or {}
        for o, v in (e.get("by_origin") or {}).items():
            rows.append([f"{d['source_lang']} -> {d['target_lang']}", origin_words(o),
                         num(v["rows"]), num(v["bleu"]), num(v["chrf"]), num(v["chrf++"])])
    return rows


def _files(ev: dict) -> list[list[str]]:
    rows = []
    for d in (ev.get("directions") or {}).values():
        for name, e in (d.get("sets") or {}).items():
            rows.append([f"{d['source_lang']} -> {d['target_lang']}", SET_WORDS.get(name, name),
                         e["references"], e["hypotheses"], e.get("baseline_hypotheses") or "-"])
    return rows


# ---------------------------------------------------------------- Markdown

def eval_md(ev: dict, label: str | None = None, heading: str = "#") -> str:
    run = ev.get("run") or {}
    out = [f"{heading} Evaluation: {label or short_model(ev.get('model'))} on the "
           f"{run.get('lang')} run", "", f"Run directory `{run.get('dir')}`"
           + (f"; evaluation directory `{ev['eval_dir']}`" if ev.get("eval_dir") else "")
           + f"; translate-synth {ev.get('version')}.", ""]
    out += [f"- {f}" for f in _facts(ev)] + [""]
    out += md_table(SET_HEADER, [_set_cells(r) for r in set_rows(ev)])
    orig = _origin_rows(ev)
    if orig:
        out += ["", "Synthetic valid set by origin:", "",
                *md_table(["direction", "origin", "rows", "BLEU", "chrF", "chrF++"], orig)]
    out += ["", "Signatures: " + "; ".join(f"{METRIC_WORDS.get(k, k)} `{v['signature']}`"
                                           for k, v in (ev.get("metrics") or {}).items()), "",
            "Stored beside eval.json, one line per row of the set, so every number recomputes "
            "with sacrebleu (e.g. `sacrebleu REF -i HYP -m bleu chrf`):", "",
            *md_table(["direction", "set", "references", "hypotheses", "baseline hypotheses"],
                       _files(ev))]
    return "\n".join(out) + "\n"


def models_md(evals: list[dict]) -> list[str]:
    """The models-compared table and one section per evaluation, for report.md."""
    if not evals:
        return []
    out = ["", "## Models compared", "", *md_table(MODEL_HEADER, [_model_cells(r) for r in
                                                                 model_rows(evals)])]
    for ev, label in zip(evals, eval_labels(evals)):
        out += ["", eval_md(ev, label, heading="##").rstrip("\n")]
    return out


# ---------------------------------------------------------------- HTML

def models_html(evals: list[dict]) -> str:
    if not evals:
        return ""
    parts = ["<h2>Models compared</h2><p>Scores on each run's real held-out set (the chrF "
             "difference against a baseline with its p-value); rare-word recall as defined "
             "in each evaluation below.</p>",
             html_table(MODEL_HEADER,
                        [[esc(c) for c in _model_cells(r)] for r in model_rows(evals)],
                        num_cols=tuple(range(4, 12)))]
    for i, (ev, label) in enumerate(zip(evals, eval_labels(evals))):
        run = ev.get("run") or {}
        parts.append(f"<section id='eval-{i + 1}'><h2>Evaluation: {esc(label)} on the "
                     f"{esc(run.get('lang'))} run</h2><p class='sub'>Run directory "
                     f"{esc(run.get('dir'))}; evaluation directory {esc(ev['eval_dir'])}; "
                     f"translate-synth {esc(ev.get('version'))}.</p>")
        parts.append("<ul>" + "".join(f"<li>{esc(f)}</li>" for f in _facts(ev)) + "</ul>")
        parts.append(html_table(SET_HEADER,
                                [[esc(c) for c in _set_cells(r)] for r in set_rows(ev)],
                                num_cols=tuple(range(3, 9))))
        orig = _origin_rows(ev)
        if orig:
            parts.append("<h4>Synthetic valid set by origin</h4>" + html_table(
                ["direction", "origin", "rows", "BLEU", "chrF", "chrF++"],
                [[esc(c) for c in r] for r in orig], num_cols=(2, 3, 4, 5)))
        parts.append(html_table(["metric", "sacrebleu signature"],
                                [[esc(METRIC_WORDS.get(k, k)),
                                  f"<code>{esc(v['signature'])}</code>"]
                                 for k, v in (ev.get("metrics") or {}).items()]))
        parts.append("<p>Stored beside eval.json, one line per row of the set, so every number "
                     "recomputes with sacrebleu:</p>" + html_table(
                         ["direction", "set", "references", "hypotheses", "baseline hypotheses"],
                         [[esc(c) for c in r] for r in _files(ev)]) + "</section>")
    return "".join(parts)

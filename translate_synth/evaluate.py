"""Evaluate a translation model on a finished run's held-out sets: did the synthetic data help?

``translate-synth evaluate MODEL RUN_DIR --out DIR [--baseline MODEL2] [--split test|valid]``
translates the run's real held-out set (``test.jsonl`` or ``valid.jsonl``) and its synthetic
valid set (``valid_synthetic.jsonl``, when the run wrote one) from ``source_lang`` to ``lang``
(``--direction both`` adds ``lang`` -> ``source_lang``, the references then being the source
side), and writes under DIR only (the run directory is read, never written):

- ``<set>.<src>-<tgt>.hyp.txt`` (and ``.baseline.txt``, ``.ref.txt``): one line per row of the
  set, in its order, so every number recomputes with sacrebleu from the stored files
  (``sacrebleu <set>.<src>-<tgt>.ref.txt -i <set>.<src>-<tgt>.hyp.txt -m bleu chrf``);
- ``eval.json``: corpus BLEU, chrF and chrF++ with their signatures and constructor arguments;
  with a baseline, the paired significance of each difference (sacrebleu's own ``PairedTest``:
  paired bootstrap by default, or approximate randomisation); rare-word recall
  (``translate_synth.rarewords``) against the run's real training text; the gap between the
  synthetic valid set's scores and the real set's;
- ``eval.md``: the same in words.

MODEL is a hub id or local transformers directory, a directory CTranslate2 converted
(``model.bin`` and no transformers weights; its tokenizer in the directory or given with
``--tokenizer``), or ``bergamot`` (the built-in en<->pt model). The translator is built by
``translate_synth.backends.make_translator`` from the run's resolved config with the model
replaced: languages, codes, BLEU tokenisation and decoding limits come from the run; the
model's settings (revision, trust_remote_code, dtype, beam; never sampling) from the model
given (``evaluate_config.eval_config``; eval.json ``model.settings`` says which came from
where). Corpus metrics and paired significance: ``translate_synth.metrics``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from translate_synth.errors import UserError
from translate_synth.evaluate_config import (eval_config, make_eval_translator, model_kind,
                                             same_model, settings_origin)
from translate_synth.metrics import (METRICS, PAIRED_TESTS, corpus_metric_args, corpus_scores,
                                     paired_significance)
from translate_synth.rarewords import rare_word_recall, train_counts
from translate_synth.rundir import check_out_outside, read_manifest, read_set

EVAL_FORMAT = 1
REAL_SPLITS = ("test", "valid")
SYNTHETIC = "valid_synthetic"
# characters str.splitlines() splits on: never inside a stored line (files stay line-aligned
# whichever way they are read)
_LINE_BREAKS = dict.fromkeys(map(ord, "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), " ")
RECOMPUTE = ("sacrebleu.metrics.BLEU(**metrics['bleu']['args']).corpus_score(hyps, [refs]).score "
             "== directions[d]['sets'][s]['scores']['bleu'], hyps and refs read from the "
             ".hyp.txt/.ref.txt files one line each (CHRF for chrf and chrf++); or `sacrebleu "
             "REF -i HYP -m bleu chrf [--chrf-word-order 2]`")


def clean_line(text) -> str:
    """``text`` as one stored line: None is empty, line breaks are spaces."""
    return ("" if text is None else str(text)).translate(_LINE_BREAKS)


def write_lines(path: Path, lines: list[str]) -> None:
    """One entry per line, atomically (``read_lines`` reads it back)."""
    from translate_synth.emit import write_bytes

    write_bytes(path, "".join(f"{x}\n" for x in lines).encode("utf-8"))


def read_lines(path: Path) -> list[str]:
    """A stored hypotheses/references file, one entry per line."""
    return Path(path).read_text(encoding="utf-8").split("\n")[:-1]


# ---------------------------------------------------------------- the evaluation

def evaluate(model: str, run_dir: Path, out: Path, baseline: str | None = None,
             split: str = "test", direction: str = "forward", backend: str | None = None,
             baseline_backend: str | None = None, tokenizer: str | None = None,
             baseline_tokenizer: str | None = None, sets: list[str] = (),
             paired_test: str = "bs", cache_dir: str | None = None,
             no_cache: bool = False) -> dict:
    """Evaluate ``model`` (and ``baseline``) on ``run_dir``'s held-out sets; write ``out``.

    Returns the ``eval.json`` content. The run directory is only read."""
    t0 = time.perf_counter()
    _check_choices(split, direction, paired_test)
    run_dir, out = Path(run_dir), Path(out)
    manifest = read_manifest(run_dir)
    _check_out(out, run_dir)
    kind = model_kind(model, backend)
    cfg = eval_config(manifest, model, kind, sets, cache_dir, no_cache)
    notes: list[str] = []
    data = _read_sets(run_dir, split, notes)
    real_train = _real_train(run_dir, notes)
    directions = [(cfg.source_lang, cfg.lang, "source", "target")]
    if direction == "both":
        directions.append((cfg.lang, cfg.source_lang, "target", "source"))
    systems = [("model", model, kind, cfg, tokenizer)]
    if baseline:
        bkind = model_kind(baseline, baseline_backend)
        bcfg = eval_config(manifest, baseline, bkind, sets, cache_dir, no_cache)
        systems.append(("baseline", baseline, bkind, bcfg, baseline_tokenizer))
    elif baseline_backend or baseline_tokenizer:
        raise UserError("--baseline-backend/--baseline-tokenizer need --baseline MODEL")

    hyps, described, seconds = _translate(systems, directions, data, manifest)
    scoring = _Scoring(out, corpus_metric_args(cfg.scoring), cfg.collapse.rare_k, paired_test,
                       bool(baseline))
    result_dirs = {f"{s}-{t}": _score_direction(scoring, (s, t, tf), data, hyps, real_train,
                                                split)
                   for s, t, sf, tf in directions}
    if described["model"]["synthesised_this_run"] and SYNTHETIC in data:
        notes.append("the model is the one the run synthesised with: on valid_synthetic its "
                     "forward translations are its own output, so that score measures "
                     "agreement with itself, not quality, and the gap is not a test of the "
                     "synthetic data")
    report = {
        "format": EVAL_FORMAT, "kind": "translate-synth evaluation",
        "version": _version(), "run": {
            "dir": str(run_dir.resolve()), "lang": cfg.lang, "source_lang": cfg.source_lang,
            "fingerprint": manifest.get("fingerprint"), "seed": manifest.get("seed"),
            "run_model": manifest.get("model"), "split": split,
            "real_train_pairs": len(real_train), "rare_k": cfg.collapse.rare_k},
        "model": described["model"], "baseline": described.get("baseline"),
        "direction": direction, "metrics": {
            m: {"args": scoring.args[m], "signature": sig} for m, sig in
            corpus_scores(["a"], ["a"], scoring.args)[1].items()},
        "directions": result_dirs, "notes": notes, "recompute": RECOMPUTE,
        "files": sorted(scoring.files + ["eval.md"]),
        "timings_s": {**{f"translate_{k}": v for k, v in seconds.items()},
                      "total": round(time.perf_counter() - t0, 2)},
    }
    _write_report(out, report)
    return report


def _check_choices(split: str, direction: str, paired_test: str) -> None:
    if split not in REAL_SPLITS:
        raise UserError(f"--split {split}: one of {', '.join(REAL_SPLITS)}")
    if direction not in ("forward", "both"):
        raise UserError(f"--direction {direction}: forward or both")
    if paired_test not in PAIRED_TESTS:
        raise UserError(f"--paired-test {paired_test}: bs (paired bootstrap) or ar "
                        "(approximate randomisation)")


def _read_sets(run_dir: Path, split: str, notes: list[str]) -> dict[str, list[dict]]:
    """The real held-out set and the synthetic valid set that exist and have rows."""
    data = {}
    for name in (split, SYNTHETIC):
        rows = read_set(run_dir, name)
        if rows is None:
            notes.append(f"{name}.jsonl is not in the run" + (
                " (a run writes it when curriculum.valid_synthetic is above 0; `translate-synth "
                "refilter RUN --set curriculum.valid_synthetic=200 --out OTHER` makes one): no "
                "synthetic set, no synthetic-real gap" if name == SYNTHETIC else "") +
                "; evaluated what exists")
        elif not rows:
            notes.append(f"{name}.jsonl has no rows: not evaluated")
        else:
            data[name] = rows
    if not data:
        raise UserError(f"{run_dir}: nothing to evaluate: no rows in {split}.jsonl or "
                        f"{SYNTHETIC}.jsonl (try --split {'valid' if split == 'test' else 'test'})")
    return data


def _real_train(run_dir: Path, notes: list[str]) -> list[dict]:
    """The run's real training pairs (rare-word counts)."""
    real_train = [r for r in read_set(run_dir, "train") or [] if r.get("origin") == "real"]
    if not real_train:
        notes.append("no real training pairs in train.jsonl: every reference word counts as "
                     "unseen")
    return real_train


def _translate(systems, directions, data, manifest):
    """Every system on every set in every direction, one model at a time (one model in
    memory): ({(system, "src-tgt", set): lines}, {system: its description}, {system: s})."""
    from translate_synth import progress

    hyps: dict[tuple[str, str, str], list[str]] = {}
    described, seconds = {}, {}
    for sys_name, spec, skind, scfg, stok in systems:
        translator = make_eval_translator(scfg, skind, stok)
        decoding = scfg.synthesis.decoding
        ts = time.perf_counter()
        for s, t, sf, tf in directions:
            if (s, t) == directions[0][:2]:  # the first check loads the model
                with progress.step(f"evaluate: {sys_name} {spec}: loading the model"):
                    translator.check(s, t, decoding)
            else:
                translator.check(s, t, decoding)
            for name, rows in data.items():
                with progress.bar(f"evaluate: {sys_name} {spec}: {name} {s}->{t}",
                                  total=len(rows), unit="rows") as pbar:
                    got = progress.translate(translator, [clean_line(r.get(sf)) for r in rows],
                                             s, t, decoding, pbar)
                hyps[(sys_name, f"{s}-{t}", name)] = [clean_line(h[0] if h else "")
                                                      for h in got]
        seconds[sys_name] = round(time.perf_counter() - ts, 2)
        described[sys_name] = {"spec": spec, "kind": skind, **translator.describe(),
                               "decoding": decoding.model_dump(),
                               "synthesised_this_run": same_model(scfg, manifest),
                               "settings": settings_origin(scfg, manifest, spec, skind)}
        del translator
    return hyps, described, seconds


# ---------------------------------------------------------------- scores

@dataclass
class _Scoring:
    """What scoring a set needs, and the files it wrote."""
    out: Path
    args: dict[str, dict]  # corpus_metric_args
    rare_k: int
    paired_test: str
    baseline: bool
    files: list[str] = field(default_factory=list)


def _score_direction(sc: _Scoring, direction: tuple[str, str, str], data, hyps, real_train,
                     split: str) -> dict:
    """One direction's entry of eval.json: each set's scores, and the synthetic-real gap."""
    s, t, tf = direction
    key = f"{s}-{t}"
    counts = train_counts(r.get(tf) or "" for r in real_train)
    res_sets = {name: _score_set(sc, key, name, rows, tf, hyps, counts)
                for name, rows in data.items()}
    gap = None
    if split in res_sets and SYNTHETIC in res_sets:
        gap = {"real": split, "synthetic": SYNTHETIC,
               **{m: res_sets[SYNTHETIC]["scores"][m] - res_sets[split]["scores"][m]
                  for m in METRICS}}
    return {"source_lang": s, "target_lang": t, "reference_field": tf, "sets": res_sets,
            "gap": gap}


def _score_set(sc: _Scoring, key: str, name: str, rows, tf: str, hyps, counts) -> dict:
    """One set in one direction: its files written, its scores (and the baseline's)."""
    from translate_synth import progress

    refs = [clean_line(r.get(tf)) for r in rows]
    stem = f"{name}.{key}"
    entry = {"file": f"{name}.jsonl", "rows": len(rows), "real": name != SYNTHETIC,
             "references": f"{stem}.ref.txt", "hypotheses": f"{stem}.hyp.txt"}
    write_lines(sc.out / entry["references"], refs)
    h = hyps[("model", key, name)]
    write_lines(sc.out / entry["hypotheses"], h)
    sc.files += [entry["references"], entry["hypotheses"]]
    entry["scores"], _ = corpus_scores(h, refs, sc.args)
    entry["rare_words"] = rare_word_recall(h, refs, counts, sc.rare_k)
    if name == SYNTHETIC:
        entry["by_origin"] = _by_origin(rows, h, refs, sc.args)
        entry["reference_side"] = _reference_side(rows, tf)
    if sc.baseline:
        b = hyps[("baseline", key, name)]
        entry["baseline_hypotheses"] = f"{stem}.baseline.txt"
        write_lines(sc.out / entry["baseline_hypotheses"], b)
        sc.files.append(entry["baseline_hypotheses"])
        entry["baseline"] = {"scores": corpus_scores(b, refs, sc.args)[0],
                             "rare_words": rare_word_recall(b, refs, counts, sc.rare_k)}
        with progress.step(f"evaluate: {name} {key}: paired significance "
                           f"({PAIRED_TESTS.get(sc.paired_test, sc.paired_test)})"):
            entry["significance"] = paired_significance(h, b, refs, sc.args, sc.paired_test)
    return entry


def _by_origin(rows, hyps, refs, args) -> dict:
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(r.get("origin") or "?", []).append(i)
    return {o: {"rows": len(ix), **corpus_scores([hyps[i] for i in ix], [refs[i] for i in ix],
                                                 args)[0]}
            for o, ix in sorted(groups.items())}


def _reference_side(rows, field: str) -> dict:
    """How many references are real text and how many machine-made (synthetic rows only)."""
    real = sum(1 for r in rows if r.get("origin") == "real" or r.get("authentic") == field)
    return {"real": real, "synthetic": len(rows) - real}


# ---------------------------------------------------------------- the files

def _version() -> str:
    from translate_synth import __version__

    return __version__


def _check_out(out: Path, run_dir: Path) -> None:
    check_out_outside(out, run_dir, "evaluate")
    if (out / "manifest.json").exists() or (out / "stats.json").exists():
        raise UserError(f"--out {out}: holds a run (manifest.json); give an empty or "
                        "evaluation directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"--out {out}: cannot create it ({e.strerror})") from None
    if not os.access(out, os.W_OK):
        raise UserError(f"--out {out}: not writable")


def _write_report(out: Path, report: dict) -> None:
    """eval.md, then the stale files removed, then eval.json (last: its presence means the
    rest is complete)."""
    from translate_synth.emit import write_bytes, write_json
    from translate_synth.report.evaluations import eval_md

    write_bytes(out / "eval.md", eval_md(report).encode("utf-8"))
    _remove_stale(out, set(report["files"]))
    write_json(out / "eval.json", report)


def _remove_stale(out: Path, keep: set[str]) -> None:
    """Files an earlier evaluation in ``out`` listed and this one does not write."""
    try:
        old = json.loads((out / "eval.json").read_text(encoding="utf-8")).get("files") or []
    except (OSError, ValueError, AttributeError):
        return
    for name in old:
        if isinstance(name, str) and name not in keep and "/" not in name and \
                name.endswith((".txt", ".md")):
            try:
                (out / name).unlink()
            except OSError:
                pass

"""``translate-synth ablate RUN_DIR --model scratch|ID|DIR --out DIR``: does a model trained on the
run's synthetic data beat one trained without it, and do the quality filters help?

Conditions, each trained with the same budget (``train.*`` of the run, ``--max-steps``, the same
token batches, learning-rate schedule and seeds) and evaluated the same way:

- ``real``: the run's real training pairs only (one stage);
- ``hybrid``: the run's curriculum as emitted (its ``train.<stage>.jsonl``);
- ``unfiltered``: the same curriculum rebuilt (``trainsets.write_splits``, the code a run
  emits with) from every candidate the safety filters let through (held-out overlap,
  duplicates, real-target overlap: ``filters.ALWAYS_ON``), i.e. without the quality filters;
  the per-filter decisions are read from ``candidates.jsonl`` (``rejected_by``), not redone;
- ``synthetic``: the run's kept synthetic training rows only (one stage).

A from-scratch model of every condition uses one sentencepiece vocabulary, learnt once from the
run's full training text (``train.jsonl``, both sides), so conditions differ only in data.
Every model is evaluated on the run's real test and valid sets (BLEU, chrF, chrF++ and rare-word
recall, ``evaluate``'s code); ``ablate_stats`` gives the paired differences.

OUT: ``data/<condition>/`` (derived run directories), ``vocab/spm.model``,
``models/<condition>-seed<S>/`` (``train`` MODEL_DIRs), ``evals/<condition>-seed<S>/``
(hypotheses and ``scores.json``), then ``ablate.json``, ``ablate.md`` and ``ablate.png``.
Resumable per (condition, seed): a model with ``train.json`` and ``scores.json`` is kept, one
with a checkpoint resumes; ``ablate.identity.json`` refuses a rerun with other settings.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

from translate_synth.emit import AtomicJsonl, write_bytes, write_json
from translate_synth.errors import UserError
from translate_synth.faults import checkpoint as fault_point
from translate_synth.rundir import check_out_outside, read_jsonl

log = logging.getLogger(__name__)

CONDITIONS = ("real", "hybrid", "unfiltered", "synthetic")
FORMAT = 1
SPLITS = ("test", "valid")


def parse_conditions(text: str) -> list[str]:
    got = [c.strip() for c in str(text).split(",") if c.strip()]
    bad = [c for c in got if c not in CONDITIONS]
    if bad or not got or len(set(got)) != len(got):
        raise UserError(f"--conditions {text}: a comma-separated list of distinct conditions "
                        f"from {', '.join(CONDITIONS)}")
    return [c for c in CONDITIONS if c in got]


# ---------------------------------------------------------------- the conditions' data

def _manifest(run_dir: Path, manifest: dict, config: dict, dest: Path, note: str) -> None:
    write_json(dest / "manifest.json", {
        **{k: manifest.get(k) for k in ("version", "lang", "source_lang", "seed")},
        "config": config, "derived": {"from": str(Path(run_dir).resolve()), "by": note}})


def _one_stage(run_dir: Path, manifest: dict, cond: str, dest: Path) -> None:
    """``real`` or ``synthetic``: one stage of the run's training rows of that kind; the run's
    train.jsonl beside it (rare words and texts as the run's) and its held-out sets."""
    want_real = cond == "real"
    with AtomicJsonl(dest / f"train.{cond}.jsonl") as w:
        n = 0
        for r in read_jsonl(run_dir / "train.jsonl"):
            if (r.get("origin") == "real") == want_real:
                w.write(r)
                n += 1
    if not n:
        raise UserError(f"{run_dir}/train.jsonl has no {cond} training rows: the {cond} "
                        "condition has nothing to train on; drop it from --conditions")
    cfg = json.loads(json.dumps(manifest["config"]))
    cfg["curriculum"] = {**cfg["curriculum"], "enabled": True, "stages": [
        {"name": cond, "real": 1.0 if want_real else 0.0, "synthetic": 0.0 if want_real else 1.0}]}
    for name in ("train", "valid", "test", "valid_synthetic"):
        shutil.copyfile(run_dir / f"{name}.jsonl", dest / f"{name}.jsonl")
    _manifest(run_dir, manifest, cfg, dest, f"ablate: the run's {cond} training rows only")


def _unfiltered(run_dir: Path, manifest: dict, dest: Path) -> None:
    """The run's curriculum from every candidate the safety filters let through."""
    from translate_synth.config import build_config
    from translate_synth.filters import ALWAYS_ON
    from translate_synth.trainsets import write_splits

    src = run_dir / "candidates.jsonl"
    if not src.is_file():
        raise UserError(f"{src}: missing; the unfiltered condition re-decides from the stored "
                        "per-filter decisions: drop `unfiltered` from --conditions")
    raw = {k: v for k, v in manifest["config"].items() if k != "output"}
    cfg = build_config(raw, f"{run_dir / 'manifest.json'} config")
    safety = set(ALWAYS_ON) | {f.get("name", f["type"]) for f in cfg.filters
                               if f["type"] in ALWAYS_ON}
    cands, real = dest / ".candidates.jsonl", dest / ".real_train.jsonl"
    with AtomicJsonl(cands) as w:
        for n, r in enumerate(read_jsonl(src), 1):
            if not isinstance(r.get("rejected_by"), list):
                raise UserError(f"{src}:{n}: no `rejected_by` list (a run of an older version);"
                                f" rerun `translate-synth refilter {run_dir}` to store it")
            r["accepted"] = not safety.intersection(r["rejected_by"])
            w.write(r)
    seen = set()
    with AtomicJsonl(real) as w:
        for r in read_jsonl(run_dir / "train.jsonl"):
            if r.get("origin") == "real" and r["id"] not in seen:
                seen.add(r["id"])
                w.write(r)
    valid, test = (list(read_jsonl(run_dir / f"{s}.jsonl")) for s in ("valid", "test"))
    write_splits(real, cands, valid, test, dest, cfg)
    cands.unlink()
    real.unlink()
    _manifest(run_dir, manifest, manifest["config"], dest,
              "ablate: every candidate the safety filters (" + ", ".join(sorted(safety)) +
              ") let through, in the run's curriculum")


def condition_dir(run_dir: Path, manifest: dict, cond: str, out: Path) -> Path:
    """The run directory a condition trains on (built once; ``hybrid`` is the run itself)."""
    if cond == "hybrid":
        return run_dir
    dest = out / "data" / cond
    if (dest / "manifest.json").is_file():
        return dest
    tmp = out / "data" / f".tmp-{cond}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if cond == "unfiltered":
        _unfiltered(run_dir, manifest, tmp)
    else:
        _one_stage(run_dir, manifest, cond, tmp)
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest


def _stage_rows(d: Path, manifest_cfg: dict) -> list[dict]:
    cur = manifest_cfg["curriculum"]
    names = [s["name"] for s in cur["stages"]] if cur["enabled"] and cur["stages"] else None
    files = [f"train.{n}.jsonl" for n in names] if names else ["train.jsonl"]
    out = []
    for f in files:
        rows = list(read_jsonl(d / f))
        out.append({"file": f, "rows": len(rows),
                    "synthetic": sum(1 for r in rows if r.get("origin") != "real")})
    return out


# ---------------------------------------------------------------- one model

def score_model(manifest: dict, model_dir: Path, dest: Path, heldout: dict, counts, rare_k: int,
                device: str) -> dict:
    """Translate the real test and valid sets; scores.json (written last)."""
    from translate_synth.evaluate import clean_line, write_lines
    from translate_synth.evaluate_config import eval_config, make_eval_translator
    from translate_synth.metrics import corpus_metric_args, corpus_scores
    from translate_synth.rarewords import rare_word_recall

    done = dest / "scores.json"
    if done.is_file():
        return json.loads(done.read_text(encoding="utf-8"))
    dest.mkdir(parents=True, exist_ok=True)
    cfg = eval_config(manifest, str(model_dir), "transformers", [f"model.device={device}"],
                      no_cache=True)
    tr = make_eval_translator(cfg, "transformers")
    args = corpus_metric_args(cfg.scoring)
    res = {"decoding": cfg.synthesis.decoding.model_dump(), "sets": {}}
    for split, (src, tgt, pairs) in heldout.items():
        got = tr.translate([s for s, _ in pairs], src, tgt, cfg.synthesis.decoding)
        hyps = [clean_line(h[0] if h else "") for h in got]
        refs = [g for _, g in pairs]
        write_lines(dest / f"{split}.hyp.txt", hyps)
        scores, sigs = corpus_scores(hyps, refs, args)
        res["sets"][split] = {"rows": len(pairs), **{k: round(v, 4) for k, v in scores.items()},
                              "rare_words": rare_word_recall(hyps, refs, counts, rare_k)}
        res["signatures"] = sigs
    write_json(done, res)
    return res


def model_curve(model_dir: Path) -> list[list]:
    """[step, real valid chrF] of each evaluation in MODEL_DIR/train_log.jsonl."""
    rows = [json.loads(x) for x in (model_dir / "train_log.jsonl").read_text(
        encoding="utf-8").splitlines() if x.strip()]
    return [[e["step"], e["real"]["chrf"]] for e in rows if e["kind"] == "eval"]


# ---------------------------------------------------------------- the experiment

def _precheck(run_dir: Path, conditions: list[str]) -> None:
    """One line for a condition the run cannot give, before any output is written."""
    if "unfiltered" in conditions and not (run_dir / "candidates.jsonl").is_file():
        raise UserError(f"{run_dir / 'candidates.jsonl'}: missing; the unfiltered condition "
                        "re-decides from its stored per-filter decisions: drop `unfiltered` "
                        "from --conditions")
    from translate_synth.rundir import read_pairs  # one-line errors for a damaged file

    if not (run_dir / "test.jsonl").is_file() or not read_pairs(run_dir / "test.jsonl"):
        raise UserError(f"{run_dir}/test.jsonl: missing or empty; ablate compares on "
                        "the real test set: rerun `translate-synth run` with split.test > 0")
    origins = {r.get("origin") == "real" for r in read_jsonl(run_dir / "train.jsonl")}
    for cond, real in (("real", True), ("synthetic", False)):
        if cond in conditions and real not in origins:
            raise UserError(f"{run_dir}/train.jsonl has no {cond} training rows: the {cond} "
                            "condition has nothing to train on; drop it from --conditions")


def _check_out(out: Path, run_dir: Path, identity: dict, conditions: list[str]) -> None:
    check_out_outside(out, run_dir, "ablate")
    _precheck(run_dir, conditions)  # before anything is written
    idf = out / "ablate.identity.json"
    if idf.is_file():
        old = json.loads(idf.read_text(encoding="utf-8"))
        changed = [k for k in identity if old.get(k) != identity[k]]
        if changed:
            raise UserError(f"--out {out} holds an ablation with other {', '.join(changed)}: "
                            "give the same run, --model, --max-steps, --device and --set, or "
                            "another --out")
    elif out.is_dir() and any(out.iterdir()):
        raise UserError(f"--out {out}: not empty and not an ablation: give a new or empty "
                        "directory")
    out.mkdir(parents=True, exist_ok=True)
    write_json(idf, identity)


def run_ablation(run_dir: Path, model: str, out: Path, seeds: int = 1,
                 conditions=CONDITIONS, max_steps: int | None = None,
                 device: str | None = None, sets=()) -> dict:
    from translate_synth.rarewords import train_counts
    from translate_synth.rundir import read_manifest
    from translate_synth.train.data import load_run

    if not model or not str(model).strip():
        raise UserError("--model: scratch, a hub id or a local model directory")
    if seeds < 1:
        raise UserError(f"--seeds {seeds}: at least 1")
    conditions = parse_conditions(",".join(conditions))
    run_dir, out = Path(run_dir), Path(out)
    manifest = read_manifest(run_dir)
    base = _train_settings(sets, max_steps, device)
    data = load_run(run_dir, base)
    cfg, t = data.cfg, data.cfg.train
    seed0 = t.seed if t.seed is not None else cfg.seed
    seed_list = [seed0 + i for i in range(seeds)]
    identity = {"format": FORMAT, "run": str(run_dir.resolve()), "run_files": data.shas,
                "model": str(model), "sets": [s[0] if isinstance(s, tuple) else s for s in base]}
    _check_out(out, run_dir, identity, conditions)
    vocab = _shared_vocab(out, data, seed0) if model == "scratch" else None
    dirs = {c: condition_dir(run_dir, manifest, c, out) for c in conditions}
    heldout = {s: (data.src, data.tgt, _pairs(run_dir, s, t.reverse)) for s in SPLITS}
    rare_k = t.rare_k or cfg.collapse.rare_k
    scoring = (manifest, heldout, train_counts(data.real_target_texts), rare_k, t.device)
    jobs = [(c, s) for s in seed_list for c in conditions]
    models, spent = [], []
    log.info(f"ablate: {len(jobs)} models ({', '.join(conditions)} x {seeds} seed(s)), "
             + (f"{t.max_steps:,} steps each" if t.max_steps else f"{t.epochs:g} passes each")
             + f", on {run_dir}")
    for k, (cond, seed) in enumerate(jobs):
        name = f"{cond}-seed{seed}"
        t0 = time.perf_counter()
        entry, fresh = _train_and_score(cond, seed, f"{k + 1} of {len(jobs)}", dirs[cond],
                                        model, out, base, vocab, scoring)
        models.append(entry)
        if fresh:
            spent.append(time.perf_counter() - t0)
            left = len(jobs) - k - 1
            eta = f"; about {sum(spent) / len(spent) * left / 60:.1f} min left" if left else ""
            log.info(f"ablate: {name} done in {spent[-1]:.0f} s: real test chrF "
                     f"{entry['scores']['test']['chrf']:.1f}; {k + 1} of {len(jobs)} models{eta}")
        fault_point(f"ablate:done:{name}")
    return _finish(out, run_dir, manifest, model, conditions, seed_list, dirs, models, data,
                   rare_k, vocab)


def _train_settings(sets, max_steps: int | None, device: str | None) -> list:
    """The ``--set`` overrides every condition trains with: the user's, then --max-steps (and
    five evaluations on each real-valid curve unless set), then --device."""
    base = list(sets)
    if max_steps is not None:
        base.append((f"train.max_steps={max_steps}", f"--max-steps {max_steps}"))
        if not any(str(s[0] if isinstance(s, tuple) else s).startswith("train.eval_every")
                   for s in sets):  # five points on each real-valid curve
            base.append((f"train.eval_every={max(1, max_steps // 5)}", "ablate"))
    if device:
        base.append((f"train.device={device}", f"--device {device}"))
    return base


def _shared_vocab(out: Path, data, seed0: int) -> Path:
    """One sentencepiece model for every from-scratch condition (learnt once, kept on resume)."""
    from translate_synth.train.scratch import BT_TAG, train_spm
    cfg, t = data.cfg, data.cfg.train
    vocab = out / "vocab" / "spm.model"
    if not vocab.is_file():
        log.info(f"ablate: one sentencepiece vocabulary for every condition, from the run's "
                 f"{len(data.train_texts):,} training sentences")
        write_bytes(vocab, train_spm(data.train_texts, t.scratch.vocab_size, seed0,
                                     [BT_TAG] if cfg.curriculum.tag_bt and not t.reverse
                                     else ()))
    return vocab


def _train_and_score(cond: str, seed: int, nth: str, data_dir: Path, model: str, out: Path,
                     base: list, vocab, scoring) -> tuple[dict, bool]:
    """One condition's model trained (resumed, or kept) and scored: (entry, done now?)."""
    from translate_synth.ablate_stats import curve_state
    from translate_synth.train.trainer import train_model

    name = f"{cond}-seed{seed}"
    mdir, edir = out / "models" / name, out / "evals" / name
    fresh = not ((mdir / "train.json").is_file() and (edir / "scores.json").is_file())
    if not fresh:
        log.info(f"ablate: {name}: trained and evaluated earlier: kept")
    if (mdir / "train.json").is_file():
        summary = json.loads((mdir / "train.json").read_text(encoding="utf-8"))
        if fresh:
            log.info(f"ablate: {name}: trained earlier (train.json): kept")
    else:
        resume = (mdir / "checkpoints" / "LATEST").is_file()
        log.info(f"ablate: {name}: {'resuming' if resume else 'training'} ({nth})")
        summary = train_model(data_dir, model, mdir, base + [f"train.seed={seed}"],
                              resume=resume, scratch_vocab=vocab)
    manifest, heldout, counts, rare_k, device = scoring
    scores = score_model(manifest, mdir, edir, heldout, counts, rare_k, device)
    curve = model_curve(mdir)
    state, rise = curve_state(curve, summary["steps"], summary["stopped"])
    return ({"condition": cond, "seed": seed, "dir": str(mdir), "eval_dir": str(edir),
             "steps": summary["steps"], "stopped": summary["stopped"],
             "best_step": (summary.get("best") or {}).get("step"),
             "tokens": summary["timings"]["train_target_tokens"],
             "seconds": summary["timings"]["seconds"], "curve": curve,
             "curve_state": state, "late_rise": rise, "scores": scores["sets"],
             "decoding": scores["decoding"], "signatures": scores["signatures"]}, fresh)


def _finish(out, run_dir, manifest, model, conditions, seed_list, dirs, models, data, rare_k,
            vocab) -> dict:
    from translate_synth import __version__
    from translate_synth.ablate_stats import (QUESTIONS, budget, paired_difference,
                                              sentence_stats, verdict)
    from translate_synth.evaluate import read_lines
    from translate_synth.metrics import corpus_metric_args, make_metrics
    from translate_synth.report.ablations import ablate_md, ablate_png

    cfg, t = data.cfg, data.cfg.train
    metrics = make_metrics(corpus_metric_args(cfg.scoring))
    refs = {s: [g for _, g in _pairs(run_dir, s, t.reverse)] for s in SPLITS}
    by = {(m["condition"], m["seed"]): m for m in models}
    stats = {}
    for m in models:
        for split in SPLITS:
            hyps = read_lines(Path(m["eval_dir"]) / f"{split}.hyp.txt")
            for name in ("chrf", "bleu"):
                stats[(m["condition"], m["seed"], split, name)] = sentence_stats(
                    metrics[name], hyps, refs[split])
    comparisons, verdicts, budgets = {}, {}, {}
    for key, q in QUESTIONS.items():
        pair = (q["a"], q["b"])
        ms = [by[(c, s)] for c in pair if c in conditions for s in seed_list]
        budgets[key] = budget(ms, t, len(seed_list))
        if not all(c in conditions for c in pair):
            comparisons[key] = None
            verdicts[key] = verdict(key, None, budgets[key], conditions=tuple(conditions))
            continue
        comparisons[key] = {split: {name: paired_difference(
            metrics[name], [stats[(pair[0], s, split, name)] for s in seed_list],
            [stats[(pair[1], s, split, name)] for s in seed_list]) for name in ("chrf", "bleu")}
            for split in SPLITS}
        verdicts[key] = verdict(key, comparisons[key]["test"], budgets[key])
    conds = {c: {"dir": str(d), "stages": _stage_rows(d, json.loads(
        (d / "manifest.json").read_text(encoding="utf-8"))["config"])}
        for c, d in dirs.items()}
    rep = {
        "format": FORMAT, "kind": "translate-synth ablation", "version": __version__,
        "run": {"dir": str(run_dir.resolve()), "lang": cfg.lang, "source_lang": cfg.source_lang,
                "direction": f"{data.src}-{data.tgt}", "fingerprint": manifest.get("fingerprint"),
                "test_rows": len(refs["test"]), "valid_rows": len(refs["valid"]),
                "real_train_pairs": len(data.real_target_texts), "rare_k": rare_k},
        "model": str(model), "conditions": conds, "seeds": seed_list,
        "vocabulary": str(vocab) if vocab else None,
        "models": models, "comparisons": comparisons, "verdicts": verdicts,
        "budget": {**budget(models, t, len(seed_list)), "by_question": budgets},
        "metrics": models[0]["signatures"],
        "files": ["ablate.json", "ablate.md", "ablate.png"]}
    write_bytes(out / "ablate.png", ablate_png(rep))
    write_bytes(out / "ablate.md", ablate_md(rep).encode("utf-8"))
    write_json(out / "ablate.json", rep)  # last: its presence means the rest is complete
    return rep


def _pairs(run_dir: Path, split: str, reverse: bool) -> list[tuple[str, str]]:
    """(source, reference) of a real held-out set, in the direction trained."""
    from translate_synth.rundir import read_pairs

    rows = read_pairs(run_dir / f"{split}.jsonl")
    return [(r["target"], r["source"]) if reverse else (r["source"], r["target"]) for r in rows]

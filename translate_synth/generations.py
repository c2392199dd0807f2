"""``translate-synth generations``: close the loop. Synthesise, train, synthesise with what was
trained, K times, and watch what happens to quality and diversity round by round.

Round 0 is a normal ``run`` with the configured backend into ``OUT/gen/round-0/<lang>``. Every
round k then trains two models on its run's curriculum (``train``: the forward model
source_lang -> lang and, with ``train.reverse``, the reverse model lang -> source_lang, which
back-translation and the round trip need), from scratch or fine-tuning ``--model ID`` afresh,
and evaluates the forward model (``evaluate``) on the real test set. Round k+1 is a ``run`` of
the same config whose model is round k's pair: ``model.backend: transformers``,
``model.ids: {src-lang: round-k/model-fwd, lang-src: round-k/model-rev}``.

Calibration on unseen pairs: unless the config sets ``split.calibration``, every round's run
sets aside ``CALIBRATION`` (20 %) of the real training pairs (at least min(50, a quarter), at
most 300: ``split.calibration_min/max``) in ``calibration_pairs.jsonl``; they calibrate the
quality score and the ``real_percentile`` cuts, and no round's ``train*.jsonl`` holds them, so
from round 1 on the truth labels come from translations the round's models never saw. The split
is a pure function of the seed and the real pairs: every round sets aside the same pairs.

Held-out sets stay fixed: every round reads the same real parallel data with the same seed and
split settings, so its ``valid.jsonl``/``test.jsonl`` are round 0's (the split is a pure
function of seed, inputs and split settings); each round checks their sha256 against round 0's
and stops if they differ. Every model is evaluated on that one real test set; rare words are
defined by the same real training text.

``--mix hybrid``: every round's run keeps the configured curriculum (real + synthetic).
``--mix synthetic``: from round 1 on, the run's curriculum is one stage ``synthetic``
(real 0, synthetic 1), so the models of rounds >= 1 train on no real pair. The run of such a
round still reads the real pairs: for the held-out split, the quality calibration, the filters'
real-text overlap and the collapse monitor's real reference (so collapse metrics compare every
round with the same real text), and a from-scratch model's sentencepiece vocabulary is learnt
from all of ``train.jsonl`` (real text included). Only the translation model's training pairs
are synthetic.

Resumable by round: ``round-k/round.json`` is written last, with the round's identity (the
settings of the whole experiment); a round that has it is kept, not redone. An unfinished round
resumes its parts: the run from its journal (and the translation cache), a model with
``train.json`` is kept, one with a checkpoint resumes. A finished round made with other
settings is an error (choose another --out), and so is an unfinished one (``started.json``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path

from translate_synth import progress
from translate_synth.config import Config, build_config
from translate_synth.emit import file_sha256, write_json
from translate_synth.errors import UserError
from translate_synth.report.generations import write_report
from translate_synth.rundir import derived_model

log = logging.getLogger(__name__)

MIXES = ("hybrid", "synthetic")
FORMAT = 1
SYNTHETIC_STAGE = {"name": "synthetic", "real": 0.0, "synthetic": 1.0}
RUN_ONLY = ("output", "cache", "executor", "tracking")  # not part of a round's identity
CALIBRATION = 0.2  # split.calibration of every round unless the config sets one


def _raw(cfg: Config) -> dict:
    return cfg.model_dump(mode="json")


def identity(cfg: Config, mix: str, model: str) -> dict:
    """What makes two experiments the same: the round-0 config (minus where files and caches
    go), the mix and the model trained."""
    raw = {k: v for k, v in _raw(cfg).items() if k not in RUN_ONLY}
    blob = json.dumps(raw, sort_keys=True).encode()
    return {"format": FORMAT, "lang": cfg.lang, "mix": mix, "model": model,
            "config_sha256": hashlib.sha256(blob).hexdigest()}


def round_identity(base: dict, k: int) -> dict:
    """Round 0 does not depend on the mix (the real pairs are in its training either way): a
    finished round 0 may be shared by a hybrid and a synthetic experiment."""
    return {kk: v for kk, v in base.items() if not (k == 0 and kk == "mix")}


def round_config(cfg0: Config, k: int, mix: str, out_dir: Path,
                 prev: dict | None) -> Config:
    """Round k's run config: round 0's, written to ``out_dir``; from round 1 the previous
    round's models; with ``mix`` synthetic, one synthetic-only curriculum stage."""
    raw = {k2: v for k2, v in _raw(cfg0).items() if k2 != "output"}
    if k >= 1:
        src, lang = cfg0.source_lang, cfg0.lang
        # the trained models' own settings, not round 0's model's: dtype auto (the precision
        # table: never float16 for T5-family weights), no remote code, no revision
        # (ct2_quantization, unused on the transformers backend, stays as round 0 set it)
        raw["model"] = derived_model(raw["model"], False, backend="transformers", id=None,
                                     family="auto", dtype="auto",
                                     ct2_quantization=raw["model"]["ct2_quantization"],
                                     ids={f"{src}-{lang}": prev["models"]["forward"]["dir"],
                                          f"{lang}-{src}": prev["models"]["reverse"]["dir"]})
        if mix == "synthetic":
            raw["curriculum"] = {**raw["curriculum"], "enabled": True,
                                 "stages": [dict(SYNTHETIC_STAGE)]}
    cfg = build_config(raw, f"<generations round {k}>", "")
    # the command line may send outputs anywhere, a config may not: set as `run --out` does
    return cfg.model_copy(update={"output": cfg.output.model_copy(update={"dir": str(out_dir)})})


def _read_json(p: Path):
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _heldout(run_dir: Path) -> dict:
    return {name: file_sha256(run_dir / f"{name}.jsonl") for name in ("valid", "test")}


class GenerationsStopped(UserError):
    """A round's run kept no synthetic row: nothing to train the next models on."""


def synthetic_rows(run_dir: Path) -> int:
    """Synthetic rows in a run's train.jsonl."""
    n = 0
    with open(run_dir / "train.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip() and json.loads(line).get("origin") != "real":
                n += 1
    return n


def _train(run_dir: Path, model: str, out: Path, reverse: bool) -> dict:
    from translate_synth.train.trainer import train_model

    done = _read_json(out / "train.json")
    if done is not None:
        log.info(f"generations: {out} is trained (train.json): kept")
        return done
    resume = (out / "checkpoints" / "LATEST").is_file()
    return train_model(run_dir, model, out, [f"train.reverse={'true' if reverse else 'false'}"],
                       resume=resume)


def _side_metrics(side: dict) -> dict:
    syn = side.get("synthetic") or {}
    return {"distinct1": syn.get("distinct1"), "distinct2": syn.get("distinct2"),
            "distinct3": syn.get("distinct3"), "distinct2_ratio": side.get("distinct2_ratio"),
            "rare_coverage": side.get("rare_coverage"),
            "rare_coverage_ratio": side.get("rare_coverage_ratio"),
            "skipped": side.get("skipped")}


def round_metrics(run_dir: Path, ev: dict, fwd: dict, rev: dict) -> dict:
    """The numbers the report shows for one round, from eval.json, collapse.json, train.json."""
    key = f"{ev['run']['source_lang']}-{ev['run']['lang']}"
    sets = ev["directions"][key]["sets"]
    test, vs = sets.get("test") or {}, sets.get("valid_synthetic") or {}
    col = _read_json(run_dir / "collapse.json") or {}
    rw = test.get("rare_words") or {}
    best = {n: ((s.get("best") or {}).get("real") or {}).get("chrf") for n, s in
            (("forward", fwd), ("reverse", rev))}
    return {
        "real_test": {**(test.get("scores") or {}), "rows": test.get("rows")},
        "synthetic_valid": {**(vs.get("scores") or {}), "rows": vs.get("rows")},
        "rare_word_recall": {c: (rw.get(c) or {}).get("recall") for c in
                             ("rare", "unseen", "frequent")},
        "train_best_real_valid_chrf": best,
        "collapse": {s: _side_metrics(v) for s, v in (col.get("sides") or {}).items()},
        "alarms": col.get("alarms") or [],
        "divergence_alarms": {n: s.get("alarms") or [] for n, s in
                              (("forward", fwd), ("reverse", rev))},
    }


def run_generations(cfg0: Config, out: Path, rounds: int, mix: str, model: str,
                    restart_run: bool = False, round0_run: Path | None = None) -> dict:
    """Run (or resume) ``rounds`` rounds into ``out/gen``; return ``generations.json``.

    ``round0_run``: a finished run of round 0's config made elsewhere (``eval/downstream.py``
    prepares it on a CPU with the configured model); round 0 copies it instead of running the
    configured model, then trains and evaluates as usual."""
    _check_args(rounds, mix, model)
    root = Path(out) / "gen"
    if not cfg0.split.calibration and cfg0.executor.name == "local":
        # calibrate on real pairs that no round's models train on (round 0 sets them aside,
        # every round sets aside the same ones: a pure function of seed and real pairs)
        cfg0 = cfg0.model_copy(update={"split": cfg0.split.model_copy(
            update={"calibration": CALIBRATION})})
    base = identity(cfg0, mix, model)
    done_rounds: list[dict] = []
    heldout0 = None
    t_run, n_run = time.monotonic(), 0  # rounds run (not kept) by this call, for the ETA
    for k in range(rounds):
        rdir = root / f"round-{k}"
        ident = round_identity(base, k)
        done = _finished_round(rdir, root, ident)
        if done is not None:
            log.info(f"generations: round {k} finished earlier: kept ({rdir / 'round.json'})")
            heldout0 = heldout0 or done["heldout"]
            done_rounds.append(done)
            write_report(root, base, done_rounds, FORMAT)
            continue
        write_json(rdir / "started.json", {"round": k, "identity": ident})
        prev = done_rounds[-1] if done_rounds else None
        cfg = round_config(cfg0, k, mix, rdir, prev)
        eta = "" if not n_run else ", ETA " + progress.duration(
            (time.monotonic() - t_run) / n_run * (rounds - k))
        log.info(f"generations: round {k} (of {rounds}: 0..{rounds - 1}{eta}): synthesise with "
                 f"{'the configured model' if k == 0 else f'round {k - 1} models'}")
        run_dir = _round_run(k, cfg, rdir, round0_run, restart_run)
        if not synthetic_rows(run_dir):
            reason = (f"round {k}: the run kept no synthetic row (see {run_dir / 'stats.json'} "
                      "and candidates.jsonl): "
                      + ("the configured model's output did not pass the filters" if k == 0 else
                         f"round {k - 1}'s models are too weak to synthesise through the "
                         "filters") + "; the loop stops here")
            log.info(f"generations: {reason}")
            write_report(root, base, done_rounds, FORMAT, stopped={"round": k, "reason": reason})
            raise GenerationsStopped(reason)
        held = _heldout(run_dir)
        if heldout0 is None:
            heldout0 = held
        elif held != heldout0:
            raise UserError(f"{run_dir}: its valid/test sets differ from round 0's; the held-out "
                            "sets must stay fixed across rounds (same data, seed and split)")
        rec = _train_and_evaluate(k, cfg, run_dir, rdir, model, ident, held)
        write_json(rdir / "round.json", rec)  # last: the round is finished
        n_run += 1
        done_rounds.append(rec)
        write_report(root, base, done_rounds, FORMAT)
    return _read_json(root / "generations.json")


def _check_args(rounds: int, mix: str, model: str) -> None:
    if mix not in MIXES:
        raise UserError(f"--mix {mix}: hybrid or synthetic")
    if rounds < 1:
        raise UserError(f"--rounds {rounds}: at least 1 (round 0 is the configured model)")
    if not model or not str(model).strip():
        raise UserError("--model: scratch, a hub id or a local model directory")


def _finished_round(rdir: Path, root: Path, ident: dict) -> dict | None:
    """Round ``rdir``'s round.json when it finished with these settings; None when it has not
    finished; a one-line refusal when it (finished or not) ran with other settings."""
    done = _read_json(rdir / "round.json")
    if done is not None:
        if done.get("identity") != ident:
            raise UserError(
                f"{rdir} is a finished round of other settings "
                f"({_diff(done.get('identity'), ident)}): choose another --out, or remove "
                f"{root} to start over")
        return done
    started = _read_json(rdir / "started.json")
    if started is not None and started.get("identity") != ident:
        raise UserError(
            f"{rdir} is an unfinished round of other settings "
            f"({_diff(started.get('identity'), ident)}): choose another --out, or remove "
            f"{root} to start over")
    return None


def _round_run(k: int, cfg: Config, rdir: Path, round0_run, restart_run: bool) -> Path:
    """Round k's run directory: the run (round 0: or the one made elsewhere, copied)."""
    from translate_synth.executors import run as run_executor

    if k == 0 and round0_run is not None:
        return _copy_run(Path(round0_run), rdir / cfg.lang)
    result = run_executor(cfg, rdir, restart=restart_run)
    run_dir = Path(result.out_dir)
    if synthetic_rows(run_dir):  # (no row at all stops the loop, with its own message)
        for w in result.stats.get("warnings") or []:
            log.info(f"WARNING: round {k}: {w}")
    return run_dir


def _train_and_evaluate(k: int, cfg: Config, run_dir: Path, rdir: Path, model: str,
                        ident: dict, held) -> dict:
    """Round k's two models trained and the forward one evaluated: its round.json record."""
    from translate_synth.evaluate import evaluate

    log.info(f"generations: round {k}: train {cfg.source_lang}->{cfg.lang} and "
             f"{cfg.lang}->{cfg.source_lang} ({model})")
    fwd = _train(run_dir, model, rdir / "model-fwd", False)
    rev = _train(run_dir, model, rdir / "model-rev", True)
    log.info(f"generations: round {k}: evaluate on the real test set")
    ev = evaluate(str(rdir / "model-fwd"), run_dir, rdir / "eval", split="test",
                  direction="forward", cache_dir=cfg.cache.dir,
                  no_cache=not cfg.cache.enabled)
    return {
        "round": k, "identity": ident, "run_dir": str(run_dir),
        "synthesised_with": "configured" if k == 0 else f"round-{k - 1}",
        "curriculum": [s.name for s in cfg.curriculum.stages]
        if cfg.curriculum.enabled else ["train"],
        "heldout": held,
        "models": {"forward": {"dir": str((rdir / "model-fwd").resolve()),
                               "steps": fwd.get("steps"), "stopped": fwd.get("stopped")},
                   "reverse": {"dir": str((rdir / "model-rev").resolve()),
                               "steps": rev.get("steps"), "stopped": rev.get("stopped")}},
        "eval": str(rdir / "eval" / "eval.json"),
        "metrics": round_metrics(run_dir, ev, fwd, rev),
    }


def _copy_run(src: Path, dest: Path) -> Path:
    """A finished run made elsewhere as round 0's run directory (copied once, atomically)."""
    import shutil

    if not (src / "manifest.json").is_file():
        raise UserError(f"{src}: not a finished run (no manifest.json): prepare it again")
    if not (dest / "manifest.json").is_file():
        tmp = dest.with_name(dest.name + ".copying")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(src, tmp)
        shutil.rmtree(dest, ignore_errors=True)
        tmp.rename(dest)
    return dest


def _diff(a, b) -> str:
    if not isinstance(a, dict):
        return "no identity"
    keys = [k for k in b if a.get(k) != b.get(k)]
    return ", ".join(f"{k} {a.get(k)!r} here, {b.get(k)!r} now" for k in keys) or "format"

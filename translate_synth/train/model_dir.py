"""MODEL_DIR at the end of a training: the best checkpoint's model and tokenizer (a normal
``save_pretrained`` directory), ``train_log.jsonl``, ``curves.png`` and ``train.json`` (the
summary, written last); ``checkpoints/`` removed unless ``train.keep_checkpoints``."""

from __future__ import annotations

import os
import shutil

from translate_synth.emit import write_bytes, write_json
from translate_synth.errors import UserError
from translate_synth.train.checkpoints import CKPT_ONLY, write_log
from translate_synth.train.watch import plot_curves


def install_best(trainer) -> list[str]:
    """Copy the best checkpoint's model files (not its training state) into MODEL_DIR; their
    names."""
    best_dir = trainer.ckpts.best
    if best_dir is None:
        raise UserError("train: no evaluation was made, so there is no best checkpoint")
    stage_dir = trainer.out / ".final"
    if stage_dir.exists():
        shutil.rmtree(stage_dir)
    shutil.copytree(best_dir, stage_dir, ignore=shutil.ignore_patterns(*CKPT_ONLY))
    model_files = sorted(p.name for p in stage_dir.iterdir() if p.is_file())
    for name in model_files:
        os.replace(stage_dir / name, trainer.out / name)
    shutil.rmtree(stage_dir, ignore_errors=True)
    return model_files


def summary_of(trainer, step: int, stopped: str, evals: list[dict], model_files: list[str],
               secs: float) -> dict:
    """train.json (README, Training on what it emits)."""
    from translate_synth import __version__

    d, t, cfg, watch = trainer.data, trainer.t, trainer.cfg, trainer.watch
    best = watch.best
    tokens = sum(e["tokens"] for e in trainer.entries if e["kind"] == "train")
    return {
        "version": __version__, "run_dir": str(d.run_dir), "lang": cfg.lang,
        "source_lang": cfg.source_lang, "direction": f"{d.src}-{d.tgt}",
        "model": trainer.model_info, "device": trainer.device, "precision": trainer.precision,
        "seed": trainer.seed, "steps": step, "steps_planned": trainer.total, "stopped": stopped,
        "stages": [{"name": s.name, "file": s.file, **trainer.stage_log.get(s.name, {
            "rows": len(s.pairs), "steps_planned": n, "steps": 0})}
            for s, n in zip(d.stages, trainer.alloc)],
        "lr": {"peak": trainer.lr, "warmup_steps": trainer.warmup,
               "schedule": "linear warm-up, then inverse square root"},
        "best": {"step": best["step"], "stage": best["stage"], "select": best["select"],
                 "real": best["real"], "synthetic": best["synthetic"]} if best else None,
        "final": evals[-1] if evals else None, "alarms": watch.alarms,
        "divergence": watch.summary(),
        "evaluations": len(evals), "signatures": trainer.signatures,
        "valid_rows": {k: len(v[0]) for k, v in trainer.evalsets.items()},
        "rare_k": trainer.rare_k, "resumed_at": trainer.resumed_at,
        "timings": {"seconds": secs, "train_target_tokens": tokens,
                    "steps_per_s": round(step / secs, 4) if secs else None},
        "data": d.shas, "config": t.model_dump(mode="json"),
        "outputs": model_files + ["train_log.jsonl", "curves.png", "train.json"]}


def write_model_dir(trainer, step: int, stopped: str) -> dict:
    """Write MODEL_DIR from ``trainer`` (a finished ``Trainer``); return train.json's
    content."""
    d, out = trainer.data, trainer.out
    model_files = install_best(trainer)
    evals = [e for e in trainer.entries if e["kind"] == "eval"]
    best = trainer.watch.best
    write_log(out / "train_log.jsonl", trainer.entries)
    write_bytes(out / "curves.png", plot_curves(
        evals, trainer.watch.alarms, best["step"] if best else None,
        f"{d.run_dir.name}: {d.src}->{d.tgt}, {trainer.model_spec}"))
    summary = summary_of(trainer, step, stopped, evals, model_files, trainer.elapsed())
    if trainer.comet:
        trainer.comet.end([out / "curves.png"])
        summary["comet"] = {"mode": trainer.comet.mode, "where": trainer.comet.where}
        if trainer.comet.where:
            summary["outputs"].append("comet/")
    if not trainer.t.keep_checkpoints:
        shutil.rmtree(out / "checkpoints", ignore_errors=True)
    write_json(out / "train.json", summary)
    return summary

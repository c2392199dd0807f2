"""The run's quality calibration stage: the quality model chosen and fitted per origin on real
pairs, once per run (journaled in ``.work/calibration.json``)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from translate_synth import progress
from translate_synth.calibration import calibrate, sample_pairs
from translate_synth.config import Config
from translate_synth.emit import write_json
from translate_synth.fluency import training_sample
from translate_synth.quality import CALIBRATED, uncalibrated
from translate_synth.rundir import read_jsonl

log = logging.getLogger(__name__)


def calibrate_run(cfg: Config, work: Path, synth, origins) -> dict:
    """Choose and fit the quality model per origin on real training pairs (journaled: done
    once per run). Its warnings go to stderr, calibration.json and stats.json."""
    path = work / "calibration.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    real = work / "real_train.jsonl"
    # split.calibration: pairs set aside that no training file holds, else training pairs
    held = work / "real_calibration.jsonl"
    cal_src = held if cfg.split.calibration and held.exists() else real
    langs = {"source": cfg.source_lang, "target": cfg.lang}
    pairs = []
    if cfg.quality.calibrate and cfg.quality.max_rows and cal_src.exists():
        stream = lambda p: ((r["source"], r["target"]) for r in read_jsonl(p))  # noqa: E731
        pairs = sample_pairs(stream(cal_src), cfg.quality.max_rows, cfg.seed)
    if pairs:
        train = training_sample(stream(real), cfg.seed) if real.exists() else None
        # the real pairs round-tripped in both shapes, then out and back per origin
        n_calls = 2 + 2 * len([o for o in CALIBRATED if o in origins])
        with progress.bar("quality calibration (translate real pairs)",
                          total=len(pairs) * n_calls, unit="sentences") as pbar:
            cal = calibrate(pairs, progress.Counted(synth.tr, pbar), synth.scorer, langs,
                            synth.decoding, synth.rt_decoding, cfg.seed,
                            model_scores=synth.model_scores, origins=origins,
                            train_pairs=train or None, min_pairs=cfg.quality.min_pairs)
    else:
        cal = uncalibrated("no calibration (quality.calibrate is off or there are no real "
                           "pairs)")
    warnings = cal.get("warnings", [])
    if cal["note"] not in warnings:  # else it is the first warning: said once, as one
        log.info(f"quality: {cal['note']}")
    for w in warnings:
        log.info(f"warning: quality: {w}")
    write_json(path, cal)
    return cal

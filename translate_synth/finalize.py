"""Everything after the model calls: filter the scored candidates, emit the splits, stage stats.

Shared by ``run`` and ``refilter``: the same candidates, real rows and config always give the same
files, so re-thresholding never needs the model.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from translate_synth.emit import read_jsonl, write_json, write_splits
from translate_synth.faults import checkpoint
from translate_synth.filtering import apply_filters
from translate_synth.ingest import file_sha256


def filter_and_emit(cfg, candidates_src: Path, stage: Path, real_train: Path, valid: list[dict],
                    test: list[dict], heldout_keys: set, train_hashes: set,
                    timings: dict, extra_context: dict | None = None, log=None) -> dict:
    """Write candidates.jsonl and the splits into ``stage``; return the stats sections."""
    context = {"heldout_keys": heldout_keys, "_dup_seen": set(train_hashes),
               "langs": {"source": cfg.source_lang, "target": cfg.lang}, "warn": log,
               **(extra_context or {})}
    t0 = time.perf_counter()
    funnel, score_stats = apply_filters(cfg.filters, candidates_src, stage / "candidates.jsonl",
                                        context)
    timings["filter"] = round(time.perf_counter() - t0, 3)
    checkpoint("after_filter")
    t0 = time.perf_counter()
    emitted = write_splits(read_jsonl(real_train) if real_train.exists() else [],
                           stage / "candidates.jsonl", valid, test, stage, cfg)
    timings["emit"] = round(time.perf_counter() - t0, 3)
    checkpoint("after_emit")
    return {"filters": funnel, "emitted": emitted, "scores": score_stats}


def move_staged(stage: Path, out: Path, stats: dict) -> dict:
    """Write stats.json into staging, then move every staged file into ``out``: {name: sha/rows}.

    ``manifest.json`` is written after this by the caller: a directory with a manifest is a
    finished run.
    """
    write_json(stage / "stats.json", stats)
    outputs = {}
    for p in sorted(stage.iterdir()):
        rows = sum(1 for _ in open(p, encoding="utf-8")) if p.suffix == ".jsonl" else None
        outputs[p.name] = {"sha256": file_sha256(p), "rows": rows}
    for p in sorted(stage.iterdir()):
        os.replace(p, out / p.name)
        checkpoint("mid_finish")
    return outputs

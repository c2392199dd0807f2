"""Everything after the model calls: filter the scored candidates, emit the splits, stage stats.

Shared by ``run`` and ``refilter``: the same candidates, real rows and config always give the same
files, so re-thresholding never needs the model.
"""

from __future__ import annotations

import logging
import time
from array import array
from pathlib import Path

from translate_synth.emit import publish, write_json
from translate_synth.rundir import read_jsonl
from translate_synth.trainsets import write_splits
from translate_synth.faults import checkpoint
from translate_synth.filtering import apply_filters
from translate_synth.filters import FilterContext
from translate_synth.fluency import SideModels
from translate_synth.novelty import rare_types
from translate_synth.hashset import HashSet
from translate_synth.sampling import reservoir
from translate_synth.text import norm_key, stable_int

log = logging.getLogger(__name__)

MONITOR_ROWS = 20000


def filter_and_emit(cfg, candidates_src: Path, stage: Path, real_train: Path, valid: list[dict],
                    test: list[dict], heldout_keys: set, train_hashes: set,
                    timings: dict, calibration: dict | None = None,
                    prescored: frozenset = frozenset()) -> dict:
    """Write candidates.jsonl and the splits into ``stage``; return the stats sections.
    ``calibration``: calibration.json's content; ``prescored``: score keys of stateless filters
    an executor has computed already (kept, not recomputed)."""
    context = FilterContext(
        langs={"source": cfg.source_lang, "target": cfg.lang}, heldout_keys=heldout_keys,
        train_keys=train_hashes if isinstance(train_hashes, HashSet) else HashSet(train_hashes),
        **real_pair_keys(real_train), fluency_lm=SideModels(_pairs(real_train), cfg.seed),
        calibration=calibration, log_warnings=True)
    rare = rare_types(_pairs(real_train), cfg.collapse.rare_k)
    t0 = time.perf_counter()
    funnel, score_stats = apply_filters(cfg.filters, candidates_src, stage / "candidates.jsonl",
                                        context, prescored=prescored, rare_types=rare,
                                        real_pairs=lambda: _pairs(real_train))
    timings["filter"] = round(time.perf_counter() - t0, 3)
    checkpoint("after_filter")
    warnings = kept_warnings(funnel)  # said once, by whoever shows the result (summary.py)
    t0 = time.perf_counter()
    emitted, stages = write_splits(real_train, stage / "candidates.jsonl", valid, test, stage,
                                   cfg)
    timings["emit"] = round(time.perf_counter() - t0, 3)
    if "valid_synthetic" in emitted and not emitted["valid_synthetic"]:
        warnings.append("valid_synthetic.jsonl is empty: no accepted synthetic row has a source "
                        "and a target that no training row has (degenerate output repeats "
                        "itself; paraphrases never qualify): `train` cannot judge divergence")
    for w in warnings:
        log.info(f"WARNING: {w}")
    checkpoint("after_emit")
    collapse = None
    if cfg.collapse.enabled:
        t0 = time.perf_counter()
        collapse = run_monitor(cfg, stage / "candidates.jsonl", real_train, valid)
        write_json(stage / "collapse.json", collapse)
        timings["collapse"] = round(time.perf_counter() - t0, 3)
        for a in collapse["alarms"]:
            log.info(f"collapse alarm ({a['side']}, {a['lang']}): {a['metric']} = {a['value']} "
                     f"({'<' if a['direction'] == 'min' else '>'} {a['threshold']}): {a['hint']}")
    out = {"filters": funnel, "emitted": emitted, "curriculum": stages, "scores": score_stats,
           "warnings": warnings}
    if collapse is not None:
        out["collapse"] = {"alarms": len(collapse["alarms"]),
                           "metrics": {side: {k: m.get(k) for k in
                                              ("distinct2_ratio", "mtld_ratio",
                                               "valid_coverage_ratio", "rare_coverage_ratio",
                                               "jsd_train", "ks_length", "self_bleu_excess",
                                               "prefix3_excess")}
                                       for side, m in collapse["sides"].items()}}
    return out


LOW_KEEP = 0.1  # below this share of candidates kept, the run is loud about it


def kept_warnings(funnel: list[dict]) -> list[str]:
    """Warnings when the filters kept nothing, or less than a tenth of the candidates: the
    training set is then (nearly) all real, or the model or a threshold is broken."""
    if not funnel:
        return []
    seen, kept = funnel[0]["seen"], funnel[-1]["kept"]
    if not seen:
        return []
    worst = max(funnel, key=lambda f: f["removed"])
    why = f"'{worst['name']}' removed the most ({worst['removed']})"
    if kept == 0:
        return [f"no synthetic row kept of {seen} candidates ({why}): the training set is real "
                "rows only; check the model's output in candidates.jsonl and the thresholds "
                "(translate-synth refilter can re-decide without the model)"]
    if kept < LOW_KEEP * seen:
        return [f"only {kept} of {seen} synthetic candidates kept ({100 * kept / seen:.1f} %; "
                f"{why}): check the model's output in candidates.jsonl and the thresholds"]
    return []


def _pairs(real_train: Path):
    """(source, target) of the real training rows, streamed (fluency models train on them)."""
    if real_train is not None and real_train.exists():
        for r in read_jsonl(real_train):
            yield r["source"], r["target"]


def real_pair_keys(real_train: Path) -> dict:
    """Filter context from the real training pairs (the same in a run and in ``refilter``):
    exact (source, target) hashes for ``duplicate`` in ``mode: exact`` and normalised target
    hashes for ``real_target_overlap``."""
    exact, targets = HashSet(), HashSet()
    if real_train is not None and Path(real_train).exists():
        for r in read_jsonl(real_train):
            exact.add(stable_int(r["source"], r["target"]))
            targets.add(stable_int(norm_key(r["target"])))
    return {"train_exact_keys": exact, "real_targets": targets}


def run_monitor(cfg, candidates: Path, real_train: Path, valid: list[dict]) -> dict:
    """Collapse metrics of the accepted synthetic text against real text, per language side.

    Holds the texts of one run in memory (capped at ``MONITOR_ROWS`` seeded rows per source).
    """
    import random

    from translate_synth.collapse import monitor

    rng = random.Random(cfg.seed)  # one stream of draws for the three samples, in this order
    scores = {"rt_bleu": array("f"), "rt_chrf": array("f"), "quality": array("f")}

    def synthetic(side):
        for r in read_jsonl(candidates):
            if not r.get("accepted"):
                continue
            syn_side = "target" if r["authentic"] == "source" else "source"
            if side == "source":  # collect the score distributions once
                for k in scores:
                    if r["scores"].get(k) is not None:
                        scores[k].append(r["scores"][k])
            if syn_side == side:
                yield r[side]

    syn = {side: reservoir(synthetic(side), MONITOR_ROWS, rng) for side in ("source", "target")}
    real = reservoir(read_jsonl(real_train), MONITOR_ROWS, rng) if real_train.exists() else []
    sides = {side: {"lang": cfg.source_lang if side == "source" else cfg.lang,
                    "synthetic": syn[side], "real_train": [r[side] for r in real],
                    "valid": [r[side] for r in valid]} for side in ("source", "target")}
    return monitor(sides, scores, cfg.collapse.alarms, cfg.seed, cfg.collapse.min_rows,
                   cfg.collapse.rare_k)


def move_staged(stage: Path, out: Path, stats: dict) -> dict:
    """Write stats.json into staging, then move every staged file into ``out`` and remove the
    files an earlier run left there that this one does not write: {name: sha/rows}.

    ``manifest.json`` is written after this by the caller: a directory with a manifest is a
    finished run.
    """
    write_json(stage / "stats.json", stats)
    return publish(stage, out, checkpoint=lambda: checkpoint("mid_finish"))

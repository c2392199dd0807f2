"""The training files of a run: train/valid/test, valid_synthetic and the curriculum stages.

``train.jsonl`` is the real training rows, then the accepted synthetic rows; ``valid``/``test``
are the real held-out rows; ``valid_synthetic.jsonl`` holds out a seeded share of accepted
synthetic rows that share no source or target with any row of any ``train*.jsonl``
(``curriculum.Accepted.held_out``); ``train.<stage>.jsonl`` mixes real and synthetic rows per
curriculum stage (``curriculum.py``). Shared by a run and by ``refilter``: the same inputs always
give the same files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from translate_synth.curriculum import Accepted, project, real_side_keys, write_stage
from translate_synth.emit import AtomicJsonl
from translate_synth.rundir import read_jsonl

SPLITS = ("train", "valid", "test")
TRAIN_FIELDS = ("id", "source", "target", "origin", "authentic", "roundtrip", "scores", "method",
                "paraphrase_of")


def write_splits(real_train: Path | None, candidates: Path, valid: list[dict], test: list[dict],
                 out: Path, cfg) -> tuple[dict, dict]:
    """train.jsonl (real training rows, then accepted candidates), valid.jsonl, test.jsonl,
    optional valid_synthetic.jsonl, and train.<stage>.jsonl per curriculum stage.

    Shared by a run and by ``refilter``: the same inputs always give the same files.
    Returns ({split: {origin: rows}}, {stage: counts}).
    """
    cur = cfg.curriculum
    counts = {s: {} for s in SPLITS}

    def count(s, origin):
        counts.setdefault(s, {})
        counts[s][origin] = counts[s].get(origin, 0) + 1

    acc = Accepted(candidates, cur.sort_by, cfg.seed)
    real_keys = real_side_keys(read_jsonl(real_train)) if real_train is not None and \
        real_train.exists() else None
    held = acc.held_out(cur.valid_synthetic, cur.valid_synthetic_max, real_keys)
    n_real = 0
    try:
        with AtomicJsonl(out / "train.jsonl") as w:
            if real_train is not None and real_train.exists():
                for r in read_jsonl(real_train):
                    w.write(r)
                    count("train", "real")
                    n_real += 1
            for i in range(len(acc)):
                if i not in held:
                    r = acc.row(i)
                    w.write(project(r, TRAIN_FIELDS, cur.tag_bt))
                    count("train", r["origin"])
        if held or (cur.valid_synthetic > 0 and len(acc)):  # empty: no row qualified
            counts.setdefault("valid_synthetic", {})
            with AtomicJsonl(out / "valid_synthetic.jsonl") as w:
                for i in sorted(held):
                    r = acc.row(i)
                    w.write(project(r, TRAIN_FIELDS, False))
                    count("valid_synthetic", r["origin"])
        for name, rows in (("valid", valid), ("test", test)):
            with AtomicJsonl(out / f"{name}.jsonl") as w:
                for r in rows:
                    w.write(r)
                    count(name, "real")
        stages = {}
        if cur.enabled:
            syn_idx = np.arange(len(acc), dtype=np.int64)
            if held:
                syn_idx = syn_idx[~np.isin(syn_idx, np.fromiter(held, dtype=np.int64))]
            for stage in cur.stages:
                stages[stage.name] = write_stage(stage, acc, syn_idx, real_train, n_real, out,
                                                 TRAIN_FIELDS, cur.tag_bt, AtomicJsonl)
    finally:
        acc.close()
    return counts, stages

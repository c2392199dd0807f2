"""The real held-out split: valid/test drawn (seeded) from the real parallel data, never synthetic.

Two streaming passes over the real inputs: the first ranks each distinct pair by a seeded hash and
picks the held-out rows; the second routes every pair to valid, test or train. Only the held-out
rows and 8-byte hashes are kept in memory. A training pair that shares a side with a held-out
sentence (after normalisation) is dropped from train, so nothing held out leaks in.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from translate_synth.config import SplitConfig
from translate_synth.hashset import HashSet
from translate_synth.text import digest, norm_key, stable_int


def real_row(source: str, target: str) -> dict:
    return {"id": f"real-{digest(source, target)}", "source": source, "target": target,
            "origin": "real"}


MIN_HELDOUT = 8  # rows per held-out split a fraction gives at least (with >= 5x as many pairs)


def _size(spec: float, total: int, cap: int) -> int:
    """A fraction (< 1) of ``total``, at least ``min(MIN_HELDOUT, total // 5)`` (so a few dozen
    pairs still give a usable held-out set, and the floors never take over 40 % of the pairs);
    a count (>= 1) as given; 0 is none. At most ``cap``."""
    if spec >= 1:
        n = int(spec)
    elif spec > 0:
        n = max(round(total * spec), min(MIN_HELDOUT, total // 5))
    else:
        n = 0
    return min(n, cap)


@dataclass
class Split:
    valid: list[dict] = field(default_factory=list)
    test: list[dict] = field(default_factory=list)
    heldout_keys: set = field(default_factory=set)  # norm_key of every valid/test sentence
    counts: dict = field(default_factory=dict)


def heldout_sizes(cfg: SplitConfig, distinct: int) -> tuple[int, int]:
    """(valid rows, test rows) for ``distinct`` real pairs; at least one pair stays in train.

    The default (0.1 each, at least min(8, pairs // 5), at most ``max_heldout``): 20 pairs give
    4/4 (12 train), 60 give 8/8 (44), 200 give 20/20 (160), 100,000 give 3,000/3,000."""
    n_valid = _size(cfg.valid, distinct, cfg.max_heldout)
    n_test = _size(cfg.test, distinct, cfg.max_heldout)
    if n_valid + n_test >= distinct and distinct:
        n_test = max(0, min(n_test, distinct - n_valid - 1))
        n_valid = max(0, min(n_valid, distinct - n_test - 1))
    return n_valid, n_test


# ---------------------------------------------------------------- the stage's plain functions
# (both executors call these: a loop over the pairs here, Ray Data operations in executors/)


def pair_key(source: str, target: str) -> int:
    """The identity of a real pair: the hash of both normalised sides (dedup, plan, train)."""
    return stable_int(norm_key(source), norm_key(target))


def pair_rank(seed: int, key: int) -> int:
    """The seeded rank that picks the held-out pairs: the lowest ranks (ties by input order)."""
    return stable_int(seed, key)


def heldout_plan(keys_by_rank: list[int], n_valid: int) -> dict:
    """{pair key: "valid" | "test"} from the held-out pairs' keys in (rank, input order)."""
    return {h: ("valid" if k < n_valid else "test") for k, h in enumerate(keys_by_rank)}


def heldout_keys_of(rows: Iterable[dict]) -> set:
    """The normalised sentences of held-out rows: nothing synthetic or trained may equal one."""
    return {norm_key(r[side]) for r in rows for side in ("source", "target")}


def leaks(source: str, target: str, heldout_keys: set) -> bool:
    """A training pair that shares a side with a held-out sentence (dropped from train)."""
    return norm_key(source) in heldout_keys or norm_key(target) in heldout_keys


def read_counts(read: int, distinct: int) -> dict:
    """stats.json ``real``: pairs read, duplicates dropped, distinct pairs (the plan's pass)."""
    return {"read": read, "duplicates": read - distinct, "distinct": distinct}


def routed_counts(split: "Split", train: int, leaked: int) -> dict:
    """stats.json ``real``: rows per split and training pairs dropped for sharing a side with a
    held-out sentence (the routing pass)."""
    return {"valid": len(split.valid), "test": len(split.test), "train": train,
            "train_dropped_heldout_overlap": leaked}


# ---------------------------------------------------------------- the local executor's passes


def plan_split(pairs: Iterable[tuple[str, str]], cfg: SplitConfig, seed: int) -> tuple[dict, dict]:
    """First pass: {pair hash: "valid"|"test"} for the held-out pairs, and counts."""
    ranks, hashes, seen = array("Q"), array("Q"), HashSet()
    total = 0
    for s, t in pairs:
        total += 1
        h = pair_key(s, t)
        if h in seen:
            continue
        seen.add(h)
        hashes.append(h)
        ranks.append(pair_rank(seed, h))
    distinct = len(hashes)
    n_valid, n_test = heldout_sizes(cfg, distinct)
    order = sorted(range(distinct), key=ranks.__getitem__)[: n_valid + n_test]
    plan = heldout_plan([hashes[i] for i in order], n_valid)
    return plan, read_counts(total, distinct)


def route(pairs_again: Callable[[], Iterator[tuple[str, str]]], plan: dict,
          split: Split) -> Iterator[dict]:
    """Second pass: fill split.valid/test, yield the real training rows (deduplicated)."""
    buckets = {"valid": [], "test": []}
    seen = HashSet()
    for s, t in pairs_again():
        h = pair_key(s, t)
        if h in seen:
            continue
        seen.add(h)
        which = plan.get(h)
        if which:
            buckets[which].append(real_row(s, t))
    split.valid, split.test = buckets["valid"], buckets["test"]
    split.heldout_keys.update(heldout_keys_of(split.valid + split.test))
    leaked = kept = 0
    seen = HashSet()
    for s, t in pairs_again():
        h = pair_key(s, t)
        if h in seen or h in plan:
            continue
        seen.add(h)
        if leaks(s, t, split.heldout_keys):
            leaked += 1
            continue
        kept += 1
        yield real_row(s, t)
    split.counts.update(routed_counts(split, kept, leaked))


def drop_summary(counts: dict) -> str | None:
    """One stderr line for the real pairs the split took away (None when it took none)."""
    parts = []
    if n := counts.get("duplicates", 0):
        parts.append(f"{n:,} duplicate pair{'' if n == 1 else 's'} dropped (the first "
                     "occurrence is kept)")
    if n := counts.get("train_dropped_heldout_overlap", 0):
        parts.append(f"{n:,} training pair{'' if n == 1 else 's'} dropped: "
                     f"{'it shares' if n == 1 else 'they share'} a side with a valid/test pair")
    return f"data: real pairs: {', '.join(parts)}" if parts else None


# ---------------------------------------------------------------- the calibration split

def calibration_size(cfg: SplitConfig, train: int) -> int:
    """Training pairs set aside for calibration (``split.calibration``): a fraction (< 1) of
    them, at least ``min(calibration_min, train // 4)``, at most ``calibration_max``; a count
    (>= 1) as given; 0: none. At least one pair stays in train."""
    spec = cfg.calibration
    if spec <= 0 or train < 2:
        return 0
    if spec >= 1:
        n = int(spec)
    else:
        n = max(round(train * spec), min(cfg.calibration_min, train // 4))
        n = min(n, cfg.calibration_max)
    return min(n, train - 1)


def set_aside_calibration(real_train, calibration, cfg: SplitConfig, seed: int
                          ) -> tuple[int, int]:
    """Move a seeded set of the pairs in ``real_train`` (a JSONL file, rewritten) into
    ``calibration``: pairs that calibrate the quality score and its real-pair cuts and that no
    training file holds. The pairs with the lowest seeded rank; a pure function of the seed and
    the training pairs, so every run (and every round of ``generations``) sets aside the same
    ones. A training pair that shares a side with a calibration pair is dropped, as the leak
    guard drops those sharing one with valid/test. Returns (set aside, dropped)."""
    import heapq
    import json
    import os

    def rows():
        with open(real_train, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)

    n = sum(1 for _ in rows())
    k = calibration_size(cfg, n)
    if not k:
        return 0, 0
    rank = lambda r: stable_int(seed, "calibration", pair_key(r["source"], r["target"]))  # noqa
    picked = heapq.nsmallest(k, rows(), key=rank)
    chosen = {rank(r) for r in picked}
    keys = heldout_keys_of(picked)
    dropped = 0
    tmp = f"{real_train}.tmp"
    with open(tmp, "w", encoding="utf-8") as keep, \
            open(calibration, "w", encoding="utf-8") as cal:
        for r in rows():
            if rank(r) in chosen:
                cal.write(json.dumps(r, ensure_ascii=False) + "\n")
            elif leaks(r["source"], r["target"], keys):
                dropped += 1
            else:
                keep.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(tmp, real_train)
    return k, dropped

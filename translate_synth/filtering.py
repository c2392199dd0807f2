"""The filter stage: score every candidate with every filter, resolve thresholds, decide, count.

Two passes over the candidates on disk:
1. every filter scores every row (``scores[<score_key>]``; absent = not applicable), written to a
   temporary file; the scores are also kept in memory as one float column per filter (8 bytes a
   row and filter, NaN for absent);
2. thresholds are resolved in chain order: ``min``/``max`` as given, ``keep_top`` over the rows
   still kept when the filter is reached, ``real_percentile`` over the real pairs' scores; then
   each row gets ``accepted`` and ``rejected_by`` (every filter whose threshold it fails, in chain
   order) and the funnel counts it as removed by the first one.
Everything is deterministic; nothing needs a model (stored scores are read, not recomputed).
"""

from __future__ import annotations

import os
import statistics
import tempfile
from array import array
from itertools import islice
from pathlib import Path

import numpy as np

from translate_synth.emit import AtomicJsonl, read_jsonl
from translate_synth.errors import UserError
from translate_synth.filters import build_filters
from translate_synth.filters.base import StoredScore

BLOCK = 2000
SUMMARY_KEYS = ("rt_bleu", "rt_chrf", "quality")


def _summary(values) -> dict:
    if not len(values):
        return {"n": 0, "mean": None, "median": None}
    return {"n": len(values), "mean": round(statistics.fmean(values), 4),
            "median": round(statistics.median(values), 4)}


def _score_block(chain, rows) -> None:
    for _, f in chain:
        for r, v in zip(rows, f.score(rows)):
            if v is not None:
                r["scores"][f.score_key] = v
            elif not isinstance(f, StoredScore):  # recomputed and not applicable: no stale value
                r["scores"].pop(f.score_key, None)


def _real_values(f, real_rows: list[dict]) -> np.ndarray:
    rows = [{**r, "scores": dict(r.get("scores", {}))} for r in real_rows]
    vals = [v for v in f.score(rows) if v is not None] if rows else []
    return np.asarray(vals, dtype=float)


def apply_filters(specs: list[dict], src: Path, dst: Path, context: dict) -> tuple[list, dict]:
    """(funnel, score summary). ``context``: held-out keys, real pair hashes, ``langs``, and
    optionally ``calibration`` (quality weights and ``real_rows`` for ``real_percentile``)."""
    chain = build_filters(specs, context)
    cols = [array("d") for _ in chain]
    fd, tmp = tempfile.mkstemp(prefix=".scored.", suffix=".jsonl", dir=dst.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        with AtomicJsonl(tmp) as w:  # pass 1: score
            raw = read_jsonl(src)
            while rows := list(islice(raw, BLOCK)):
                _score_block(chain, rows)
                for r in rows:
                    w.write(r)
                    for col, (_, f) in zip(cols, chain):
                        v = r["scores"].get(f.score_key)
                        col.append(float("nan") if v is None else float(v))
        n = len(cols[0]) if cols else 0
        S = [np.frombuffer(c, dtype=float) if len(c) else np.zeros(0) for c in cols]
        alive = np.ones(n, dtype=bool)
        fails = []
        funnel = []
        real_rows = (context.get("calibration") or {}).get("real_rows") or []
        for (name, f), s in zip(chain, S):
            present = ~np.isnan(s)
            real = None
            if getattr(f.params, "real_percentile", None) is not None:
                real = _real_values(f, real_rows)
                if not len(real):
                    raise UserError(f"filter '{name}': real_percentile needs real parallel data "
                                    "scored the same way (data.parallel with quality.calibrate "
                                    "on); use min/max or keep_top instead")
            lo, hi = f.bounds(s[alive & present], real)
            ok = np.ones(n, dtype=bool)
            if lo is not None:
                ok &= ~present | (s >= lo)
            if hi is not None:
                ok &= ~present | (s <= hi)
            fail = ~ok
            fails.append(fail)
            removed = int((alive & fail).sum())
            step = {"name": name, "type": f.name, "score": f.score_key,
                    "direction": "higher" if f.higher_is_better else "lower",
                    "thresholds": {**f.thresholds(),
                                   "resolved": {"min": lo, "max": hi}},
                    "seen": int(alive.sum()), "kept": int(alive.sum()) - removed,
                    "removed": removed}
            step["removed_share"] = round(removed / step["seen"], 4) if step["seen"] else 0.0
            funnel.append(step)
            alive &= ok
        scores = {k: {"all": array("d"), "accepted": array("d")} for k in SUMMARY_KEYS}
        with AtomicJsonl(dst) as out:  # pass 2: decide
            for i, r in enumerate(read_jsonl(tmp)):
                r["rejected_by"] = [name for (name, _), fl in zip(chain, fails) if fl[i]]
                r["accepted"] = not r["rejected_by"]
                for k, arrs in scores.items():
                    v = r["scores"].get(k)
                    if v is not None:
                        arrs["all"].append(v)
                        if r["accepted"]:
                            arrs["accepted"].append(v)
                out.write(r)
    finally:
        tmp.unlink(missing_ok=True)
    score_stats = {k: {part: _summary(vals) for part, vals in arrs.items()}
                   for k, arrs in scores.items()}
    return funnel, score_stats

"""The filter stage: score every candidate with every filter, resolve thresholds, decide, count.

Two passes over the candidates on disk:
1. every filter scores every row (``scores[<score_key>]``; absent = not applicable), written to a
   temporary file; the scores are also kept in memory as one float column per filter (8 bytes a
   row and filter, NaN for absent);
2. thresholds are resolved in chain order: ``min``/``max`` as given, ``keep_top`` over the rows
   still kept when the filter is reached, ``real_percentile`` over the real pairs' scores (both
   within each origin unless the filter says ``pool: all``; real pairs built in the shape of
   that origin's rows and scored with its quality weights); then
   each row gets ``accepted`` and ``rejected_by`` (every filter whose threshold it fails, in chain
   order) and the funnel counts it as removed by the first one, in all and per origin.
Everything is deterministic; nothing needs a model (stored scores are read, not recomputed).
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from array import array
from functools import cache
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from translate_synth.emit import AtomicJsonl
from translate_synth.errors import UserError
from translate_synth.filters import FilterContext, build_filters
from translate_synth.filters.base import StoredScore
from translate_synth.novelty import NovelIndex, RareTypes
from translate_synth.rundir import read_jsonl
from translate_synth.sampling import Reservoir

BLOCK = 2000
SUMMARY_KEYS = ("rt_bleu", "rt_chrf", "quality")


class _Summary:
    """Exact count and mean; median exact up to ``SAMPLE`` values, else from a seeded uniform
    sample of that size (bounded memory for any corpus)."""

    SAMPLE = 100_000

    def __init__(self, seed: int = 0):
        self.total, self.sample = 0.0, Reservoir(self.SAMPLE, seed, array("f"))

    def append(self, v: float) -> None:
        self.total += v
        self.sample.add(v)

    def as_dict(self) -> dict:
        n = self.sample.n
        if not n:
            return {"n": 0, "mean": None, "median": None}
        v = np.frombuffer(self.sample.items, dtype=np.float32).astype(np.float64)
        return {"n": n, "mean": round(self.total / n, 4),
                "median": round(float(np.median(v)), 4)}


def _score_block(chain, rows, prescored=frozenset()) -> None:
    for _, f in chain:
        pre = f.score_key in prescored  # scored already (elsewhere): kept, not recomputed
        values = [r["scores"].get(f.score_key) for r in rows] if pre else f.score(rows)
        stored = isinstance(f, StoredScore)
        for r, v in zip(rows, values):
            if not stored:  # (re)computed scores: no stale value, and keys in chain order
                r["scores"].pop(f.score_key, None)
            if v is not None:
                r["scores"][f.score_key] = v


def _real_values(f, real_rows: list[dict], origin: str, sides) -> np.ndarray:
    """The scores of the real pairs built in the shape of ``origin``'s rows (the same authentic
    side: ``sides``) and scored as rows of that origin (its quality weights): the same units as
    the synthetic rows they are compared with. Real rows of an older calibration that has no
    row of that shape are all used."""
    shaped = [r for r in real_rows if r.get("authentic", "target") in sides] or real_rows
    rows = [{**r, "origin": origin, "scores": dict(r.get("scores", {}))} for r in shaped]
    vals = [v for v in f.score(rows) if v is not None] if rows else []
    return np.asarray(vals, dtype=float)


def apply_filters(specs: list[dict], src: Path, dst: Path, context: FilterContext,
                  prescored: frozenset = frozenset(), rare_types: dict | None = None,
                  real_pairs: Callable[[], Iterable[tuple[str, str]]] | None = None
                  ) -> tuple[list, dict]:
    """(funnel, score summary). ``context``: what the filters read (held-out keys, real pair
    hashes, ``langs``, and optionally ``calibration``: quality weights and ``real_rows`` for
    ``real_percentile``); ``prescored``: score keys of stateless filters an executor has
    computed already; ``rare_types`` ({side: rare real word types}): each funnel step then
    reports the share of them carried by the rows reaching it and by the rows it keeps;
    ``real_pairs``: the real training pairs, streamed (novelty counts over them and ``src``)."""
    if context.novel_index is None:  # for filters that count over all rows
        context = dataclasses.replace(context, novel_index=novel_indexes(src, real_pairs))
    chain = build_filters(specs, context)
    if len(chain) > 64:
        raise UserError(f"filters: {len(chain)} filters configured, at most 64 are supported; "
                        "merge or drop some")
    fd, tmp = tempfile.mkstemp(prefix=".scored.", suffix=".jsonl", dir=dst.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        n, cols, fails, origins = _score_pass(chain, src, tmp, prescored)
        real_rows = (context.calibration or {}).get("real_rows") or []
        funnel, mask = _resolve(chain, n, cols, fails, real_rows, origins)
        rare = RareTypes(rare_types) if rare_types else None
        score_stats = _decide_pass(chain, tmp, dst, mask, rare)
    finally:
        tmp.unlink(missing_ok=True)
    if rare is not None:  # what each filter costs in the rare words of real text
        for k, step in enumerate(funnel):
            step["rare_types"] = rare.shares(k)
    return funnel, score_stats


def novel_indexes(candidates: Path, real_pairs: Callable[[], Iterable] | None) -> Callable:
    """side -> the ``NovelIndex`` of the candidates file and the real pairs, built on first use
    (one pass over the file a side) and then kept."""

    @cache
    def index(side: str) -> NovelIndex:
        return NovelIndex(read_jsonl(candidates), real_pairs() if real_pairs else (), side)

    return index


def _relative(f) -> bool:
    return getattr(f.params, "keep_top", None) is not None or \
        getattr(f.params, "real_percentile", None) is not None


class _Origins:
    """The origin of every row, one byte a row, and the authentic sides each origin has."""

    def __init__(self):
        self.codes, self.names, self.sides, self._index = bytearray(), [], {}, {}

    def add(self, row: dict) -> None:
        o = row.get("origin", "bt")
        if o not in self._index:
            if len(self.names) == 255:
                raise UserError("candidates: more than 255 origins; rows carry bt, ft or "
                                "paraphrase")
            self._index[o] = len(self.names)
            self.names.append(o)
            self.sides[o] = set()
        self.sides[o].add(row.get("authentic", "target"))
        self.codes.append(self._index[o])

    def array(self) -> np.ndarray:
        return np.frombuffer(bytes(self.codes), dtype=np.uint8) if self.codes else \
            np.zeros(0, np.uint8)


def _score_pass(chain, src: Path, tmp: Path, prescored) -> tuple[int, list, list, _Origins]:
    """Pass 1: score every row with every filter into ``tmp``. A filter with an absolute
    threshold is decided here (one byte a row: ``fails[k]``); only filters with a relative
    threshold keep their scores (8 bytes a row: ``cols[k]``) until it is resolved. Each row's
    origin is kept (one byte a row) for per-origin thresholds and counts."""
    bounds = [None if _relative(f) else f.bounds() for _, f in chain]
    cols = [array("d") if _relative(f) else None for _, f in chain]
    fails = [bytearray() for _ in chain]
    origins = _Origins()
    n = 0
    with AtomicJsonl(tmp) as w:
        raw = read_jsonl(src)
        while rows := list(islice(raw, BLOCK)):
            _score_block(chain, rows, prescored)
            for r in rows:
                w.write(r)
                origins.add(r)
                n += 1
                for k, (_, f) in enumerate(chain):
                    v = r["scores"].get(f.score_key)
                    if cols[k] is not None:
                        cols[k].append(float("nan") if v is None else float(v))
                    else:
                        lo, hi = bounds[k]
                        fails[k].append(v is not None and ((lo is not None and v < lo) or
                                                           (hi is not None and v > hi)))
    return n, cols, fails, origins


def _cut(s: np.ndarray, present: np.ndarray, lo, hi) -> np.ndarray:
    ok = np.ones(len(s), dtype=bool)
    if lo is not None:
        ok &= ~present | (s >= lo)
    if hi is not None:
        ok &= ~present | (s <= hi)
    return ~ok


def _relative_fail(name, f, s, alive, origins: _Origins, real_rows) -> tuple[np.ndarray, dict]:
    """A relative threshold (keep_top, real_percentile) resolved over the rows still alive:
    within each origin (``pool: origin``, the default) or over all rows (``pool: all``).
    Returns the rows it rejects and {origin or "all": (min, max)}."""
    present = ~np.isnan(s)
    codes = origins.array()
    per_origin = getattr(f.params, "pool", None) != "all"
    groups = [(o, codes == i) for i, o in enumerate(origins.names)] if per_origin else \
        [("all", np.ones(len(s), dtype=bool))]
    fail = np.zeros(len(s), dtype=bool)
    resolved = {}
    for o, rows in groups:
        real = None
        if getattr(f.params, "real_percentile", None) is not None:
            names = [o] if per_origin else origins.names
            real = np.concatenate([_real_values(f, real_rows, x, origins.sides[x])
                                   for x in names] or [np.zeros(0)])
            if not len(real):
                raise UserError(f"filter '{name}': real_percentile needs real parallel "
                                "data scored the same way (data.parallel with "
                                "quality.calibrate on); use min/max or keep_top instead")
        lo, hi = f.bounds(s[alive & present & rows], real, o if per_origin else None)
        fail |= rows & _cut(s, present, lo, hi)
        resolved[o] = (lo, hi)
    return fail, resolved


def _resolve(chain, n: int, cols: list, fails: list, real_rows: list,
             origins: _Origins) -> tuple[list, np.ndarray]:
    """Resolve thresholds in chain order (relative ones over the rows still alive, per origin
    unless ``pool: all``) into the funnel and a reject mask: bit k set when filter k rejects the
    row (the smallest unsigned type with a bit per filter)."""
    alive = np.ones(n, dtype=bool)
    codes = origins.array()
    mtype = next(t for t in (np.uint8, np.uint16, np.uint32, np.uint64)
                 if np.iinfo(t).bits >= len(chain))
    mask = np.zeros(n, dtype=mtype)
    funnel = []
    for k, (name, f) in enumerate(chain):
        by_origin_bounds = None
        if cols[k] is not None:
            s = np.frombuffer(cols[k], dtype=float) if n else np.zeros(0)
            fail, resolved = _relative_fail(name, f, s, alive, origins, real_rows)
            if list(resolved) == ["all"] or len(resolved) == 1:
                lo, hi = next(iter(resolved.values())) if resolved else (None, None)
            else:
                lo = hi = None  # one cut per origin: see resolved_by_origin
            if getattr(f.params, "pool", None) != "all":
                by_origin_bounds = {o: {"min": a, "max": b} for o, (a, b) in resolved.items()}
            cols[k] = None  # free the scores as soon as the threshold is known
        else:
            lo, hi = f.bounds()
            fail = np.frombuffer(fails[k], dtype=bool) if n else np.zeros(0, bool)
        fails[k] = None  # one filter's flags at a time
        removed = int((alive & fail).sum())
        seen = int(alive.sum())
        th = {**f.thresholds(), "resolved": {"min": lo, "max": hi}}
        if by_origin_bounds is not None:
            th["resolved_by_origin"] = by_origin_bounds
        by_origin = {}
        for i, o in enumerate(origins.names):
            here = alive & (codes == i)
            o_seen, o_removed = int(here.sum()), int((here & fail).sum())
            by_origin[o] = {"seen": o_seen, "kept": o_seen - o_removed, "removed": o_removed}
        funnel.append({"name": name, "type": f.name, "score": f.score_key,
                       "direction": f.direction_name(), "thresholds": th,
                       "seen": seen, "kept": seen - removed, "removed": removed,
                       "removed_share": round(removed / seen, 4) if seen else 0.0,
                       "by_origin": by_origin})
        alive &= ~fail
        mask[fail] |= mtype(1 << k)
    return funnel, mask


def _decide_pass(chain, tmp: Path, dst: Path, mask: np.ndarray, rare) -> dict:
    """Pass 2: write each row with ``accepted`` and ``rejected_by``; summarise the scores."""
    names = [name for name, _ in chain]
    scores = {k: {"all": _Summary(), "accepted": _Summary()} for k in SUMMARY_KEYS}
    with AtomicJsonl(dst) as out:
        for i, r in enumerate(read_jsonl(tmp)):
            m = int(mask[i])
            if rare is not None:  # depth: the first filter that rejects the row
                rare.add(r, (m & -m).bit_length() - 1 if m else len(chain))
            r["rejected_by"] = [nm for k, nm in enumerate(names) if m >> k & 1] if m else []
            r["accepted"] = not r["rejected_by"]
            for k, arrs in scores.items():
                v = r["scores"].get(k)
                if v is not None:
                    arrs["all"].append(v)
                    if r["accepted"]:
                        arrs["accepted"].append(v)
            out.write(r)
    return {k: {part: vals.as_dict() for part, vals in arrs.items()}
            for k, arrs in scores.items()}

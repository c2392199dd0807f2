"""Emit the training files: the flat ``train.jsonl`` and one file per curriculum stage.

A stage mixes real and synthetic rows at a ratio real:synthetic. Synthetic rows come best-first
by ``curriculum.sort_by`` (default ``quality``); real rows are never dropped: when there are too
few for the ratio, they are repeated (``upsample_real``; the n-th copy's id gets ``#n``) or, with
``upsample_real: false``, only the best synthetic rows are taken; when there is too little
synthetic text for the ratio, all of it is used and the stage is richer in real rows (its
``real_share`` in stats.json says so). Real and synthetic rows are
interleaved evenly, so a trainer reading the file in order sees the ratio all along.
``valid_synthetic`` holds out a seeded share of accepted synthetic rows (never in train) so a
trainer can compare its fit on synthetic and on real held-out text. It measures synthetic-only
generalisation: a row may be held out only when neither its source nor its target (compared as
``norm_key``) is the source or target of a real training row or of another accepted row, so no
row of any ``train*.jsonl`` shares a side with it (a paraphrase, whose real side is in train,
never qualifies). Memory: one offset, score and three hashes per accepted candidate; rows are
read back from disk by offset.
"""

from __future__ import annotations

import json
from array import array
from pathlib import Path

import numpy as np

from translate_synth.text import norm_key, stable_int

ORIGINS = ("bt", "ft", "paraphrase")


def project(r: dict, fields, tag_bt: bool) -> dict:
    out = {k: r[k] for k in fields if k in r}
    if tag_bt and out.get("origin") == "bt":
        out["source"] = "<BT> " + out["source"]
    return out


class Accepted:
    """Offsets, sort scores and origins of the accepted candidates, for random access."""

    def __init__(self, candidates: Path, sort_by: str, seed: int):
        self.path = candidates
        from translate_synth.filters import score_ranks

        rank = score_ranks()[sort_by]
        self.offsets, self.scores, self.hashes = array("q"), array("d"), array("Q")
        self.origins = array("b")
        self.side_keys = {"source": array("Q"), "target": array("Q")}
        with open(candidates, "rb") as fh:
            pos = 0
            for line in fh:
                if line.strip():
                    r = json.loads(line)
                    if r.get("accepted"):
                        v = r.get("scores", {}).get(sort_by)
                        self.offsets.append(pos)
                        self.scores.append(float("nan") if v is None else float(rank(v)))
                        self.hashes.append(stable_int(seed, "valid_synthetic", r["id"]))
                        self.origins.append(ORIGINS.index(r["origin"]))
                        for side, keys in self.side_keys.items():
                            keys.append(side_key(r[side]))
                pos += len(line)
        self._fh = None

    def __len__(self):
        return len(self.offsets)

    def row(self, i: int) -> dict:
        if self._fh is None:
            self._fh = open(self.path, "rb")
        self._fh.seek(self.offsets[i])
        return json.loads(self._fh.readline())

    def close(self):
        if self._fh:
            self._fh.close()

    def held_out(self, spec: float, cap: int | None = None, real_keys: dict | None = None
                 ) -> set[int]:
        """A seeded set of accepted rows for valid_synthetic: a fraction (< 1) of them, at most
        ``cap``, or a count (>= 1) as given; only rows that share no side with a real training
        row (``real_keys``: {side: array of ``side_key``}) or with another accepted row, so
        fewer when too few qualify."""
        n = len(self)
        k = min(n, min(round(n * spec), cap if cap is not None else n) if spec < 1 else int(spec))
        if k <= 0:
            return set()
        ok = np.ones(n, dtype=bool)
        for side, arr in self.side_keys.items():
            keys = np.frombuffer(arr, dtype=np.uint64)
            _, inv, cnt = np.unique(keys, return_inverse=True, return_counts=True)
            ok &= cnt[inv] == 1
            real = (real_keys or {}).get(side)
            if real is not None and len(real):
                ok &= ~np.isin(keys, real)
        h = np.frombuffer(self.hashes, dtype=np.uint64)
        order = np.argsort(h, kind="stable")
        return set(order[ok[order]][:k].tolist())

    def best_first(self, idx: np.ndarray) -> np.ndarray:
        """Indices by score, best first; rows without a score last; ties by input order."""
        s = np.frombuffer(self.scores, dtype=float)[idx]
        missing = np.isnan(s)
        return idx[np.lexsort((idx, -np.nan_to_num(s, nan=0.0), missing))]


def side_key(text: str) -> int:
    """The comparison key of one side of a row (``norm_key``, hashed)."""
    return stable_int(norm_key(text))


def real_side_keys(rows) -> dict:
    """{side: sorted uint64 array of ``side_key``} of real rows (for ``Accepted.held_out``)."""
    keys = {"source": array("Q"), "target": array("Q")}
    for r in rows:
        for side, arr in keys.items():
            arr.append(side_key(r[side]))
    return {side: np.unique(np.frombuffer(arr, dtype=np.uint64)) for side, arr in keys.items()}


def _interleave(n_a: int, n_b: int):
    """Yield 'a'/'b' n_a and n_b times, evenly spread (deterministic)."""
    i = j = 0
    while i < n_a or j < n_b:
        if j >= n_b or (i < n_a and (i + 0.5) / n_a <= (j + 0.5) / n_b):
            yield "a"
            i += 1
        else:
            yield "b"
            j += 1


def write_stage(stage, acc: Accepted, syn_idx: np.ndarray, real_path: Path, n_real_rows: int,
                out: Path, fields, tag_bt: bool, writer) -> dict:
    codes = np.frombuffer(acc.origins, dtype=np.int8)[syn_idx] if len(syn_idx) else \
        np.zeros(0, np.int8)
    want = np.isin(codes, [ORIGINS.index(o) for o in stage.origins])
    idx = syn_idx[want]
    if stage.order == "best_first":
        idx = acc.best_first(idx)
    R = n_real_rows
    if stage.synthetic == 0:
        n_real, idx = R, idx[:0]
    elif stage.real == 0 or R == 0:
        n_real = 0
    else:
        want_real = round(len(idx) * stage.real / stage.synthetic)
        if want_real <= R:  # too little synthetic for the ratio: all of it, and all real rows
            n_real = R
        elif stage.upsample_real:
            n_real = want_real
        else:  # no upsampling: all real rows and only the best synthetic ones
            n_real = R
            idx = idx[:round(R * stage.synthetic / stage.real)]
    counts: dict = {}

    def real_rows():
        copy = 0
        while True:
            copy += 1
            with open(real_path, encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        r = json.loads(line)
                        if copy > 1:
                            r["id"] = f"{r['id']}#{copy}"
                        yield r

    reals = real_rows() if n_real else iter(())
    syn = iter(idx)
    with writer(out / f"train.{stage.name}.jsonl") as w:
        for which in _interleave(n_real, len(idx)):
            r = next(reals) if which == "a" else acc.row(int(next(syn)))
            row = project(r, fields, tag_bt)
            if stage.weights:
                row["weight"] = stage.weights.get(row["origin"], 1.0)
            w.write(row)
            counts[row["origin"]] = counts.get(row["origin"], 0) + 1
    total = n_real + len(idx)
    return {"rows": total, "origins": counts,
            "real_share": round(n_real / total, 4) if total else None,
            "upsampled_real": n_real > R}

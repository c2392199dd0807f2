"""Read a finished run directory into the numbers a report shows (streamed, bounded memory)."""

from __future__ import annotations

import heapq
import json
from array import array
from pathlib import Path

from translate_synth.errors import UserError
from translate_synth.sampling import Reservoir

EXAMPLES = 3          # best / median / worst accepted rows shown
REJECTED_PER_FILTER = 3
LENGTH_SAMPLE = 20000  # rows per side kept for the length histograms (reservoir)


def _load(path: Path) -> dict | None:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise UserError(f"{path}: not valid JSON ({e.msg}); rerun `translate-synth run`") from None


EXAMPLE_SCORES = ("quality", "rt_chrf", "rt_bleu", "length_ratio", "copy", "langid_synthetic",
                  "logprob_fwd")


def _example(r: dict) -> dict:
    auth = r.get("authentic", "target")
    syn = "target" if auth == "source" else "source"
    sc = r.get("scores", {})
    return {"id": r["id"], "origin": r["origin"], "authentic": r[auth], "synthetic": r[syn],
            "roundtrip": r.get("roundtrip"), "rejected_by": r.get("rejected_by", []),
            "scores": {k: round(sc[k], 2) if isinstance(sc[k], float) else sc[k]
                       for k in EXAMPLE_SCORES if k in sc}}


class _CandidateScan:
    """What one pass over candidates.jsonl collects: score histograms (accepted, and rejected by
    the first filter that rejected them), counts per origin, synthetic lengths, the best and
    worst accepted rows and the first rejected ones per filter."""

    def __init__(self, seed: int):
        self.hist = {k: {"accepted": array("d"), "rejected": {}} for k in ("rt_bleu", "rt_chrf")}
        self.origins: dict[str, dict] = {}  # origin -> candidates, kept, removed_by {filter: n}
        self.lengths = {"real": Reservoir(LENGTH_SAMPLE, seed, array("d")),
                        "synthetic": Reservoir(LENGTH_SAMPLE, seed + 1, array("d"))}
        self.best, self.worst = [], []
        self.q_all, self.q_line = array("d"), array("q")
        self.rejected: dict[str, list] = {}
        self.n = 0

    def add(self, i: int, r: dict) -> None:
        """Row ``r``, read from line ``i`` of candidates.jsonl."""
        self.n += 1
        first = None if r.get("accepted") else (r.get("rejected_by") or ["?"])[0]
        o = self.origins.setdefault(r.get("origin", "?"), {"candidates": 0, "kept": 0,
                                                           "removed_by": {}})
        o["candidates"] += 1
        if first is None:
            o["kept"] += 1
        else:
            o["removed_by"][first] = o["removed_by"].get(first, 0) + 1
        for k, h in self.hist.items():
            v = r.get("scores", {}).get(k)
            if v is not None:
                if first is None:
                    h["accepted"].append(v)
                else:
                    h["rejected"].setdefault(first, array("d")).append(v)
        if r.get("accepted"):
            syn = "target" if r.get("authentic") == "source" else "source"
            self.lengths["synthetic"].add(len(r[syn]))
            q = r.get("scores", {}).get("quality", r.get("scores", {}).get("rt_chrf", 0.0))
            self.q_all.append(q)
            self.q_line.append(i)
            item = (q, -i, _example(r))
            heapq.heappush(self.best, item) if len(self.best) < EXAMPLES else \
                heapq.heappushpop(self.best, item)
            item = (-q, i, _example(r))
            heapq.heappush(self.worst, item) if len(self.worst) < EXAMPLES else \
                heapq.heappushpop(self.worst, item)
        else:
            bucket = self.rejected.setdefault(first, [])
            if len(bucket) < REJECTED_PER_FILTER:
                bucket.append(_example(r))


def _median_examples(cands: Path, q_all: array, q_line: array) -> list[dict]:
    """The accepted rows around the median quality, read again from candidates.jsonl."""
    median = []
    if q_all:
        import numpy as np

        order = np.argsort(np.frombuffer(q_all, dtype=float), kind="stable")
        mid = len(order) // 2
        want = {q_line[int(j)] for j in order[max(0, mid - 1): mid + 2]}
        with open(cands, encoding="utf-8") as fh:
            for i, line in enumerate(fh):
                if i in want:
                    median.append(_example(json.loads(line)))
    return median


def _add_real_lengths(train: Path, reservoir: Reservoir) -> None:
    """Both sides' lengths of the real pairs of train.jsonl, into ``reservoir``."""
    if train.exists():
        with open(train, encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                if r.get("origin") == "real":
                    reservoir.add(len(r["target"]))
                    reservoir.add(len(r["source"]))


def gather(run_dir: Path) -> dict:
    run_dir = Path(run_dir)
    stats = _load(run_dir / "stats.json")
    manifest = _load(run_dir / "manifest.json")
    if stats is None or manifest is None:
        raise UserError(f"{run_dir}: not a finished run (no stats.json/manifest.json); "
                        "give OUT/<lang> of a finished `translate-synth run`")
    scan = _CandidateScan(manifest.get("seed", 0))
    cands = run_dir / "candidates.jsonl"
    with open(cands, encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if line.strip():
                scan.add(i, json.loads(line))
    median = _median_examples(cands, scan.q_all, scan.q_line)
    _add_real_lengths(run_dir / "train.jsonl", scan.lengths["real"])
    hist, origins, lengths, best, worst = (scan.hist, scan.origins, scan.lengths, scan.best,
                                           scan.worst)
    return {
        "dir": str(run_dir), "lang": stats.get("lang") or run_dir.name,
        "source_lang": stats.get("source_lang"), "stats": stats, "manifest": manifest,
        "collapse": _load(run_dir / "collapse.json"),
        "calibration": {k: v for k, v in (_load(run_dir / "calibration.json") or {}).items()
                        if k != "real_rows"},
        "candidates": scan.n,
        "origins": {o: {**v, "removed_by": dict(sorted(v["removed_by"].items(),
                                                       key=lambda kv: (-kv[1], kv[0])))}
                    for o, v in sorted(origins.items())},
        "histograms": {k: {"accepted": list(parts["accepted"]),
                           "rejected": {f: list(v) for f, v in sorted(
                               parts["rejected"].items(), key=lambda kv: -len(kv[1]))}}
                       for k, parts in hist.items()},
        "lengths": {k: list(v.items) for k, v in lengths.items()},
        "examples": {"best": [e for *_, e in sorted(best, key=lambda t: (-t[0], -t[1]))],
                     "median": median,
                     "worst": [e for *_, e in sorted(worst, key=lambda t: (-t[0], t[1]))]},
        "rejected_examples": scan.rejected,
    }


def quality_warnings(g: dict) -> list[str]:
    """The quality warnings of stats.json and calibration.json, each once, in order."""
    out: list[str] = []
    for w in [*((g["stats"].get("quality") or {}).get("warnings") or []),
              *((g.get("calibration") or {}).get("warnings") or [])]:
        if w not in out:
            out.append(w)
    return out


def summary_row(g: dict) -> dict:
    st = g["stats"]
    emitted = st.get("emitted", {})
    train = emitted.get("train", {})
    syn = sum(v for k, v in train.items() if k != "real")
    funnel = st.get("filters", [])
    seen = funnel[0]["seen"] if funnel else 0
    kept = funnel[-1]["kept"] if funnel else 0  # what the filters kept, as the run's funnel
    sc = st.get("scores", {})
    return {"label": g.get("label", g["lang"]), "lang": g["lang"], "dir": g["dir"],
            "real_train": train.get("real", 0),
            "valid": sum(emitted.get("valid", {}).values()),
            "test": sum(emitted.get("test", {}).values()),
            "candidates": seen, "kept": kept, "synthetic_kept": syn,
            "valid_synthetic": sum((emitted.get("valid_synthetic") or {}).values()),
            "acceptance": round(kept / seen, 4) if seen else None,
            "rt_bleu_mean": (sc.get("rt_bleu", {}).get("accepted") or {}).get("mean"),
            "rt_chrf_mean": (sc.get("rt_chrf", {}).get("accepted") or {}).get("mean"),
            "quality_mean": (sc.get("quality", {}).get("accepted") or {}).get("mean"),
            "alarms": len((g.get("collapse") or {}).get("alarms", [])),
            "quality_warnings": len(quality_warnings(g))}

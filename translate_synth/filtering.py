"""The filter stage: score every candidate with every filter, decide, count the funnel.

Reads scored candidates, writes ``candidates.jsonl`` with ``scores``, ``accepted`` and
``rejected_by`` (every filter that rejects the row, in chain order). The funnel counts each row
as removed by the first filter that rejects it.
"""

from __future__ import annotations

import statistics
from array import array
from itertools import islice
from pathlib import Path

from translate_synth.emit import AtomicJsonl, read_jsonl
from translate_synth.filters import build_filters


def _summary(values) -> dict:
    if not values:
        return {"n": 0, "mean": None, "median": None}
    return {"n": len(values), "mean": round(statistics.fmean(values), 4),
            "median": round(statistics.median(values), 4)}


def apply_filters(specs: list[dict], src: Path, dst: Path, context: dict) -> tuple[list, dict]:
    """(funnel, score summary); ``context`` carries held-out keys and the real pairs' hashes."""
    chain = build_filters(specs, context)
    funnel = [{"name": n, "type": f.name, "direction": "higher" if f.higher_is_better
               else "lower", "thresholds": f.thresholds(), "seen": 0, "kept": 0, "removed": 0}
              for n, f in chain]
    scores = {k: {"all": array("d"), "accepted": array("d")} for k in ("rt_bleu", "rt_chrf")}
    raw = read_jsonl(src)
    with AtomicJsonl(dst) as out:
        while rows := list(islice(raw, 2000)):
            for _, f in chain:
                for r, v in zip(rows, f.score(rows)):
                    if v is not None:
                        r["scores"][f.score_key] = v
            for r in rows:
                r["rejected_by"] = [n for n, f in chain
                                    if not f.accept(r["scores"].get(f.score_key))]
                r["accepted"] = not r["rejected_by"]
                first = r["rejected_by"][0] if r["rejected_by"] else None
                for step in funnel:
                    step["seen"] += 1
                    if step["name"] == first:
                        step["removed"] += 1
                        break
                    step["kept"] += 1
                for k, arrs in scores.items():
                    arrs["all"].append(r["scores"][k])
                    if r["accepted"]:
                        arrs["accepted"].append(r["scores"][k])
                out.write(r)
    for step in funnel:
        step["removed_share"] = round(step["removed"] / step["seen"], 4) if step["seen"] else 0.0
    score_stats = {k: {part: _summary(vals) for part, vals in arrs.items()}
                   for k, arrs in scores.items()}
    return funnel, score_stats


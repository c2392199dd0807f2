#!/usr/bin/env python3
"""Rows/s of the same run on the local executor and on Ray started locally (2 CPUs).

On a 2-core machine Ray cannot be faster: the figure is its overhead (start-up, actors each
loading the model, serialisation). Uses the real bergamot model on the shipped demo data.

    python scripts/bench_ray.py [--limit 300]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=300)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-ray."))
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "HF_HUB_OFFLINE": "1"}
    res = {}
    for ex in ("local", "ray"):
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-m", "translate_synth", "run", "--lang", "pt",
                            "--limit", str(a.limit), "--out", str(tmp / ex), "--executor", ex,
                            "--no-cache", "--no-report", "--quiet", "--set", "executor.actors=2",
                            "--set", "executor.cpus_per_actor=0.5"],
                           capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            print(p.stderr[-1500:])
            return 1
        st = json.loads((tmp / ex / "pt" / "stats.json").read_text())
        res[ex] = (st["filters"][0]["seen"], wall)
    print(f"\nexecutors on {os.cpu_count()} cores, `run --lang pt --limit {a.limit}` (bergamot)")
    print(f"{'executor':<10} {'rows':>6} {'wall s':>8} {'rows/s':>8}")
    for ex, (rows, wall) in res.items():
        print(f"{ex:<10} {rows:>6} {wall:>8.1f} {rows / wall:>8.1f}")
    print(f"ray / local throughput: {res['local'][1] / res['ray'][1]:.2f}x (overhead on one "
          "small machine; the gain comes with more machines)")
    driver_rate(tmp / "ray" / "pt" / "candidates.jsonl", tmp)
    return 0


def driver_rate(candidates: Path, tmp: Path, n: int = 100_000) -> None:
    """What bounds a cluster: the driver's part of the filter stage, rows/s, with the stateless
    filters' scores computed elsewhere (Ray) vs all computed on the driver (local)."""
    from translate_synth.config import build_config
    from translate_synth.filtering import apply_filters
    from translate_synth.filters import FilterContext, build_filters

    rows = [json.loads(line) for line in candidates.read_text(encoding="utf-8").splitlines()]
    big = tmp / "candidates.big.jsonl"
    with open(big, "w", encoding="utf-8") as fh:
        for i in range(n):
            r = dict(rows[i % len(rows)], id=f"x-{i}")
            side = "target" if r["authentic"] == "source" else "source"
            r[side] = f"{r[side]} {i}"  # distinct rows: the duplicate filter does real work
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    cfg = build_config({"lang": "pt", "model": {"backend": "bergamot"}})
    pre = frozenset(f.score_key for _, f in build_filters(cfg.filters) if f.stateless)
    rates = {}
    for name, extra in (("local (driver scores all filters)", {}),
                        ("ray (stateless scores from tasks)", {"prescored": pre})):
        ctx = FilterContext(langs={"source": "en", "target": "pt"})
        t0 = time.perf_counter()
        apply_filters(cfg.filters, big, tmp / "filtered.jsonl", ctx, **extra)
        rates[name] = n / (time.perf_counter() - t0)
    print(f"\ndriver filter stage over {n:,} candidate rows")
    for name, r in rates.items():
        print(f"{name:<36} {r:>8.0f} rows/s")


if __name__ == "__main__":
    sys.exit(main())

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
                            "--no-cache", "--no-report", "--quiet", "--set", "executor.actors=2"],
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
    return 0


if __name__ == "__main__":
    sys.exit(main())

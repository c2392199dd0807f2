#!/usr/bin/env python3
"""Kill a run at N random moments, resume it each time, and check nothing was lost or changed.

    python scripts/check_resume.py [-n 5] [--seed 0] [-- run arguments...]

Default run: the README's offline demo (`run --lang pt`) with small chunks. First an uninterrupted
reference run; then, for each trial, the same run is started in a fresh output directory and
SIGKILLed after a random delay (0 .. the reference's wall time), possibly several times, and finally
run to the end. The outputs (train/valid/test/candidates) must be byte-identical to the
reference's, with no candidate id lost or duplicated. Prints a table; exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUTPUTS = ("train.jsonl", "valid.jsonl", "test.jsonl", "candidates.jsonl")
DEFAULT = ["run", "--lang", "pt", "--limit", "200", "--set", "synthesis.chunk_size=16"]


def start(args, out: Path) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    return subprocess.Popen([sys.executable, "-m", "translate_synth", *args, "--out", str(out)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def digests(d: Path) -> dict[str, str]:
    return {f: hashlib.sha256((d / f).read_bytes()).hexdigest()[:16] for f in OUTPUTS}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=5, help="trials (random kill points)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--kills", type=int, default=2, help="kills per trial before the final run")
    ap.add_argument("run_args", nargs="*", help="arguments after `--` (default: the pt demo)")
    a = ap.parse_args()
    args = a.run_args or DEFAULT
    rng = random.Random(a.seed)
    root = Path(tempfile.mkdtemp(prefix="check_resume."))
    lang = args[args.index("--lang") + 1] if "--lang" in args else None

    t0 = time.perf_counter()
    p = start(args, root / "reference")
    _, err = p.communicate()
    ref_time = time.perf_counter() - t0
    if p.returncode != 0:
        print(f"reference run failed: {err.strip().splitlines()[-1:]}")
        return 1
    ref_dir = next((root / "reference").iterdir()) if lang is None else root / "reference" / lang
    ref = digests(ref_dir)
    ref_ids = sorted(json.loads(x)["id"] for x in open(ref_dir / "candidates.jsonl"))
    print(f"reference run: {ref_time:.1f} s, {len(ref_ids)} candidates")
    print(f"{'trial':>5}  {'kills at (s)':<24} {'resumed':<8} {'identical':<9}")
    bad = 0
    for trial in range(1, a.n + 1):
        out = root / f"trial{trial}"
        kills = []
        for _ in range(a.kills):
            delay = rng.uniform(0.5, ref_time)
            p = start(args, out)
            try:
                p.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                p.send_signal(signal.SIGKILL)
                p.wait()
                kills.append(f"{delay:.1f}")
        p = start(args, out)
        _, err = p.communicate()
        resumed = "resuming:" in (err or "")
        d = out / ref_dir.name
        same = p.returncode == 0 and digests(d) == ref
        ids = sorted(json.loads(x)["id"] for x in open(d / "candidates.jsonl")) if same else []
        same = same and ids == ref_ids
        bad += not same
        print(f"{trial:>5}  {','.join(kills) or '-':<24} {str(resumed):<8} {str(same):<9}")
    print(f"{a.n - bad}/{a.n} trials identical to the uninterrupted run ({root})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

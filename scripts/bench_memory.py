#!/usr/bin/env python3
"""Peak memory of a run over 100k vs 1M input lines: streaming must keep the ratio <= 1.3.

Each size runs in its own process (peak RSS from the kernel) with a trivial stand-in translator
defined here (reverses the words: no model, so only the tool's own memory is measured) and the
full pipeline otherwise: dedup, split, synthesis in chunks, scoring, filters, curriculum, collapse.

    python scripts/bench_memory.py [--quick]      # --quick: 20k vs 200k lines
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r'''
import json, resource, sys, time
from pathlib import Path
import translate_synth.backends as backends
import translate_synth.pipeline as pipeline
from translate_synth import progress
from translate_synth.backends import Translator
from translate_synth.config import build_config

class Reverse(Translator):
    name = "reverse"
    def translate(self, texts, src, tgt, decoding, n=1, seed=0):
        self.sentences_translated += len(texts)
        return [[" ".join(t.split()[::-1])] * n for t in texts]
    def describe(self):
        return {"backend": "reverse"}

pipeline.make_translator = lambda cfg, use_cache=None: Reverse()
mono, par, out = sys.argv[1], sys.argv[2], sys.argv[3]
cfg = build_config({"lang": "pt", "model": {"backend": "transformers", "id": "stand-in"},
                    "data": {"target_mono": [mono], "parallel": [par]},
                    "synthesis": {"chunk_size": 1024, "paraphrase": {"enabled": False}},
                    "quality": {"calibrate": False}, "split": {"valid": 500, "test": 500},
                    "cache": {"enabled": False}})
t0 = time.perf_counter()
with progress.silenced():
    res = pipeline.run(cfg, Path(out))
print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "seconds": round(time.perf_counter() - t0, 1),
                  "candidates": res.stats["filters"][0]["seen"]}))
'''


def corpus(path: Path, n: int, seed: int) -> None:
    words = ("casa rio sol lua mar terra vento fogo pedra livro porta janela caminho tempo "
             "noite dia gente cidade campo luz água pão vida mundo").split()
    import random
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            k = rng.randint(5, 16)
            fh.write(" ".join(rng.choice(words) for _ in range(k)) + f" {i}.\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    sizes = (20_000, 200_000) if a.quick else (100_000, 1_000_000)
    tmp = Path(tempfile.mkdtemp(prefix="bench-memory."))
    par = tmp / "par.tsv"
    with open(par, "w", encoding="utf-8") as fh:  # a small real-like parallel set
        for i in range(3000):
            fh.write(f"sentence number {i} of the parallel set.\tfrase número {i} do conjunto.\n")
    results = {}
    for n in sizes:
        mono = tmp / f"mono{n}.txt"
        corpus(mono, n, seed=n)
        p = subprocess.run([sys.executable, "-c", CHILD, str(mono), str(par), str(tmp / f"o{n}")],
                           capture_output=True, text=True)
        if p.returncode != 0:
            print(p.stderr[-2000:])
            return 1
        results[n] = json.loads(p.stdout.strip().splitlines()[-1])
    print(f"\nmemory: a full run with a stand-in translator, {os.cpu_count()} cores")
    print(f"{'input lines':>12} {'candidates':>11} {'peak RSS MB':>12} {'seconds':>8}")
    for n, r in results.items():
        print(f"{n:>12,} {r['candidates']:>11,} {r['rss_mb']:>12.0f} {r['seconds']:>8}")
    small, big = (results[s]["rss_mb"] for s in sizes)
    print(f"ratio {big / small:.2f} for {sizes[1] // sizes[0]}x the input (target <= 1.3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

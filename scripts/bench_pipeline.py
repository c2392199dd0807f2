#!/usr/bin/env python3
"""Where a run's time goes: wall time by stage, the share spent in model calls, scoring speed.

Runs the offline demo (real bergamot model) with every model call timed, then measures
round-trip scoring (sacrebleu BLEU + chrF) on 1 process vs the process pool.
Targets: everything except model calls <= 10 % of the run; scoring >= 5,000 rows/s on 2 cores.

    python scripts/bench_pipeline.py [--limit 400]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=None, help="lines per input (default: all)")
    a = ap.parse_args()
    import translate_synth.backends as backends
    import translate_synth.pipeline as pipeline
    from translate_synth import progress
    from translate_synth.config import find_lang_config, load_config
    from translate_synth.score import RoundTripScorer

    model_time = [0.0]
    real_make = backends.make_translator

    def timed_translator(cfg, use_cache=None):
        tr = real_make(cfg, use_cache=False)
        for name in ("translate", "logprob"):
            fn = getattr(tr, name)

            def wrapped(*args, _fn=fn, **kw):
                t0 = time.perf_counter()
                try:
                    return _fn(*args, **kw)
                finally:
                    model_time[0] += time.perf_counter() - t0
            setattr(tr, name, wrapped)
        return tr
    pipeline.make_translator = timed_translator
    overrides = [f"data.limit={a.limit}"] if a.limit else []
    cfg = load_config(find_lang_config("pt"), overrides)
    out = Path(tempfile.mkdtemp(prefix="bench-pipeline."))
    t0 = time.perf_counter()
    with progress.silenced():
        res = pipeline.run(cfg, out)
    wall = time.perf_counter() - t0
    T = res.stats["timings_s"]
    print(f"\npipeline: `run --lang pt`{' --limit ' + str(a.limit) if a.limit else ''} "
          f"(bergamot, {os.cpu_count()} cores), {res.stats['filters'][0]['seen']} candidates")
    print(f"{'stage':<14} {'seconds':>8} {'share':>7}")
    for k, v in T.items():
        if k != "total":
            print(f"{k:<14} {v:8.2f} {100 * v / wall:6.1f}%")
    print(f"{'wall':<14} {wall:8.2f}")
    other = wall - model_time[0]
    print(f"\nmodel calls {model_time[0]:.2f} s; everything else {other:.2f} s = "
          f"{100 * other / wall:.1f}% of the run (target <= 10%)")

    lines = (REPO / "translate_synth" / "data" / "web.en.txt").read_text().splitlines()
    hyps, refs = (lines * 4)[:4000], (lines[1:] * 4)[:4000]
    rates = {}
    for workers in (1, 2):
        sc = RoundTripScorer(cfg.scoring, workers=workers)
        sc.score_many(hyps[:300], refs[:300])  # start the pool outside the timing
        t0 = time.perf_counter()
        sc.score_many(hyps, refs)
        rates[workers] = len(hyps) / (time.perf_counter() - t0)
        sc.close()
    print(f"scoring BLEU+chrF: 1 process {rates[1]:.0f} rows/s, pool of 2 {rates[2]:.0f} rows/s "
          f"({rates[2] / rates[1]:.2f}x; target >= 5,000 rows/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

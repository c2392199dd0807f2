"""The downstream study's GPU step, part 1: train and evaluate the conditions and the
stage-budget comparison from the prepared directory only (``eval/downstream.py train-eval``).

Every model: ``train``'s ``train_model`` on a prepared condition directory (``--model
scratch``, the one prepared sentencepiece vocabulary, the grid's ``train.*``), then ``ablate``'s
evaluation (``score_model``: the run's decoding rule, BLEU/chrF/chrF++ with signatures,
rare-word recall against the real training text) on the OTHER-BOOK and the OWN-BOOK test.
Resumable per model (``train.json`` + ``scores.json`` kept; a checkpoint resumes).

Stage budget (``train.stage_budget``: how ``--max-steps`` is shared between curriculum stages):
``rows`` (the default: in proportion to the stages' rows), ``equal``, ``stale`` (each stage
until its real valid stops improving, capped by the budget). Where the installed
``TrainConfig`` has no ``stage_budget`` (the option not merged), ``equal`` is given as
``train.stage_steps`` (the first stage takes steps / stages) and ``stale`` is skipped; the
result says which.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

TESTS = ("other", "own")


def log_line(m: str) -> None:
    print(f"[downstream] {m}", file=sys.stderr, flush=True)


def init_worker(threads: int) -> None:
    """A pool worker: torch on ``threads`` threads."""
    import torch

    torch.set_num_threads(max(1, threads))


def policy_sets(policy: str) -> list[str]:
    """The ``train.*`` settings of one stage-budget policy (``rows``: the default)."""
    return [] if policy == "rows" else [f"train.stage_budget={policy}"]


def read_tsv(path: Path) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            e, p = line.split("\t")
            rows.append((e, p))
    return rows


def seeds_at(grid: dict, steps: int) -> list[int]:
    """The budget comparison's seeds: the main grid's at its own steps, else budget_seeds;
    then ``more_seeds`` (a later run's extra seeds for real and ``more_policies``)."""
    base = grid["seeds"] if steps == grid["steps"] else grid["budget_seeds"]
    return [*base, *[s for s in grid.get("more_seeds", []) if s not in base]]


def plan(grid: dict) -> list[dict]:
    """Every model of the grid once: (condition, policy, steps, seed)."""
    jobs, seen = [], set()

    def add(cond, policy, steps, seed):
        key = (cond, policy if cond in ("hybrid", "unfiltered") else "rows", steps, seed)
        if key not in seen:
            seen.add(key)
            jobs.append(dict(zip(("condition", "policy", "steps", "seed"), key)))
    for seed in grid["seeds"]:
        for cond in grid["conditions"]:
            add(cond, "rows", grid["steps"], seed)
    more = grid.get("more_seeds", [])
    for steps in grid["budgets"]:
        for seed in seeds_at(grid, steps):
            add("real", "rows", steps, seed)
            for policy in (grid.get("more_policies", ["rows", "equal"]) if seed in more
                           and seed not in grid["budget_seeds"] + grid["seeds"]
                           else grid["policies"]):
                add("hybrid", policy, steps, seed)
    return jobs


def name_of(j: dict) -> str:
    return f"{j['condition']}-{j['policy']}-{j['steps']}-seed{j['seed']}"


def _context(data: Path) -> dict:
    from translate_synth.rarewords import train_counts
    from translate_synth.train.data import load_run

    real = load_run(data / "data" / "hybrid", [])
    return {"tests": {t: ("en", "pt", read_tsv(data / "tests" / f"{t}.tsv")) for t in TESTS},
            "counts": train_counts(real.real_target_texts),
            "rare_k": real.cfg.train.rare_k or real.cfg.collapse.rare_k,
            "manifest": json.loads((data / "data" / "hybrid" / "manifest.json").read_text(
                "utf-8"))}


_CTX: dict = {}


def one_model(data: Path, res: Path, grid: dict, j: dict, log=log_line) -> dict:
    """Train (or keep) and evaluate one model of the grid; its record."""
    from translate_synth import progress
    from translate_synth.ablate import model_curve, score_model
    from translate_synth.ablate_stats import curve_state
    from translate_synth.train.trainer import train_model

    if str(data) not in _CTX:
        _CTX[str(data)] = _context(data)
    ctx = _CTX[str(data)]
    name = name_of(j)
    d = data / "data" / j["condition"]
    extra = policy_sets(j["policy"])
    sets = [*grid["train_sets"], f"train.max_steps={j['steps']}",
            f"train.eval_every={max(1, j['steps'] // grid['evals'])}",
            f"train.seed={j['seed']}", f"train.device={grid['device']}", *extra]
    mdir, edir = res / "models" / name, res / "evals" / name
    t0 = time.perf_counter()
    if (mdir / "train.json").is_file():
        summary = json.loads((mdir / "train.json").read_text(encoding="utf-8"))
    else:
        log(f"train-eval: {name}: training")
        with progress.silenced():  # the pool's workers: one line per model, not the trainer's
            summary = train_model(d, "scratch", mdir, sets,
                                  resume=(mdir / "checkpoints" / "LATEST").is_file(),
                                  scratch_vocab=data / "vocab" / "spm.model")
    scores = score_model(ctx["manifest"], mdir, edir, ctx["tests"], ctx["counts"], ctx["rare_k"],
                       grid["device"])
    curve = model_curve(mdir)
    state, rise = curve_state(curve, summary["steps"], summary["stopped"])
    log(f"train-eval: {name}: other-book chrF {scores['sets']['other']['chrf']:.1f}, "
        f"own-book {scores['sets']['own']['chrf']:.1f} ({time.perf_counter() - t0:.0f} s)")
    return {**j, "name": name, "sets": sets, "eval_dir": str(edir),
            "steps_taken": summary["steps"], "stopped": summary["stopped"],
            "stages": [{k: s.get(k) for k in ("name", "rows", "steps_planned", "steps",
                                              "epochs", "stopped_early")}
                       for s in summary.get("stages") or []],
            "seconds": summary["timings"]["seconds"], "curve": curve, "curve_state": state,
            "late_rise": rise, "scores": scores["sets"], "signatures": scores["signatures"]}


def run_models(data: Path, res: Path, grid: dict, log, pool=None) -> list[dict]:
    """Every model of ``plan(grid)``, in order, in this process or on ``pool``'s workers."""
    jobs = plan(grid)
    log(f"train-eval: {len(jobs)} models; train sets {grid['train_sets']}")
    if pool is None:
        got = [one_model(data, res, grid, j, log) for j in jobs]
    else:
        # longest first (two workers finish together), results in plan order
        order = sorted(range(len(jobs)), key=lambda i: -jobs[i]["steps"])
        futs = {i: pool.submit(one_model, data, res, grid, jobs[i]) for i in order}
        got = [futs[i].result() for i in range(len(jobs))]
    return got


def compare(models: list[dict], data: Path, a: dict, b: dict, seeds: list[int],
            metrics_args: dict) -> dict | None:
    """A minus B (model filters a, b: condition/policy/steps) paired by seed, on both tests:
    ``ablate_stats.paired_difference`` (sacrebleu's paired bootstrap; across seeds, the
    two-level bootstrap)."""
    from translate_synth.ablate_stats import paired_difference, sentence_stats
    from translate_synth.evaluate import read_lines
    from translate_synth.metrics import make_metrics

    def pick(f, s):
        return next((m for m in models if m["seed"] == s and
                     all(m[k] == v for k, v in f.items())), None)
    pairs = [(pick(a, s), pick(b, s)) for s in seeds]
    pairs = [(x, y) for x, y in pairs if x and y]
    if not pairs:
        return None
    metrics = make_metrics(metrics_args)
    out = {}
    for t in TESTS:
        refs = [p for _, p in read_tsv(data / "tests" / f"{t}.tsv")]
        out[t] = {}
        for mname in ("chrf", "bleu"):
            sa = [sentence_stats(metrics[mname], read_lines(Path(x["eval_dir"]) /
                                                             f"{t}.hyp.txt"), refs)
                  for x, _ in pairs]
            sb = [sentence_stats(metrics[mname], read_lines(Path(y["eval_dir"]) /
                                                             f"{t}.hyp.txt"), refs)
                  for _, y in pairs]
            d = paired_difference(metrics[mname], sa, sb)
            out[t][mname] = {k: d[k] for k in ("difference", "ci95", "p_value", "seeds",
                                               "rows")}
            out[t][mname]["a"] = round(sum(x["scores"][t][mname] for x, _ in pairs)
                                       / len(pairs), 2)
            out[t][mname]["b"] = round(sum(y["scores"][t][mname] for _, y in pairs)
                                       / len(pairs), 2)
    return out


def comparisons(models: list[dict], data: Path, grid: dict) -> dict:
    from translate_synth.metrics import corpus_metric_args
    from translate_synth.train.data import load_run

    args = corpus_metric_args(load_run(data / "data" / "hybrid", []).cfg.scoring)
    S = grid["steps"]
    out = {"conditions": {}, "budget": {}}
    for a, b in (("hybrid", "real"), ("hybrid", "unfiltered"), ("synthetic", "real")):
        out["conditions"][f"{a} - {b}"] = compare(
            models, data, {"condition": a, "policy": "rows", "steps": S},
            {"condition": b, "policy": "rows", "steps": S}, grid["seeds"], args)
    for steps in grid["budgets"]:
        for p in grid["policies"]:
            ref = [("rows", {"condition": "hybrid", "policy": "rows", "steps": steps})] \
                if p != "rows" else []
            ref.append(("real", {"condition": "real", "policy": "rows", "steps": steps}))
            for rname, rf in ref:
                out["budget"][f"{steps}: hybrid/{p} - {rname}"] = compare(
                    models, data, {"condition": "hybrid", "policy": p, "steps": steps}, rf,
                    seeds_at(grid, steps), args)
    return out

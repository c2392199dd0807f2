"""Measure the divergence alarm of ``translate-synth train`` (``train/watch.py``): how often it
fires on normal runs (false alarms), how often and how soon on runs with a planted divergence,
and how often it cannot judge. Next to it, the two-point rule it replaced (synthetic corpus chrF
+2.0 since 3 evaluations ago while the best real chrF rose by less than 0.5), read off the same
curves.

Runs (tests/tiny_models.py's toy English/Swahili grammar, a different draw per seed): 300 real
training pairs, 300 synthetic (back-translated) ones, a real valid set and a synthetic valid set
of ``--valid`` rows each (above ``train.divergence.min_rows``), stages mixed then real; a tiny
from-scratch model (d_model 64, one layer each side), ``--steps`` steps, evaluated every 10.
- normal: everything as above; the synthetic valid set and the real one come from the same
  grammar, so nothing diverges.
- planted: the same, but the real valid targets are written in ROT13: the model fits the
  synthetic set, and nothing it learns helps it on the real one (a real set it cannot use).
  The divergence is there from the start; the delay counts evaluations from the first one the
  alarm can judge (the window full: evaluation ``window``, 0-based) to its first alarm.
- demo-sized: normal runs with ``--demo-valid`` (30) rows per valid set, as the demo's sets of
  8-47 rows: the alarm must say it cannot judge.

    nice -n 10 env OMP_NUM_THREADS=1 python eval/divergence.py          # ~10 CPU minutes
    python eval/divergence.py --seeds 2 --steps 60                       # a quick look

Writes eval/divergence.json (every run's curves, verdicts, alarms) and eval/divergence.md, and
``--record FILE``: per-row sentence chrF of the first normal and the first planted run (the
recorded curves ``tests/test_train.py`` replays).
"""

from __future__ import annotations

import argparse
import codecs
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "eval"))

from rates import wilson  # noqa: E402

TINY = ["train.scratch.d_model=64", "train.scratch.layers=1", "train.scratch.heads=2",
        "train.scratch.ffn_dim=128", "train.scratch.dropout=0.1", "train.max_tokens=600",
        "train.eval_max_new_tokens=20", "train.lr=0.01", "train.warmup_steps=10",
        "train.patience=0", "train.eval_every=10"]


def _write(p: Path, rows):
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                 encoding="utf-8")


def make_run(d: Path, seed: int, n_valid: int, cipher: bool, n_real=300, n_syn=300) -> Path:
    """A finished run directory (README, Output format) of toy pairs drawn with ``seed``."""
    import tiny_models
    from translate_synth.config import build_config

    d.mkdir(parents=True, exist_ok=True)
    want = n_real + n_syn + 2 * n_valid
    pairs = list(dict.fromkeys(tiny_models.toy_parallel(3 * want, seed=1000 + seed)))[:want]
    if len(pairs) < want:
        raise SystemExit(f"seed {seed}: only {len(pairs)} distinct toy pairs; ask fewer rows")
    row = lambda p, i, pre, o: {"id": f"{pre}{i}", "source": p[0], "target": p[1],  # noqa
                                "origin": o, **({"authentic": "target"} if o == "bt" else {})}
    real = [row(p, i, "r", "real") for i, p in enumerate(pairs[:n_real])]
    syn = [row(p, i, "b", "bt") for i, p in enumerate(pairs[n_real:n_real + n_syn])]
    k = n_real + n_syn
    valid = [row(p, i, "v", "real") for i, p in enumerate(pairs[k:k + n_valid])]
    if cipher:
        for v in valid:
            v["target"] = codecs.encode(v["target"], "rot13")
    vsyn = [row(p, i, "w", "bt") for i, p in enumerate(pairs[k + n_valid:k + 2 * n_valid])]
    _write(d / "train.jsonl", real + syn)
    _write(d / "train.mixed.jsonl", [x for ab in zip(real, syn) for x in ab])
    _write(d / "train.real.jsonl", real)
    _write(d / "valid.jsonl", valid)
    _write(d / "test.jsonl", valid)
    _write(d / "valid_synthetic.jsonl", vsyn)
    conf = build_config({"lang": "sw", "seed": seed}).model_dump(mode="json")
    (d / "manifest.json").write_text(json.dumps({"version": "0.1.0", "lang": "sw",
                                                 "source_lang": "en", "seed": seed,
                                                 "config": conf}))
    return d


def old_rule(evals: list[dict], delta=2.0, window=3, real_delta=0.5) -> list[int]:
    """Evaluation indices at which the replaced two-point rule fired."""
    fired, best = [], []
    for e in evals:
        best.append(max(best[-1] if best else -1e9, e["real"]["chrf"]))
    for i in range(window, len(evals)):
        syn = evals[i]["synthetic"]["chrf"] - evals[i - window]["synthetic"]["chrf"]
        if syn >= delta and best[i] - best[i - window] < real_delta:
            fired.append(i)
    return fired


def one_run(tmp: Path, kind: str, seed: int, n_valid: int, steps: int, record: list) -> dict:
    from translate_synth import progress
    from translate_synth.train import watch as watch_mod
    from translate_synth.train.trainer import train_model

    run = make_run(tmp / f"{kind}-{seed}-{n_valid}-run", seed, n_valid, cipher=kind == "planted")
    rows_seen: list = []
    orig = watch_mod.Watch.update

    def update(self, step, stage, real, synthetic, rows=None):
        rows_seen.append({"step": step, "rows": rows})
        return orig(self, step, stage, real, synthetic, rows)

    watch_mod.Watch.update = update
    t0 = time.perf_counter()
    try:
        sets = TINY + [f"train.eval_max_rows={n_valid}", f"train.seed={seed}"]
        with progress.silenced():
            got = train_model(run, "scratch", tmp / f"{kind}-{seed}-{n_valid}-model",
                              [(s, f"--set {s}") for s in sets] + [
                                  (f"train.max_steps={steps}", f"--max-steps {steps}")])
    finally:
        watch_mod.Watch.update = orig
    secs = time.perf_counter() - t0
    log = [json.loads(x) for x in (tmp / f"{kind}-{seed}-{n_valid}-model" / "train_log.jsonl")
           .read_text().splitlines()]
    evals = [e for e in log if e["kind"] == "eval"]
    verdicts = [e.get("divergence") for e in evals]
    alarm_idx = [i for i, e in enumerate(evals) if e["alarm"]]
    window = got["divergence"]["window"]
    record.append({"kind": kind, "seed": seed, "evals": rows_seen})
    return {"kind": kind, "seed": seed, "valid_rows": n_valid, "seconds": round(secs, 1),
            "steps": got["steps"], "divergence": got["divergence"], "verdicts": verdicts,
            "alarm_evals": alarm_idx, "alarm_steps": [evals[i]["step"] for i in alarm_idx],
            "delay": (alarm_idx[0] - window) if alarm_idx else None,
            "old_rule_evals": old_rule(evals),
            "curves": [{"step": e["step"], "real_chrf": e["real"]["chrf"],
                        "synthetic_chrf": e["synthetic"]["chrf"],
                        "real_sentence_chrf": e["real"].get("sentence_chrf"),
                        "synthetic_sentence_chrf": e["synthetic"].get("sentence_chrf")}
                       for e in evals],
            "alarms": got["alarms"]}



def summarise(runs: list[dict]) -> dict:
    out = {}
    for kind in ("normal", "planted", "demo"):
        rs = [r for r in runs if r["kind"] == kind]
        if not rs:
            continue
        fired = sum(bool(r["alarm_evals"]) for r in rs)
        old = sum(bool(r["old_rule_evals"]) for r in rs)
        judged = sum(r["divergence"]["judged"] for r in rs)
        abst = sum(r["divergence"]["abstained"] for r in rs)
        delays = [r["delay"] for r in rs if r["delay"] is not None]
        old_delays = [r["old_rule_evals"][0] - r["divergence"]["window"] for r in rs
                      if r["old_rule_evals"]]
        out[kind] = {
            "runs": len(rs), "valid_rows": rs[0]["valid_rows"],
            "runs_with_alarm": fired, "rate": round(fired / len(rs), 3),
            "rate_ci95": wilson(fired, len(rs)),
            "evaluations_judged": judged, "evaluations_abstained": abst,
            "abstention_rate": round(abst / (judged + abst), 3) if judged + abst else None,
            "delay_evals": sorted(delays),
            "delay_median": sorted(delays)[len(delays) // 2] if delays else None,
            "old_rule": {"runs_with_alarm": old, "rate": round(old / len(rs), 3),
                         "rate_ci95": wilson(old, len(rs)), "delay_evals": sorted(old_delays)},
            "seconds": round(sum(r["seconds"] for r in rs), 1)}
    return out


def write_md(path: Path, rep: dict) -> None:
    s = rep["summary"]
    a = rep["settings"]
    lines = ["# The divergence alarm, measured", "",
             f"`{rep['command']}` ({rep['date']}, {rep['seconds']:.0f} s on a shared 2-core "
             "CPU, torch on one thread). Tiny from-scratch models on the toy grammar of "
             f"tests/tiny_models.py, {a['steps']} steps evaluated every 10; alarm settings: the "
             f"defaults ({rep['divergence']}). Per run kind: runs with at least one alarm "
             "(95 % Wilson interval), evaluations judged / not judged, delay (evaluations from "
             "the first judgeable one to the first alarm); next to it the replaced two-point "
             "rule on the same curves.", "",
             "| runs | valid rows | alarm in | rate (95 % CI) | judged / abstained | delay "
             "(evals) | old rule: alarm in | old rule delay |",
             "|---|---|---|---|---|---|---|---|"]
    names = {"normal": "normal (false alarms)", "planted": "planted divergence (detection)",
             "demo": "normal, demo-sized sets"}
    for kind, v in s.items():
        lines.append(
            f"| {names[kind]} | {v['valid_rows']} | {v['runs_with_alarm']} of {v['runs']} | "
            f"{v['rate']:.2f} ({v['rate_ci95'][0]:.2f}-{v['rate_ci95'][1]:.2f}) | "
            f"{v['evaluations_judged']} / {v['evaluations_abstained']} | "
            f"{v['delay_evals'] or '-'} | {v['old_rule']['runs_with_alarm']} of {v['runs']} | "
            f"{v['old_rule']['delay_evals'] or '-'} |")
    lines += ["", "Per run (alarm steps; old rule's evaluations):", ""]
    for r in rep["runs"]:
        lines.append(f"- {r['kind']} seed {r['seed']}: alarms at steps {r['alarm_steps'] or '-'};"
                     f" old rule at evaluations {r['old_rule_evals'] or '-'}; final real chrF "
                     f"{r['curves'][-1]['real_chrf']:.1f}, synthetic "
                     f"{r['curves'][-1]['synthetic_chrf']:.1f}")
    lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--valid", type=int, default=60, help="rows per valid set (normal, planted)")
    ap.add_argument("--demo-valid", type=int, default=30)
    ap.add_argument("--demo-seeds", type=int, default=3)
    ap.add_argument("--out", default=str(REPO / "eval" / "divergence"))
    ap.add_argument("--record", default=None, help="write per-row curves of two runs here")
    a = ap.parse_args(argv)
    import torch

    from translate_synth.config import build_config

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    runs, record = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        plan = [("normal", s, a.valid) for s in range(a.seeds)] + \
               [("planted", s, a.valid) for s in range(a.seeds)] + \
               [("demo", s, a.demo_valid) for s in range(a.demo_seeds)]
        for kind, seed, n in plan:
            r = one_run(tmp, "normal" if kind == "demo" else kind, seed, n, a.steps, record)
            r["kind"] = kind
            runs.append(r)
            print(f"{kind} seed {seed}: alarms at {r['alarm_steps']}, judged "
                  f"{r['divergence']['judged']}, abstained {r['divergence']['abstained']}, "
                  f"old rule {r['old_rule_evals']} ({r['seconds']} s)", flush=True)
    div = build_config({"lang": "sw"}).train.divergence.model_dump()
    rep = {"command": "python eval/divergence.py " + " ".join(argv or sys.argv[1:]),
           "date": time.strftime("%Y-%m-%d"), "seconds": round(time.perf_counter() - t0, 1),
           "settings": vars(a), "divergence": div, "summary": summarise(runs), "runs": runs}
    out = Path(a.out)
    out.with_suffix(".json").write_text(json.dumps(rep, separators=(",", ":")) + "\n",
                                        encoding="utf-8")
    write_md(out.with_suffix(".md"), rep)
    if a.record:
        keep = [next(r for r in record if r["kind"] == k) for k in ("normal", "planted")]
        Path(a.record).write_text(json.dumps({"source": rep["command"], "runs": keep}) + "\n",
                                  encoding="utf-8")
    print(json.dumps(rep["summary"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

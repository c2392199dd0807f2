"""The downstream study's GPU step, part 2: ``generations`` rounds with ``--mix hybrid`` and
``--mix synthetic`` from the prepared round-0 run (``gen_run/``, made on a CPU with bergamot).

Round 0 is the prepared run (``run_generations(round0_run=...)``), shared by both mixes; from
round 1 each round's run synthesises with the previous round's from-scratch models
(transformers backend) on the prepared inputs (``inputs/``). Per round: the tool's own table
(real test chrF of its run's test split, rare-word recall, collapse alarms, ``train``'s
divergence alarms of the forward and reverse models), and this study's own evaluation of the
forward model on the other-book and own-book tests (``ablate``'s ``score_model``), with hybrid
minus synthetic per round (sacrebleu's paired bootstrap; one seed: an interval over the test
rows only).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from downstream_train import TESTS, read_tsv


def gen_config(data: Path, res: Path):
    """Round 0's config: the prepared run's, reading the prepared inputs, caching under RES."""
    from translate_synth.config import build_config

    raw = json.loads((data / "gen_run" / "manifest.json").read_text("utf-8"))["config"]
    raw = {k: v for k, v in raw.items() if k != "output"}
    raw["data"] = {**raw["data"], "parallel": [str(data / "inputs" / "real.en-pt.tsv")],
                   "source_mono": [], "target_mono": [str(data / "inputs" / "gen.pt.txt")]}
    raw["cache"] = {**raw["cache"], "dir": str(res / "cache")}
    return build_config(raw, "<downstream generations>", "")


def run_gen(data: Path, res: Path, grid: dict, log=None) -> dict:
    from translate_synth.ablate import score_model
    from translate_synth.generations import GenerationsStopped, run_generations
    from translate_synth.rarewords import train_counts
    from translate_synth.train.data import load_run

    from downstream_train import log_line

    import time

    log = log or log_line
    t0 = time.perf_counter()
    cfg0 = gen_config(data, res)
    tests = {t: ("en", "pt", read_tsv(data / "tests" / f"{t}.tsv")) for t in TESTS}
    r0 = load_run(data / "gen_run", [])
    counts = train_counts(r0.real_target_texts)
    rare_k = r0.cfg.train.rare_k or r0.cfg.collapse.rare_k
    manifest = json.loads((data / "gen_run" / "manifest.json").read_text("utf-8"))
    mixes, out = grid["gen_mixes"], {"mixes": {}}
    for mix in mixes:
        root = res / f"gen-{mix}"
        first = res / f"gen-{mixes[0]}" / "gen" / "round-0"
        if mix != mixes[0] and (first / "round.json").is_file() and \
                not (root / "gen" / "round-0").exists():
            shutil.copytree(first, root / "gen" / "round-0")  # round 0 is the same in both
        log(f"generations: mix {mix}, {grid['gen_rounds']} rounds")
        try:
            rep = run_generations(cfg0, root, grid["gen_rounds"], mix, "scratch",
                                  round0_run=data / "gen_run")
        except GenerationsStopped as e:
            log(str(e))
            rep = json.loads((root / "gen" / "generations.json").read_text("utf-8"))
        rounds = []
        for r, row in zip(rep["rounds"], rep["table"]):
            edir = root / "evals" / f"round-{r['round']}"
            sc = score_model(manifest, Path(r["models"]["forward"]["dir"]), edir, tests, counts,
                           rare_k, grid["device"])
            m = r["metrics"]
            rounds.append({
                "round": r["round"], "eval_dir": str(edir),
                "tests": {t: {k: sc["sets"][t][k] for k in ("chrf", "bleu", "rare_words")}
                          for t in TESTS},
                "run_test_chrf": row["real_test_chrf"],
                "rare_word_recall": m["rare_word_recall"],
                "synthetic_valid_chrf": row["synthetic_valid_chrf"],
                "collapse_alarms": row["alarms"],
                "divergence_alarms": m["divergence_alarms"],
                "models": {k: {x: v.get(x) for x in ("steps", "stopped")}
                           for k, v in r["models"].items()},
                "synthetic_rows": _synthetic(Path(r["run_dir"]))})
        out["mixes"][mix] = {"rounds": rounds, "stopped": rep.get("stopped"),
                             "report": str(root / "gen" / "generations.md")}
    from translate_synth.metrics import corpus_metric_args

    out["paired"] = _paired(out, data, corpus_metric_args(r0.cfg.scoring))
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def _synthetic(run_dir: Path) -> int:
    from translate_synth.generations import synthetic_rows

    return synthetic_rows(run_dir)


def _paired(out: dict, data: Path, args: dict) -> dict:
    """hybrid minus synthetic, per round both reached, on both tests (chrF)."""
    from translate_synth.ablate_stats import paired_difference, sentence_stats
    from translate_synth.evaluate import read_lines
    from translate_synth.metrics import make_metrics

    mixes = out["mixes"]
    if not {"hybrid", "synthetic"} <= set(mixes):
        return {}
    chrf = make_metrics(args)["chrf"]
    by = {m: {r["round"]: r for r in v["rounds"]} for m, v in mixes.items()}
    res = {}
    for k in sorted(set(by["hybrid"]) & set(by["synthetic"])):
        if k == 0:
            continue  # the same round 0
        res[f"round {k}"] = {}
        for t in TESTS:
            refs = [p for _, p in read_tsv(data / "tests" / f"{t}.tsv")]
            st = [sentence_stats(chrf, read_lines(Path(by[m][k]["eval_dir"]) / f"{t}.hyp.txt"),
                                 refs) for m in ("hybrid", "synthetic")]
            d = paired_difference(chrf, [st[0]], [st[1]])
            res[f"round {k}"][t] = {x: d[x] for x in ("difference", "ci95", "p_value", "rows")}
    return res

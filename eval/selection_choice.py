"""The selection study's choices (dev books only) and its report (eval/selection_study.py).

- the prior's weights: for each origin, the ratio r of fluency to rt_chrf (both standardised)
  whose score z(rt_chrf) + r z(fluency) has the highest mean Spearman with the truth over the dev
  runs' monolingual rows;
- the minimum pairs of each quality step: Spearman on those rows of rt_chrf, the prior and the
  best richer model (the one the run's pairs ranked first by cross-validation), per size;
- ``select``'s keep share and novelty weight per origin: the largest share of the study's
  ``KEEP_GRID`` whose mean gain over the dev runs with >= 100 real pairs is >= ``GAIN_MEAN`` and
  whose every run gains >= ``GAIN_MIN`` (margins over the targets of +1.5 on average and +0.5 on
  every split), with the novelty bonus (1) when it meets the rule too, else none (0); re-decided
  from stored scores by ``refilter``.
"""

from __future__ import annotations

import json

import numpy as np

from translate_synth.quality import spearman

RATIOS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, "fluency only")
GAIN_MEAN, GAIN_MIN = 2.0, 0.75
TRUTH = ("bt", "ft")


def _z(v) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    v = np.where(np.isnan(v), np.nanmean(v), v)
    return (v - v.mean()) / (v.std() or 1.0)


def prior_choice(runs) -> dict:
    out = {}
    for o in TRUTH:
        sig = [r["origins"][o]["signals"] for r in runs if o in r["origins"]
               and "signals" in r["origins"][o]]
        table = {}
        for ratio in RATIOS:
            rhos = []
            for s in sig:
                zr, zf = _z(s["rt_chrf"]), _z(s["fluency"])
                score = zf if ratio == "fluency only" else zr + ratio * zf
                rhos.append(spearman(score, s["truth"]) or 0.0)
            table[str(ratio)] = round(float(np.mean(rhos)), 4) if rhos else None
        best = max((k for k in table if table[k] is not None), key=table.get, default=None)
        out[o] = {"mean_spearman_by_ratio": table, "chosen_ratio": best, "runs": len(sig)}
    return out


def min_pairs_curve(runs) -> dict:
    out = {}
    for o in TRUTH:
        by_n = {}
        for r in runs:
            c = r["calibration"].get(o) or {}
            st = c.get("study_spearman") or {}
            if not st:
                continue
            rich = {k: v for k, v in (c.get("pairs_spearman") or {}).items()
                    if k not in ("rt_chrf", "prior") and k in st}
            best = max(rich, key=rich.get) if rich else None
            row = by_n.setdefault(r["real_given"], {"runs": 0, "calibration_pairs": [],
                                                    "rt_chrf": [], "prior": [], "richer": [],
                                                    "quality": [], "vetoed": 0, "fitted": 0})
            row["runs"] += 1
            row["calibration_pairs"].append(r["calibration_pairs"])
            row["rt_chrf"].append(st.get("rt_chrf"))
            row["prior"].append(st.get("prior"))
            row["richer"].append(st.get(best) if best else None)
            row["quality"].append(r["origins"][o]["spearman"]["quality"]["rho"])
            row["vetoed"] += bool(c.get("vetoed"))
            row["fitted"] += c.get("method") == "fitted"
        for row in by_n.values():
            for k in ("rt_chrf", "prior", "richer", "quality"):
                v = [x for x in row[k] if x is not None]
                row[k] = {"mean": round(float(np.mean(v)), 4) if v else None,
                          "min": round(float(np.min(v)), 4) if v else None}
            row["calibration_pairs"] = sorted(set(row["calibration_pairs"]))
        out[o] = dict(sorted(by_n.items()))
    return out


def keep_choice(runs) -> dict:
    out = {}
    runs = [r for r in runs if r["real_given"] >= 100 and r.get("keep_grid")]
    for o in TRUTH:
        table = {}
        for key in next(iter(runs))["keep_grid"] if runs else ():
            got = [r["keep_grid"][key][o] for r in runs if o in r["keep_grid"][key]]
            g = [x["default"]["gain"] for x in got]
            if not g:
                continue
            table[key] = {"gain_mean": round(float(np.mean(g)), 3),
                          "gain_min": round(float(np.min(g)), 3),
                          "keep_rate_mean": round(float(np.mean([x["keep_rate"] for x in got])),
                                                  3),
                          "novel_retained_mean": round(float(np.mean(
                              [x["novel_retained"] or 0 for x in got])), 3), "runs": len(g)}
        ok = [k for k, v in table.items() if v["gain_mean"] >= GAIN_MEAN and
              v["gain_min"] >= GAIN_MIN]
        # the largest share that meets the rule; at it, the novelty bonus when it meets it too
        best = max(ok, key=lambda k: tuple(map(float, k.split("/")))) if ok else (
            max(table, key=lambda k: table[k]["gain_mean"]) if table else None)
        out[o] = {"by_setting": table, "chosen": best, "rule_met": bool(ok)}
    return out


def choose(runs) -> dict:
    dev = [r for r in runs if r["stage"] == "dev"]
    return {"prior": prior_choice(dev), "min_pairs": min_pairs_curve(dev),
            "keep_top": keep_choice(dev),
            "rule": f"keep_top: the largest share with dev mean gain >= {GAIN_MEAN} and every "
                    f"dev run >= {GAIN_MIN} (runs with >= 100 real pairs); at it, novelty weight "
                    "1 when that meets the rule too, else 0"}


def targets(held: list[dict], o: str) -> dict:
    """The issue's done-when figures for one origin over the held-out runs."""
    rows = [r["origins"][o] for r in held if o in r["origins"]]
    if not rows:
        return {}
    keep = [x["keep_rate"] for x in rows]
    gain = [x["default"]["gain"] for x in rows]
    q = [x["spearman"]["quality"]["rho"] for x in rows]
    rt = [x["spearman"]["rt_chrf"]["rho"] for x in rows]
    return {"splits": len(rows),
            "keep_50_90_every": all(0.5 <= k <= 0.9 for k in keep),
            "keep_range": [min(keep), max(keep)],
            "gain_min": min(gain), "gain_mean": round(float(np.mean(gain)), 3),
            "gain_ge_0.5_every": all(g >= 0.5 for g in gain),
            "gain_mean_ge_1.5": float(np.mean(gain)) >= 1.5,
            "quality_ge_rt_minus_0.02_every": all(a >= b - 0.02 for a, b in zip(q, rt)),
            "quality_ge_0.4_share": round(sum(a >= 0.4 for a in q) / len(q), 3),
            "quality_mean": round(float(np.mean(q)), 3), "rt_chrf_mean": round(float(np.mean(rt)),
                                                                                3)}


def _ci(x: dict, key="rho") -> str:
    v = x[key]
    return f"{v:+.2f} [{x['ci95'][0]:+.2f}, {x['ci95'][1]:+.2f}]" if key == "gain" else \
        f"{v:.2f} [{x['ci95'][0]:.2f}, {x['ci95'][1]:.2f}]"


def markdown(res: dict) -> str:
    ch = res["choice"]
    L = ["# Selection study", "", f"Measured {res['date']} on {res['machine']}; model: "
         f"{res['model']}; seed {res['seed']}. Each row below is one real run of "
         f"`{res['command']}` (eval/selection_study.py).", ""]
    L += ["## Dev books: the prior's weights (mean Spearman with the truth, dev runs)", "",
          "| origin | " + " | ".join(f"r={x}" for x in RATIOS) + " | chosen |",
          "|---|" + "---|" * (len(RATIOS) + 1)]
    for o, v in ch["prior"].items():
        t = v["mean_spearman_by_ratio"]
        L.append(f"| {o} | " + " | ".join(str(t[str(x)]) for x in RATIOS) +
                 f" | {v['chosen_ratio']} |")
    L += ["", "## Dev books: minimum pairs of each quality step (Spearman on monolingual rows, "
          "mean / worst run)", "",
          "| origin | real pairs given | calibration pairs | runs | rt_chrf | prior | best richer "
          "(CV on the pairs) | quality as chosen | prior vetoed | richer chosen |",
          "|---|---|---|---|---|---|---|---|---|---|"]
    f = lambda d: f"{d['mean']} / {d['min']}" if d["mean"] is not None else "-"  # noqa: E731
    for o, by_n in ch["min_pairs"].items():
        for n, v in by_n.items():
            L.append(f"| {o} | {n} | {v['calibration_pairs']} | {v['runs']} | {f(v['rt_chrf'])} "
                     f"| {f(v['prior'])} | {f(v['richer'])} | {f(v['quality'])} | "
                     f"{v['vetoed']} | {v['fitted']} |")
    L += ["", f"## Dev books: `select` keep share ({ch['rule']})", "",
          "| origin | keep share / novelty weight | mean keep rate | mean gain | worst gain | "
          "novel types kept | runs |", "|---|---|---|---|---|---|---|"]
    for o, v in ch["keep_top"].items():
        for s, x in v["by_setting"].items():
            mark = " (chosen)" if s == v["chosen"] else ""
            L.append(f"| {o} | {s}{mark} | {x['keep_rate_mean']} | {x['gain_mean']:+.2f} | "
                     f"{x['gain_min']:+.2f} | {x['novel_retained_mean']} | {x['runs']} |")
    for stage, title in (("held_out", "Held-out books: defaults"),
                         ("dev", "Dev books: defaults")):
        runs = [r for r in res["runs"] if r["stage"] == stage]
        if not runs:
            continue
        sel = {json.dumps(r.get("select"), sort_keys=True) for r in runs}
        L += ["", f"## {title} (95 % bootstrap intervals)", "",
              f"`select` in these runs: {', '.join(sorted(sel))} (null: the defaults before "
              "this study's choice: keep_top 0.8 and novelty_weight 1 for every origin)", "",
              "| book | split | real pairs (train) | origin | rows | kept | gain of kept | oracle "
              "at that share | Spearman quality | rt_chrf | fluency | quality model |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in runs:
            for o, x in r["origins"].items():
                if o not in TRUTH:
                    continue
                sp, c = x["spearman"], r["calibration"].get(o) or {}
                L.append(f"| {r['name']} | {r['split']} | {r['real_given']} ({r['real_train']}) "
                         f"| {o} | {x['rows']} | {x['keep_rate']:.2f} | {_ci(x['default'], 'gain')}"
                         f" | {x['oracle_same_share']:+.2f} | {_ci(sp['quality'])} | "
                         f"{_ci(sp['rt_chrf'])} | {_ci(sp['fluency'])} | {c.get('method')} "
                         f"({c.get('selected')}) |")
        L += ["", "Paraphrase rows (no truth here: counts only): " + "; ".join(
            f"{r['name']} {r['split']}: kept {x['kept']} of {x['rows']}" for r in runs
            for o, x in r["origins"].items() if o == "paraphrase")]
        if stage == "held_out":
            L += ["", "### Done-when figures (held-out runs)", ""]
            for o in TRUTH:
                L.append(f"- {o}, runs with 100-300 real pairs: "
                         f"{targets([r for r in runs if r['real_given'] >= 100], o)}")
                L.append(f"- {o}, runs with 50 real pairs: "
                         f"{targets([r for r in runs if r['real_given'] < 100], o)}")
    return "\n".join(L) + "\n"

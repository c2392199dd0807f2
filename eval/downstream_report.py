"""eval/downstream.md from downstream.json: the grid, the tables, and one sentence per
comparison (the difference, its 95 % interval, p, n); "can't tell" where the interval spans 0.
"""

from __future__ import annotations

TEST_NAMES = {"other": "other-book test (Mark)", "own": "own-book test (Luke/John verses no "
              "run read)"}


def _n(x, nd=1) -> str:
    return "-" if x is None else f"{x:.{nd}f}"


def _signed(x) -> str:
    return f"{x:+.1f}"


def sentence(key: str, c: dict | None, metric: str = "chrf") -> str:
    if not c:
        return f"{key}: not run."
    parts = []
    for t in ("other", "own"):
        m = c[t][metric]
        lo, hi = m["ci95"]
        p = "p < 0.01" if m["p_value"] < 0.01 else f"p = {m['p_value']:.2f}"
        word = "can't tell" if lo <= 0 <= hi else ("A better" if m["difference"] > 0
                                                   else "B better")
        parts.append(f"{t}: {m['a']:.1f} vs {m['b']:.1f}, {_signed(m['difference'])} "
                     f"[{_signed(lo)}, {_signed(hi)}], {p} ({word}; {m['rows']} rows, "
                     f"{m['seeds']} seed{'s' if m['seeds'] != 1 else ''})")
    return f"{key} (chrF): " + "; ".join(parts) + "."


def budget_decision(r: dict) -> dict:
    """Keep ``rows`` unless another policy beats it with a paired chrF interval excluding 0 on
    the other-book test at EVERY budget (and not worse on the own-book test at any)."""
    g, cmp = r["grid"], r["comparisons"]["budget"]
    out = {"rule": "change the default only where a policy beats rows on the other-book test "
                   "(paired 95 % chrF interval above 0) at every budget, and is not "
                   "significantly worse on the own-book test at any", "by_policy": {}}
    for p in g["policies"]:
        if p == "rows":
            continue
        rows = []
        for steps in g["budgets"]:
            c = cmp.get(f"{steps}: hybrid/{p} - rows")
            if not c:
                rows.append(None)
                continue
            o, w = c["other"]["chrf"], c["own"]["chrf"]
            rows.append({"steps": steps, "other": [o["difference"], *o["ci95"]],
                         "own": [w["difference"], *w["ci95"]],
                         "better_other": o["ci95"][0] > 0, "worse_own": w["ci95"][1] < 0})
        wins = bool(rows) and all(x and x["better_other"] and not x["worse_own"]
                                  for x in rows)
        out["by_policy"][p] = {"budgets": rows, "beats_rows_everywhere": wins}
    best = [p for p, v in out["by_policy"].items() if v["beats_rows_everywhere"]]
    out["decision"] = (f"change: {best[0]} beat rows at every budget" if best else
                       "keep rows: no policy beat it at every budget with an interval "
                       "excluding 0")
    return out


def limits(r: dict) -> list[str]:
    """What the numbers cannot say, read off the numbers themselves."""
    g, ms = r["grid"], r["models"]
    out = []
    seeds = {len(g["seeds"]), len(g["budget_seeds"])}
    if 1 in seeds:
        out.append("One training seed for (some) comparisons: their intervals cover the "
                   "resampling of the test rows only, not the spread between training seeds, "
                   "which at these budgets can be as large as the differences.")
    states = {m["curve_state"] for m in ms}
    if states & {"rising", "never rose", None}:
        out.append("Real-valid curves still rising (or never rose) at the end: every model was "
                   "still learning, so the differences say what these budgets buy, not what "
                   "the data are worth at convergence.")
    best = max(max(m["scores"][t]["chrf"] for t in ("other", "own")) for m in ms)
    rare = [((m["scores"][t].get("rare_words") or {}).get("rare") or {}).get("recall") or 0
            for m in ms for t in ("other", "own")]
    out.append(f"The best model reached chrF {best:.1f}: the models have learnt frequent "
               "words and some phrasing, not translation"
               + ("; rare-word recall is 0 everywhere, so nothing here speaks to rare words."
                  if not any(rare) else "."))
    gen = r.get("generations") or {}
    gch = [rd["tests"]["other"]["chrf"] for v in (gen.get("mixes") or {}).values()
           for rd in v["rounds"]]
    if gch and max(gch) < 5:
        out.append(f"Generations: the rounds' models reach chrF {max(gch):.1f} at most; their "
                   "output is not translation, so hybrid vs synthetic over rounds (and rare "
                   "words lost or held) cannot be read here: the rounds show the loop closing, "
                   "the collapse monitor and the divergence alarm running, nothing more.")
    return out


def markdown(r: dict) -> str:
    g, p = r["grid"], r["prepare"]
    c = p["counts"]
    hw = r["hardware"]
    sec = r["seconds"]
    wall = r.get("wall") or {}
    L = ["# Downstream study (eval/downstream.py)", "",
         f"Budget `{g['budget']}`. Real pairs: {c['real_given']} WEB/Almeida verse pairs of "
         f"{' + '.join(p['books']['real'])} given to `translate-synth run` (it splits off "
         f"{p['run_split']['valid']} valid and {p['run_split']['test']} test rows); "
         f"back-translated by the shipped bergamot model: {c['mono']} Portuguese verses of "
         f"{', '.join(p['books']['mono'])}. Tests: {c['other_test']} verses of "
         f"{p['books']['other_test']} (other book) and {c['own_test']} verses of the real "
         "pairs' own books that no run read (own book).", "",
         f"Models: from scratch, shape `{g['shape']}`, one sentencepiece vocabulary "
         f"({g['vocab_size']} pieces asked) for every condition; settings "
         f"`{' '.join(g['train_sets'])}`; {g['evals']} validations per model. Main grid: "
         f"{', '.join(g['conditions'])} x seeds {g['seeds']} at {g['steps']} steps. "
         f"Stage budget: hybrid x {', '.join(g['policies'])} (and real) at "
         f"{', '.join(map(str, g['budgets']))} steps x seeds {g['budget_seeds']}"
         + (f"; seeds {g['more_seeds']} added for real and hybrid "
            f"{'/'.join(g.get('more_policies', ['rows', 'equal']))} at every budget by a second "
            "command (`train-eval --grid '{\"more_seeds\": [...]}'` on the same prepared "
            f"directory, {(r.get('more_seeds_run') or {}).get('total_s', 0) / 60:.1f} min wall)"
            if g.get("more_seeds") else "") + ".", "",
         f"Hardware: {hw['cpus']} CPUs ({hw['machine']}), torch {hw['torch']} with "
         f"{hw['torch_threads']} threads, CUDA {hw['cuda'] or 'no'}. Prepare "
         f"{p['seconds'] / 60:.1f} min ({p['cpu_seconds'] / 60:.1f} CPU-min in its own "
         f"process and the tool's runs: {p['study_run']['seconds']:.0f} s and "
         f"{p['gen_run']['seconds']:.0f} s); GPU step {sec['total'] / 60:.1f} min wall "
         f"on {g.get('workers') or 1} worker process(es) ({sec['cpu'] / 60:.1f} CPU-min; "
         f"the generations rounds {((r.get('generations') or {}).get('seconds') or 0) / 60:.1f}"
         f" min of it{', beside the models' if (g.get('workers') or 1) > 1 else ''})"
         + (f"; whole command {wall['total_s'] / 60:.1f} min wall" if wall else "")
         + f". Prepared directory {p['bytes'] / 2 ** 20:.1f} MiB.", "",
         "## Models", "",
         "| model | steps (per stage) | curve | other chrF | other BLEU | own chrF | own BLEU |"
         " rare-word recall other / own |", "|---|---|---|---|---|---|---|---|"]
    for m in r["models"]:
        st = " + ".join(f"{s['name']} {s['steps']}" for s in m["stages"])
        rw = [((m["scores"][t].get("rare_words") or {}).get("rare") or {}).get("recall")
              for t in ("other", "own")]
        L.append(f"| {m['name']} | {st} | {m['curve_state'] or '-'} | "
                 f"{_n(m['scores']['other']['chrf'])} | {_n(m['scores']['other']['bleu'])} | "
                 f"{_n(m['scores']['own']['chrf'])} | {_n(m['scores']['own']['bleu'])} | "
                 f"{_n(rw[0] and 100 * rw[0])} % / {_n(rw[1] and 100 * rw[1])} % |")
    L += ["", "## Conditions (A - B, paired by seed; two-level bootstrap over rows and seeds)",
          ""]
    for k, v in r["comparisons"]["conditions"].items():
        L.append(f"- {sentence(k, v)}")
    L += ["", "## Stage budget (hybrid, A - B, paired by seed)", ""]
    for k, v in r["comparisons"]["budget"].items():
        L.append(f"- {sentence(k, v)}")
    dec = r.get("stage_budget_decision") or budget_decision(r)
    L += ["", f"Stage-budget default: **{dec['decision']}** (rule: {dec['rule']}).", ""]
    L += ["## What this size cannot show", ""] + [f"- {x}" for x in limits(r)] + [""]
    gen = r.get("generations")
    if gen:
        L += ["", "## Generations (one seed; loose length-ratio filter so weak models' output "
              "reaches training)", "",
              "| mix | round | synthetic rows | other chrF | own chrF | run-test chrF | "
              "rare-word recall (run test) | collapse alarms | divergence alarms fwd/rev |",
              "|---|---|---|---|---|---|---|---|---|"]
        for mix, v in gen["mixes"].items():
            for rd in v["rounds"]:
                da = rd["divergence_alarms"]
                rare = rd["rare_word_recall"].get("rare")
                L.append(f"| {mix} | {rd['round']} | {rd['synthetic_rows']} | "
                         f"{_n(rd['tests']['other']['chrf'])} | "
                         f"{_n(rd['tests']['own']['chrf'])} | {_n(rd['run_test_chrf'])} | "
                         f"{_n(rare and 100 * rare)} % | {len(rd['collapse_alarms'])} | "
                         f"{len(da.get('forward') or [])}/{len(da.get('reverse') or [])} |")
            if v.get("stopped"):
                L.append(f"\n{mix} stopped: {v['stopped']['reason']}\n")
        L.append("")
        for k, v in (gen.get("paired") or {}).items():
            parts = [f"{t}: {_signed(x['difference'])} [{_signed(x['ci95'][0])}, "
                     f"{_signed(x['ci95'][1])}], p = {x['p_value']:.2f} ({x['rows']} rows)"
                     for t, x in v.items()]
            L.append(f"- hybrid - synthetic, {k} (chrF, one seed): " + "; ".join(parts) + ".")
    L.append("")
    return "\n".join(L)

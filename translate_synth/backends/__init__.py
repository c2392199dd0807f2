"""Backends: one small interface for every translation engine.

A backend translates a batch of texts from language A to language B with given decoding settings
and returns ``n`` hypotheses per input. Language codes are the tool's own (``en``, ``sw``); each
backend maps them to its model's codes. ``make_translator`` picks the backend named in config.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from translate_synth.config import Config, Decoding
from translate_synth.errors import UserError


# what a translator counts (the cache wrapper adds hits and misses): stats.json sums them
MODEL_COUNTERS = ("sentences_translated", "sentences_scored", "hits", "misses")


class Translator(ABC):
    name: str = "?"
    supports_sampling: bool = True

    def __init__(self):
        self.sentences_translated = 0  # every text sent to the model, for stats and tests
        self.sentences_scored = 0  # every pair scored by the model (logprob)

    @abstractmethod
    def translate(self, texts: list[str], src: str, tgt: str, decoding: Decoding,
                  n: int = 1, seed: int = 0) -> list[list[str]]:
        """``n`` translations of each text, in input order."""

    def check(self, src: str, tgt: str, decoding: Decoding, n: int = 1) -> None:
        """Raise UserError before any work when this backend cannot do what is asked."""
        if (decoding.sampling or n > 1) and not self.supports_sampling:
            raise UserError(f"backend {self.name} decodes greedily only (no sampling or n-best): "
                            "set synthesis.paraphrase.methods=[pivot] or use backend transformers")

    def logprob(self, sources: list[str], targets: list[str], src: str, tgt: str,
                batch_size: int = 16) -> list[float] | None:
        """Mean token log-probability of each target given its source (teacher forcing), or None
        when the backend cannot score (e.g. bergamot)."""
        return None

    @abstractmethod
    def describe(self) -> dict:
        """Model ids, revision, family, device: recorded in the manifest."""


def make_translator(cfg: Config, use_cache: bool | None = None) -> Translator:
    """The configured backend, wrapped in the translation cache unless ``cache.enabled`` is off."""
    m = cfg.model
    if m.backend == "bergamot":
        from translate_synth.backends.bergamot import BergamotTranslator

        inner: Translator = BergamotTranslator(cfg)
    elif m.backend == "transformers":
        from translate_synth.backends.hf import TransformersTranslator

        inner = TransformersTranslator(cfg)
    elif m.backend == "ctranslate2":
        from translate_synth.backends.ct2 import CT2Translator

        inner = CT2Translator(cfg)
    else:
        raise UserError(f"unsupported backend '{m.backend}': use transformers, ctranslate2 or "
                        "bergamot")
    if not (cfg.cache.enabled if use_cache is None else use_cache):
        return inner
    from pathlib import Path

    from translate_synth.cache import CachedTranslator, default_dir

    identity = {"backend": m.backend, "id": m.id, "ids": m.ids, "revision": m.revision,
                "family": m.family, "target_token": m.target_token, "codes": cfg.codes,
                "source_codes": cfg.source_codes, "dtype": m.dtype,
                "ct2_quantization": m.ct2_quantization if m.backend == "ctranslate2" else None}
    if m.backend == "transformers":  # a local model that changes on disk must not hit old rows
        identity["local"] = _local_stamp([m.id, *m.ids.values()])
    return CachedTranslator(inner, Path(cfg.cache.dir) if cfg.cache.dir else default_dir(),
                            identity)


def _local_stamp(model_ids) -> dict:
    import os

    out = {}
    for mid in model_ids:
        if mid and os.path.isdir(mid):
            files = sorted(os.listdir(mid))
            out[mid] = [(f, os.path.getsize(os.path.join(mid, f)),
                         int(os.path.getmtime(os.path.join(mid, f)))) for f in files
                        if os.path.isfile(os.path.join(mid, f))]
    return out

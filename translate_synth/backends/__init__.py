"""Backends: the translation engines behind the one interface of ``translate_synth.translator``.

``make_translator`` picks the backend named in config and wraps it in the translation cache
(this package depends on the cache; the cache depends only on the interface).
"""

from __future__ import annotations

from translate_synth.cache import CachedTranslator, default_dir
from translate_synth.config import Config
from translate_synth.errors import UserError
from translate_synth.translator import MODEL_COUNTERS, Translator

__all__ = ["MODEL_COUNTERS", "Translator", "local_stamp", "make_converted_translator",
           "make_translator"]


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

    identity = {"backend": m.backend, "id": m.id, "ids": m.ids, "revision": m.revision,
                "family": m.family, "target_token": m.target_token, "codes": cfg.codes,
                "source_codes": cfg.source_codes, "dtype": m.dtype,
                "ct2_quantization": m.ct2_quantization if m.backend == "ctranslate2" else None}
    if m.backend == "transformers":  # a local model that changes on disk must not hit old rows
        identity["local"] = local_stamp([m.id, *m.ids.values()])
    return CachedTranslator(inner, Path(cfg.cache.dir) if cfg.cache.dir else default_dir(),
                            identity)


def make_converted_translator(cfg: Config, tokenizer: str | None = None) -> Translator:
    """A directory CTranslate2 already converted (``model.id``), used as it is
    (``CT2Translator`` with ``converted``), wrapped in the translation cache unless
    ``cache.enabled`` is off; ``tokenizer``: the transformers model it was converted from, when
    the directory holds no tokenizer files."""
    from pathlib import Path

    from translate_synth.backends.ct2 import CT2Translator

    inner = CT2Translator(cfg, converted=True, tokenizer=tokenizer)
    if not cfg.cache.enabled:
        return inner
    m = cfg.model
    identity = {"backend": "ctranslate2-converted", "dir": str(Path(m.id).resolve()),
                "tokenizer": inner.tokenizer_src, "family": m.family,
                "target_token": m.target_token, "codes": cfg.codes,
                "source_codes": cfg.source_codes, "compute_type": inner.quantization,
                "local": local_stamp([m.id, inner.tokenizer_src])}
    return CachedTranslator(inner, Path(cfg.cache.dir) if cfg.cache.dir else default_dir(),
                            identity)


def local_stamp(model_ids) -> dict:
    """Name, size and mtime of each file of each local model directory in ``model_ids`` (a
    cache identity: a local model that changes on disk must not hit old rows)."""
    import os

    out = {}
    for mid in model_ids:
        if mid and os.path.isdir(mid):
            files = sorted(os.listdir(mid))
            out[mid] = [(f, os.path.getsize(os.path.join(mid, f)),
                         int(os.path.getmtime(os.path.join(mid, f)))) for f in files
                        if os.path.isfile(os.path.join(mid, f))]
    return out

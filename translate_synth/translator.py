"""The translator interface: one small contract for every translation engine.

A translator translates a batch of texts from language A to language B with given decoding
settings and returns ``n`` hypotheses per input. Language codes are the tool's own (``en``,
``sw``); each backend maps them to its model's codes. The backends (``translate_synth.backends``)
implement it and the translation cache (``translate_synth.cache``) wraps it; neither imports the
other's users, and the cache does not import the backends.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from translate_synth.config import Decoding
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

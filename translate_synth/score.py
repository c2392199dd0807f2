"""Round-trip scoring with sacrebleu: each metric behind one interface, each with its signature.

A synthetic row's synthetic side is translated back into the authentic side's language
(``roundtrip``) and compared with the authentic text. The signature strings in the manifest
make every number reproducible: ``BLEU(**args).sentence_score(roundtrip, [authentic])``.
"""

from __future__ import annotations

from sacrebleu.metrics import BLEU, CHRF

from translate_synth.config import ScoringConfig


class RoundTripScorer:
    def __init__(self, cfg: ScoringConfig):
        self.metrics = {
            "rt_bleu": BLEU(effective_order=True, tokenize=cfg.bleu_tokenize,
                            lowercase=cfg.lowercase),
            "rt_chrf": CHRF(word_order=cfg.chrf_word_order, lowercase=cfg.lowercase),
        }
        for m in self.metrics.values():  # a signature exists only once something was scored
            m.sentence_score("a", ["a"])

    def score(self, hypothesis: str, reference: str) -> dict[str, float]:
        return {name: m.sentence_score(hypothesis, [reference]).score
                for name, m in self.metrics.items()}

    def signatures(self) -> dict[str, str]:
        return {name: m.get_signature().format() for name, m in self.metrics.items()}


def metric_args(cfg: ScoringConfig) -> dict[str, dict]:
    """The constructor arguments behind each signature, for the manifest and for re-scoring."""
    return {"rt_bleu": {"effective_order": True, "tokenize": cfg.bleu_tokenize,
                        "lowercase": cfg.lowercase},
            "rt_chrf": {"word_order": cfg.chrf_word_order, "lowercase": cfg.lowercase}}

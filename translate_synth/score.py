"""Round-trip scoring with sacrebleu: each metric behind one interface, each with its signature.

A synthetic row's synthetic side is translated back into the authentic side's language
(``roundtrip``) and compared with the authentic text. The signature strings in the manifest
make every number reproducible: ``BLEU(**args).sentence_score(roundtrip, [authentic])``.
"""

from __future__ import annotations

from sacrebleu.metrics import BLEU, CHRF

from translate_synth.config import ScoringConfig


PARALLEL_MIN = 128  # below this many pairs, a pool costs more than it saves

_WORKER_SCORER = None


def _score_part(job):
    """Pool worker: score a slice with a scorer built once per process from plain arguments."""
    global _WORKER_SCORER
    args, hyps, refs = job
    if _WORKER_SCORER is None or _WORKER_SCORER.args != args:
        _WORKER_SCORER = RoundTripScorer(ScoringConfig(**args), workers=1)
    return [_WORKER_SCORER.score(h, r) for h, r in zip(hyps, refs)]


class RoundTripScorer:
    def __init__(self, cfg: ScoringConfig, workers: int | None = None):
        import os

        self.args = cfg.model_dump()
        self.workers = workers if workers is not None else (cfg.workers or os.cpu_count() or 1)
        self._pool = None
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

    def score_many(self, hyps: list[str], refs: list[str]) -> list[dict[str, float]]:
        """Scores of many pairs; over a process pool (one per core) for large batches."""
        n = len(hyps)
        if n < PARALLEL_MIN or self.workers <= 1:
            return [self.score(h, r) for h, r in zip(hyps, refs)]
        pool = self._get_pool()
        size = -(-n // self.workers)
        parts = [(hyps[i:i + size], refs[i:i + size]) for i in range(0, n, size)]
        out: list[dict[str, float]] = []
        for got in pool.map(_score_part, [(self.args, h, r) for h, r in parts]):
            out.extend(got)
        return out

    def _get_pool(self):
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # spawn: never fork a process that holds a model and its threads
            import signal

            # workers ignore Ctrl-C: the run itself decides when to stop (after a chunk)
            self._pool = ProcessPoolExecutor(self.workers,
                                             mp_context=multiprocessing.get_context("spawn"),
                                             initializer=signal.signal,
                                             initargs=(signal.SIGINT, signal.SIG_IGN))
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def signatures(self) -> dict[str, str]:
        return {name: m.get_signature().format() for name, m in self.metrics.items()}


def metric_args(cfg: ScoringConfig) -> dict[str, dict]:
    """The constructor arguments behind each signature, for the manifest and for re-scoring."""
    return {"rt_bleu": {"effective_order": True, "tokenize": cfg.bleu_tokenize,
                        "lowercase": cfg.lowercase},
            "rt_chrf": {"word_order": cfg.chrf_word_order, "lowercase": cfg.lowercase}}

"""Round-trip scoring with sacrebleu: each metric behind one interface, each with its signature.

A synthetic row's synthetic side is translated back into the authentic side's language
(``roundtrip``) and compared with the authentic text. The signature strings in the manifest
make every number reproducible: ``BLEU(**args).sentence_score(roundtrip, [authentic])``.

Sentence chrF (no word n-grams, the default) is computed by ``fastchrf``, a compiled
implementation that gives sacrebleu's numbers exactly (``tests/test_score.py`` checks it on real
text) about 4x faster; chrF++ (``chrf_word_order`` > 0) and installs without ``fastchrf`` use
sacrebleu itself. The signature is sacrebleu's either way: the numbers are the same.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

from sacrebleu.metrics import BLEU, CHRF

if TYPE_CHECKING:  # the config sits above the scores (tests/test_architecture.py LAYERS)
    from translate_synth.config import ScoringConfig


try:
    import fastchrf
except ImportError:  # optional speed-up: sacrebleu gives the same numbers
    fastchrf = None


PARALLEL_MIN = 128  # below this many pairs, a pool costs more than it saves

_WORKER_SCORER = None
_LIVE_POOLS = 0  # scoring pools open in this process


def _stop_resource_tracker() -> None:
    """Stop and reap multiprocessing's resource tracker once no pool needs it.

    A spawn pool starts the tracker, a child process that would outlive the command: it exits
    only when the command's end closes its pipe, and then, reparented to an init that does not
    reap (a container's PID 1), stays a defunct process. The pool's semaphores are freed
    first (gc), so nothing asks for the tracker again."""
    import gc
    from multiprocessing import resource_tracker

    gc.collect()
    tracker = resource_tracker._resource_tracker
    if getattr(tracker, "_pid", None) is not None and hasattr(tracker, "_stop"):
        tracker._stop()


def _score_part(job):
    """Pool worker: score a slice with a scorer built once per process from plain arguments."""
    global _WORKER_SCORER
    args, hyps, refs = job
    if _WORKER_SCORER is None or _WORKER_SCORER.args != args:
        _WORKER_SCORER = RoundTripScorer(SimpleNamespace(**args), workers=1)
    return _WORKER_SCORER._score_serial(hyps, refs)


class RoundTripScorer:
    def __init__(self, cfg: ScoringConfig, workers: int | None = None):
        import os

        self.args = cfg.model_dump() if hasattr(cfg, "model_dump") else dict(vars(cfg))
        self.workers = workers if workers is not None else (cfg.workers or os.cpu_count() or 1)
        self._pool = None
        args = roundtrip_metric_args(cfg)
        self.metrics = {"rt_bleu": BLEU(**args["rt_bleu"]), "rt_chrf": CHRF(**args["rt_chrf"])}
        for m in self.metrics.values():  # a signature exists only once something was scored
            m.sentence_score("a", ["a"])

    @property
    def chrf_engine(self) -> str:
        """Which code computes rt_chrf: ``fastchrf`` (sacrebleu's numbers, faster) or
        ``sacrebleu``."""
        c = self.metrics["rt_chrf"]
        fast = fastchrf is not None and c.word_order == 0 and not c.whitespace
        return "fastchrf" if fast else "sacrebleu"

    def score(self, hypothesis: str, reference: str) -> dict[str, float]:
        return self._score_serial([hypothesis], [reference])[0]

    def _score_serial(self, hyps: list[str], refs: list[str]) -> list[dict[str, float]]:
        if not hyps:
            return []
        bleu, chrf = self.metrics["rt_bleu"], self.metrics["rt_chrf"]
        b = [bleu.sentence_score(h, [r]).score for h, r in zip(hyps, refs)]
        if self.chrf_engine == "fastchrf":
            low = str.lower if chrf.lowercase else (lambda x: x)
            got = fastchrf.pairwise_chrf([[low(h)] for h in hyps], [[low(r)] for r in refs],
                                         char_order=chrf.char_order, beta=float(chrf.beta),
                                         remove_whitespace=True,
                                         eps_smoothing=chrf.eps_smoothing)
            c = [m[0][0] for m in got]
        else:
            c = [chrf.sentence_score(h, [r]).score for h, r in zip(hyps, refs)]
        return [{"rt_bleu": x, "rt_chrf": y} for x, y in zip(b, c)]

    def score_many(self, hyps: list[str], refs: list[str]) -> list[dict[str, float]]:
        """Scores of many pairs; over a process pool (one per core) for large batches."""
        n = len(hyps)
        if n < PARALLEL_MIN or self.workers <= 1:
            return self._score_serial(hyps, refs)
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
            global _LIVE_POOLS
            _LIVE_POOLS += 1
            import atexit

            atexit.register(self.close)  # a run that fails leaves no process behind either
        return self._pool

    def close(self) -> None:
        """Stop the pool's workers (joined) and, with the last pool, the resource tracker."""
        global _LIVE_POOLS
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            _LIVE_POOLS -= 1
            if _LIVE_POOLS == 0:
                _stop_resource_tracker()

    def signatures(self) -> dict[str, str]:
        return {name: m.get_signature().format() for name, m in self.metrics.items()}


def roundtrip_metric_args(cfg: ScoringConfig) -> dict[str, dict]:
    """The sacrebleu constructor arguments of the round-trip scores (rt_bleu, rt_chrf), for the
    scorer, the manifest (``metric_args``) and re-scoring; corpus scores: metrics.py."""
    return {"rt_bleu": {"effective_order": True, "tokenize": cfg.bleu_tokenize,
                        "lowercase": cfg.lowercase},
            "rt_chrf": {"word_order": cfg.chrf_word_order, "lowercase": cfg.lowercase}}

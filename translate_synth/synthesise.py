"""Synthesis: back-translation, forward translation and paraphrase -> scored candidate rows.

Every candidate has exactly one authentic side (text from real data) and one synthetic side.
Work goes in chunks: translate the chunk, translate its synthetic side back into the authentic
side's language (the round trip), score the round trip against the authentic text.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import islice
from typing import Callable, Iterable, Iterator

import numpy as np

from translate_synth.config import Config, Decoding
from translate_synth.errors import Interrupted
from translate_synth.faults import checkpoint
from translate_synth.journal import Journal, counter_delta
from translate_synth.score import RoundTripScorer
from translate_synth.text import digest, norm_key
from translate_synth.translator import Translator


@dataclass
class Job:
    """One unit of synthesis: the authentic text and what to make of it."""

    origin: str  # bt | ft | paraphrase
    authentic: str  # "source" | "target": which side is real
    source: str | None = None  # the real texts we start from (one or both)
    target: str | None = None
    side: str | None = None  # paraphrase: the side that gets replaced


@dataclass
class SynthStats:
    inputs: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    rows: Counter = field(default_factory=Counter)

    def counters(self) -> dict[str, Counter]:
        return {"inputs": Counter(self.inputs), "skipped": Counter(self.skipped),
                "rows": Counter(self.rows)}

    def as_dict(self):
        return {o: {"inputs": self.inputs[o], "rows": self.rows[o],
                    "skipped": {k.split(":", 1)[1]: v for k, v in sorted(self.skipped.items())
                                if k.startswith(o + ":")}}
                for o in sorted(set(self.inputs) | set(self.rows))}


# ---------------------------------------------------------------- the chunk plan
# Jobs go in chunks of ``synthesis.chunk_size`` in input order, the unit of work, journal and
# resume for every executor. A job's key is its input's position x jobs per input + its index
# (paraphrase: one job per side); a chunk is named by its number k, and opens at every
# ``size``-th job.


def paraphrase_inputs(pairs: Iterable, max_rows: int | None) -> Iterator:
    """The real pairs paraphrased: the first ``synthesis.paraphrase.max_rows`` (None: all)."""
    return iter(pairs) if max_rows is None else islice(pairs, max_rows)


def job_keys(positions: np.ndarray, m: int) -> np.ndarray:
    """The keys of the ``m`` jobs of each input, in input order."""
    positions = np.asarray(positions, dtype=np.int64)
    return np.repeat(positions, m) * m + np.tile(np.arange(m, dtype=np.int64), len(positions))


def chunk_starts(sorted_keys: Iterable[np.ndarray], size: int) -> np.ndarray:
    """From job keys in input order (an iterable of arrays), the key opening each chunk of
    ``size`` jobs, without holding the keys (what ``_chunks`` does to a stream of jobs)."""
    bounds, n = [], 0
    for arr in sorted_keys:
        first = (-n) % size  # index in arr of the next chunk start
        bounds.extend(arr[first::size].tolist())
        n += len(arr)
    return np.asarray(bounds, dtype=np.int64)


def chunk_of(keys: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The chunk number of each job key."""
    return np.searchsorted(starts, keys, side="right") - 1


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    buf = []
    for it in items:
        buf.append(it)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf


def bt_job(target: str) -> Job:
    return Job("bt", "target", target=target)


def ft_job(source: str) -> Job:
    return Job("ft", "source", source=source)


def paraphrase_job(source: str, target: str, side: str) -> Job:
    """Replace ``side`` of a real pair by a paraphrase; the other side stays authentic."""
    return Job("paraphrase", "target" if side == "source" else "source", source=source,
               target=target, side=side)


class Synthesiser:
    def __init__(self, cfg: Config, translator: Translator, scorer: RoundTripScorer):
        self.cfg, self.tr, self.scorer = cfg, translator, scorer
        self.src, self.tgt = cfg.source_lang, cfg.lang
        syn = cfg.synthesis
        self.decoding: Decoding = syn.decoding
        self.rt_decoding: Decoding = syn.roundtrip_decoding or syn.decoding.model_copy(
            update={"sampling": False})
        self.para = syn.paraphrase
        self.stats = SynthStats()
        self.journal: Journal | None = None  # set by the pipeline to checkpoint and resume
        self.stop_requested: Callable[[], bool] | None = None  # Ctrl-C: stop after this chunk

    def lang_of(self, side: str) -> str:
        return self.src if side == "source" else self.tgt

    # ------------------------------------------------------------ checks before any work
    def check(self, want_bt: bool, want_ft: bool, want_para: bool) -> None:
        d, rt = self.decoding, self.rt_decoding
        if want_bt:
            self.tr.check(self.tgt, self.src, d)
            self.tr.check(self.src, self.tgt, rt)
        if want_ft:
            self.tr.check(self.src, self.tgt, d)
            self.tr.check(self.tgt, self.src, rt)
        if want_para:
            for side in self.para.sides:
                lang, other = self.lang_of(side), self.lang_of("target" if side == "source"
                                                              else "source")
                pivot = self.para.pivot_lang or other
                self.tr.check(lang, pivot, d)
                if "pivot" in self.para.methods:
                    self.tr.check(pivot, lang, d)
                if "sample" in self.para.methods:
                    self.tr.check(pivot, lang, self.para.sampling, self.para.n_samples)
                self.tr.check(lang, other, rt)

    # ------------------------------------------------------------ the three kinds
    def back_translation(self, texts: Iterable[str]) -> Iterator[list[dict]]:
        yield from self._run((bt_job(t) for t in texts), "bt")

    def forward_translation(self, texts: Iterable[str]) -> Iterator[list[dict]]:
        yield from self._run((ft_job(s) for s in texts), "ft")

    def paraphrase(self, pairs: Iterable[tuple[str, str]]) -> Iterator[list[dict]]:
        jobs = (paraphrase_job(s, t, side) for s, t in pairs for side in self.para.sides)
        yield from self._run(jobs, "paraphrase")

    # ------------------------------------------------------------ chunked work
    def _run(self, jobs: Iterable[Job], origin: str) -> Iterator[list[dict]]:
        for k, chunk in enumerate(_chunks(jobs, self.cfg.synthesis.chunk_size)):
            done = self.journal.replay(origin, k, self.stats) if self.journal else None
            if done is not None:  # finished before a kill: no model call
                yield done
                continue
            rows, counters = self.process_chunk(origin, chunk)
            if self.journal:
                checkpoint(f"chunk:{origin}:{k}")
                self.journal.save(origin, k, rows, counters)
            yield rows
            if self.stop_requested and self.stop_requested():
                raise Interrupted(f"{origin} chunk {k}")

    def process_chunk(self, origin: str, chunk: list[Job],
                      score: bool = True) -> tuple[list[dict], dict]:
        """One chunk of jobs -> (scored candidate rows, the counters it added). Executors call
        this with the same chunks (``synthesis.chunk_size`` jobs in input order), so their
        journals are interchangeable. ``score=False`` leaves the round-trip metrics to the
        caller (``score_roundtrip``), e.g. to keep a GPU actor translating while CPUs score."""
        before = self.stats.counters()
        self.stats.inputs[origin] += len(chunk)
        rows = self._paraphrase_chunk(chunk) if origin == "paraphrase" \
            else self._translate_chunk(chunk, origin)
        rows = self._roundtrip(rows, score)
        self.model_scores(rows)
        self.stats.rows[origin] += len(rows)
        return rows, counter_delta(before, self.stats.counters())

    def _translate_chunk(self, chunk: list[Job], origin: str) -> list[dict]:
        auth_side = chunk[0].authentic
        texts = [getattr(j, auth_side) for j in chunk]
        a, b = (self.tgt, self.src) if auth_side == "target" else (self.src, self.tgt)
        hyps = self.tr.translate(texts, a, b, self.decoding, n=1, seed=self.cfg.seed)
        rows = []
        for job, text, (hyp,) in zip(chunk, texts, hyps):
            if not hyp:
                self.stats.skipped[f"{origin}:empty_output"] += 1
                continue
            src, tgt = (hyp, text) if auth_side == "target" else (text, hyp)
            rows.append({"id": f"{origin}-{digest(origin, text)}", "origin": origin,
                         "source": src, "target": tgt, "authentic": auth_side})
        return rows

    def _paraphrase_chunk(self, chunk: list[Job]) -> list[dict]:
        rows = []
        for side in self.para.sides:
            jobs = [j for j in chunk if j.side == side]
            if not jobs:
                continue
            lang = self.lang_of(side)
            pivot = self.para.pivot_lang or self.lang_of("target" if side == "source" else "source")
            originals = [getattr(j, side) for j in jobs]
            mid = [h[0] for h in self.tr.translate(originals, lang, pivot, self.decoding,
                                                   seed=self.cfg.seed)]
            variants: list[list[tuple[str, str]]] = [[] for _ in jobs]
            if "pivot" in self.para.methods:
                back = self.tr.translate(mid, pivot, lang, self.decoding, seed=self.cfg.seed)
                for v, (h,) in zip(variants, back):
                    v.append(("pivot", h))
            if "sample" in self.para.methods:
                back = self.tr.translate(mid, pivot, lang, self.para.sampling,
                                         n=self.para.n_samples, seed=self.cfg.seed)
                for v, hs in zip(variants, back):
                    v.extend(("sample", h) for h in hs)
            for job, orig, vs in zip(jobs, originals, variants):
                seen = {norm_key(orig)}
                for method, h in vs:
                    k = norm_key(h)
                    if not h or k in seen:  # empty, the input itself, or a repeat: no new text
                        self.stats.skipped["paraphrase:" + ("empty_output" if not h else
                                                            "same_as_input_or_repeat")] += 1
                        continue
                    seen.add(k)
                    src, tgt = (h, job.target) if side == "source" else (job.source, h)
                    rows.append({"id": f"paraphrase-{digest(side, job.source, job.target, h)}",
                                 "origin": "paraphrase", "source": src, "target": tgt,
                                 "authentic": job.authentic, "method": method,
                                 "paraphrase_of": orig})
        return rows

    def model_scores(self, rows: list[dict]) -> list[dict]:
        """``logprob_fwd`` (synthetic given authentic) and ``logprob_bwd`` (authentic given
        synthetic) under the synthesis model, when the backend can score and config asks."""
        if not self.cfg.quality.logprob:
            return rows
        for auth_side in ("source", "target"):
            group = [r for r in rows if r["authentic"] == auth_side]
            if not group:
                continue
            syn_side = "target" if auth_side == "source" else "source"
            a, b = self.lang_of(auth_side), self.lang_of(syn_side)
            auth, syn = [r[auth_side] for r in group], [r[syn_side] for r in group]
            bs = self.decoding.batch_size
            fwd = self.tr.logprob(auth, syn, a, b, bs)
            if fwd is None:
                return rows  # this backend gives no scores
            bwd = self.tr.logprob(syn, auth, b, a, bs)
            for r, f, g in zip(group, fwd, bwd):
                r["scores"]["logprob_fwd"], r["scores"]["logprob_bwd"] = f, g
        return rows

    def _roundtrip(self, rows: list[dict], score: bool = True) -> list[dict]:
        """Translate each synthetic side back; score it against the authentic side."""
        for auth_side in ("source", "target"):
            group = [r for r in rows if r["authentic"] == auth_side]
            if not group:
                continue
            syn_side = "target" if auth_side == "source" else "source"
            back = [h[0] for h in self.tr.translate([r[syn_side] for r in group],
                                                    self.lang_of(syn_side),
                                                    self.lang_of(auth_side), self.rt_decoding,
                                                    seed=self.cfg.seed)]
            for r, rt in zip(group, back):
                r["roundtrip"] = rt
                r["scores"] = {}
        return score_roundtrip(rows, self.scorer) if score else rows


def score_roundtrip(rows: list[dict], scorer: RoundTripScorer) -> list[dict]:
    """Round-trip BLEU/chrF of each row's ``roundtrip`` against its authentic side; they come
    first in ``scores`` (before any model scores)."""
    got = scorer.score_many([r["roundtrip"] for r in rows], [r[r["authentic"]] for r in rows])
    for r, sc in zip(rows, got):
        r["scores"] = {**sc, **r.get("scores", {})}
    return rows

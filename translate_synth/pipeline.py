"""One run for one language: the stages in order, nothing else.

ingest + split -> synthesise (+ round trip, scores) -> filter -> emit. Intermediate files live in
``OUT/<lang>/.work/``; final files are staged in ``OUT/<lang>/.staging/`` and moved into place at
the end, ``manifest.json`` last, so a failed run never leaves half-written outputs behind. The
directory is owned by one run: files an earlier run wrote that this one does not are removed, and
the manifest lists exactly the files there (``run_extras.write_extras`` adds the report and Comet
archive).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from translate_synth import __version__, progress
from translate_synth.backends import MODEL_COUNTERS, make_translator
from translate_synth.config import Config
from translate_synth.emit import AtomicJsonl, file_sha256, package_versions, write_json
from translate_synth.errors import UserError
from translate_synth.faults import checkpoint
from translate_synth.finalize import filter_and_emit, move_staged
from translate_synth.hashset import HashSet
from translate_synth.journal import Journal, fingerprint
from translate_synth.ingest import (InputStats, log_inputs, read_context, read_mono,
                                    read_parallel, resolve)
from translate_synth.run_calibration import calibrate_run
from translate_synth.rundir import read_jsonl
from translate_synth.score import RoundTripScorer, roundtrip_metric_args
from translate_synth import mono
from translate_synth.split import (Split, drop_summary, heldout_keys_of, pair_key, plan_split,
                                  route, set_aside_calibration)
from translate_synth.synthesise import Synthesiser, paraphrase_inputs

log = logging.getLogger(__name__)


MONO_KIND = {"bt": "target_mono", "ft": "source_mono"}  # the input each origin translates


@dataclass
class RunResult:
    out_dir: Path
    stats: dict
    manifest: dict
    funnel: list = field(default_factory=list)


def model_name(cfg: Config) -> str:
    """The model a config runs, in words (progress lines)."""
    m = cfg.model
    if m.backend == "bergamot":
        return "bergamot (the built-in en<->pt model)"
    ids = sorted({v for v in m.ids.values() if v}) or [m.id]
    return f"{', '.join(map(str, ids))} ({m.backend})"


@contextmanager
def _timed(timings: dict, name: str):
    t0 = time.perf_counter()
    yield
    timings[name] = round(timings.get(name, 0.0) + time.perf_counter() - t0, 3)


def prepare_out_dir(out_root: Path, lang: str) -> Path:
    out = Path(out_root) / lang
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as e:
        raise UserError(f"output directory {out} is not writable ({e.strerror}); "
                        "choose another with --out") from None
    return out


class Run:
    def __init__(self, cfg: Config, out_root: Path, restart: bool = False):
        self.cfg = cfg
        self.out = prepare_out_dir(out_root, cfg.lang)
        self.work = self.out / ".work"
        self.stage = self.out / ".staging"
        shutil.rmtree(self.stage, ignore_errors=True)
        self.fingerprint = fingerprint(cfg, self._input_shas())
        self.journal = Journal(self.work, self.fingerprint, restart=restart)
        self.stage.mkdir(parents=True)
        self.timings: dict = {}
        self.inputs: dict[str, list[InputStats]] = {}
        self.stopping = False  # the first Ctrl-C: finish the current chunk, stop

    def _input_shas(self) -> dict[str, str | None]:
        shas = {}
        for kind in ("parallel", "source_mono", "target_mono"):
            for f in getattr(self.cfg.data, kind):
                _, path = resolve(f)
                # a missing or unreadable file fails later, in ingest, with its own clear error
                ok = path is not None and path.is_file() and os.access(path, os.R_OK)
                shas[f"{kind}:{f.path}"] = file_sha256(path) if ok else None
        return shas

    # ------------------------------------------------------------ ingest
    def _parallel(self, record: bool):
        stats_list = []
        for i, f in enumerate(self.cfg.data.parallel):
            st = InputStats(f.path, "parallel")
            stats_list.append(st)
            yield from read_parallel(f, self.cfg.source_lang, self.cfg.lang, self.cfg.data, st,
                                     read_context(self.cfg, "parallel", i))
        if record:
            self.inputs["parallel"] = stats_list

    def _mono(self, kind: str, lang: str, origin: str, skip: set, synth: Synthesiser):
        """Monolingual texts minus duplicates and held-out sentences (counted, never translated)."""
        stats_list = []

        def texts():
            for i, f in enumerate(getattr(self.cfg.data, kind)):
                st = InputStats(f.path, kind)
                stats_list.append(st)
                for text in read_mono(f, lang, self.cfg.data, st, read_context(self.cfg, kind, i)):
                    yield text, st
        yield from mono.clean(texts(), origin, skip, synth.stats)
        self.inputs[kind] = stats_list

    def split_real(self) -> tuple[Split, set]:
        split = Split()
        train_hashes = HashSet()
        if not self.cfg.data.parallel:
            return split, train_hashes
        plan, counts = plan_split(self._parallel(False), self.cfg.split, self.cfg.seed)
        split.counts.update(counts)
        with AtomicJsonl(self.work / "real_train.jsonl") as w:
            for row in route(lambda: self._parallel(True), plan, split):
                w.write(row)
                train_hashes.add(pair_key(row["source"], row["target"]))
        return split, train_hashes

    def set_aside(self, split: Split) -> HashSet:
        """``split.calibration``: move a seeded share of the real training pairs to
        ``real_calibration.jsonl`` (and the run's ``calibration_pairs.jsonl``); return the
        hashes of the pairs left in train."""
        real, held = self.work / "real_train.jsonl", self.work / "real_calibration.jsonl"
        n, dropped = set_aside_calibration(real, held, self.cfg.split, self.cfg.seed)
        split.counts["calibration"] = n
        split.counts["train_dropped_calibration_overlap"] = dropped
        split.counts["train"] = split.counts.get("train", 0) - n - dropped
        if n:  # held out like valid/test: no synthetic row may equal one of its sentences
            shutil.copyfile(held, self.stage / "calibration_pairs.jsonl")
            split.heldout_keys.update(heldout_keys_of(read_jsonl(held)))
        hashes = HashSet()
        for r in read_jsonl(real):
            hashes.add(pair_key(r["source"], r["target"]))
        return hashes

    # ------------------------------------------------------------ synthesis (an executor's seam)
    def synthesis_streams(self, synth: Synthesiser, split: Split, want_bt: bool, want_ft: bool,
                          want_para: bool) -> list[tuple[str, Iterator[list[dict]]]]:
        """(origin, stream of scored candidate chunks) per kind of synthesis, in run order."""
        cfg = self.cfg
        streams = []
        if want_bt:
            streams.append(("bt", synth.back_translation(
                self._mono("target_mono", cfg.lang, "bt", split.heldout_keys, synth))))
        if want_ft:
            streams.append(("ft", synth.forward_translation(
                self._mono("source_mono", cfg.source_lang, "ft", split.heldout_keys, synth))))
        if want_para:
            pairs = ((r["source"], r["target"]) for r in read_jsonl(self.work /
                                                                     "real_train.jsonl"))
            streams.append(("paraphrase", synth.paraphrase(
                paraphrase_inputs(pairs, cfg.synthesis.paraphrase.max_rows))))
        return streams

    def synthesise(self, synth: Synthesiser, split: Split, want_bt: bool, want_ft: bool,
                   want_para: bool, raw_path: Path) -> None:
        """Write every scored candidate to ``raw_path`` (the local executor: one process)."""
        with AtomicJsonl(raw_path) as raw:
            for origin, chunks in self.synthesis_streams(synth, split, want_bt, want_ft,
                                                         want_para):
                total = self.synthesis_inputs(origin, split)
                with progress.bar(f"{origin} (synthesise + round trip)", total=total,
                                  unit="texts") as pbar:
                    seen = 0
                    replayed = sum(e["counters"].get("inputs", {}).get(origin, 0)
                                   for (o, _), e in self.journal.done.items() if o == origin)
                    for rows in chunks:
                        for r in rows:
                            raw.write(r)
                        delta = synth.stats.inputs[origin] - seen
                        old = min(delta, max(0, replayed - seen))  # a resume's journal
                        pbar.skip(old)
                        pbar.update(delta - old)
                        seen = synth.stats.inputs[origin]
                log_inputs(self.inputs.get(MONO_KIND.get(origin), []), self.cfg.data)
                log.info(f"{origin}: {synth.stats.rows[origin]} rows synthesised")

    def synthesis_inputs(self, origin: str, split: Split) -> int:
        """The texts (paraphrase: jobs) an origin will synthesise from, counted beforehand for
        the progress total: the inputs read again as the stream reads them (limit, held-out
        and duplicate guards), their counts thrown away."""
        from translate_synth.synthesise import SynthStats

        cfg = self.cfg
        if origin == "paraphrase":
            n = sum(1 for _ in read_jsonl(self.work / "real_train.jsonl"))
            if cfg.synthesis.paraphrase.max_rows is not None:
                n = min(n, cfg.synthesis.paraphrase.max_rows)
            return n * len(cfg.synthesis.paraphrase.sides)
        kind = MONO_KIND[origin]
        lang = cfg.lang if kind == "target_mono" else cfg.source_lang

        def texts():
            for f in getattr(cfg.data, kind):
                st = InputStats(f.path, kind)
                for text in read_mono(f, lang, cfg.data, st):
                    yield text, st
        return sum(1 for _ in mono.clean(texts(), origin, split.heldout_keys, SynthStats()))

    def filter_context(self) -> dict:
        """Extra keyword arguments of the filter stage, e.g. ``prescored`` (an executor's seam)."""
        return {}

    def model_counts(self, translator) -> dict:
        """Sentences translated and scored by the model, cache hits and misses (all processes)."""
        return {a: getattr(translator, a, 0) for a in MODEL_COUNTERS}

    # ------------------------------------------------------------ the run
    def run(self) -> RunResult:
        cfg, T = self.cfg, self.timings
        wall0 = time.perf_counter()
        want_bt = cfg.synthesis.back_translation and bool(cfg.data.target_mono)
        want_ft = cfg.synthesis.forward_translation and bool(cfg.data.source_mono)
        want_para = cfg.synthesis.paraphrase.enabled and bool(cfg.data.parallel)
        if not (want_bt or want_ft or want_para):
            raise UserError("nothing to synthesise: give target-language text (--target-mono), "
                            "source-language text (--source-mono) or real pairs (--parallel)")
        with _timed(T, "load_model"):
            translator = make_translator(cfg)
            scorer = RoundTripScorer(cfg.scoring)
            synth = Synthesiser(cfg, translator, scorer)
            with progress.step(f"model: loading {model_name(cfg)}"):
                synth.check(want_bt, want_ft, want_para)  # fails fast: language, backend, model
            synth.journal, synth.stop_requested = self.journal, lambda: self.stopping
        with _timed(T, "ingest_split"):
            split, train_hashes = self.split_real()
            if cfg.split.calibration and (self.work / "real_train.jsonl").exists():
                train_hashes = self.set_aside(split)
        checkpoint("after_split")
        log_inputs(self.inputs.get("parallel", []), cfg.data)
        if drop_summary(split.counts):
            log.info(drop_summary(split.counts))
        log.info(f"real pairs: {split.counts.get('train', 0)} train, {len(split.valid)} valid, "
                 f"{len(split.test)} test" + (f", {split.counts['calibration']} set aside for "
                                              "calibration (split.calibration)"
                                              if split.counts.get("calibration") else ""))
        with _timed(T, "calibrate"):
            calibration = calibrate_run(cfg, self.work, synth, [o for o, w in (
                ("bt", want_bt), ("ft", want_ft)) if w])

        with _timed(T, "synthesise"):
            self.synthesise(synth, split, want_bt, want_ft, want_para,
                            self.work / "candidates.raw.jsonl")
        checkpoint("after_synthesis")

        real_train = self.work / "real_train.jsonl"
        write_json(self.stage / "calibration.json", calibration)
        done = filter_and_emit(cfg, self.work / "candidates.raw.jsonl", self.stage, real_train,
                               split.valid, split.test, split.heldout_keys, train_hashes, T,
                               calibration=calibration, **self.filter_context())
        T["total"] = round(time.perf_counter() - wall0, 3)
        stats = self.run_stats(split, synth, calibration, done, translator)
        scorer.close()
        outputs = move_staged(self.stage, self.out, stats)
        manifest = self.manifest(translator, scorer, outputs)
        write_json(self.out / "manifest.json", manifest)
        shutil.rmtree(self.stage, ignore_errors=True)
        self.journal.discard()
        return RunResult(self.out, stats, manifest, stats["filters"])

    def run_stats(self, split: Split, synth: Synthesiser, calibration: dict, done: dict,
                  translator) -> dict:
        """stats.json: inputs, the real split, synthesis, model calls, quality, the filter
        stage's sections (``done``) and the timings."""
        cfg, calls = self.cfg, self.model_counts(translator)
        return {
            "lang": cfg.lang, "source_lang": cfg.source_lang,
            "inputs": {k: [s.as_dict() for s in v] for k, v in self.inputs.items()},
            "real": split.counts,
            "synthesis": synth.stats.as_dict(),
            "model_sentences_translated": calls["sentences_translated"],
            "model_sentences_scored": calls["sentences_scored"],
            "cache": {"hits": calls["hits"], "misses": calls["misses"]},
            "quality": {k: v for k, v in calibration.items() if k != "real_rows"},
            **done,
            "timings_s": self.timings,
        }

    def manifest(self, translator, scorer: RoundTripScorer, outputs: dict) -> dict:
        cfg = self.cfg
        inputs = []
        for kind in ("parallel", "source_mono", "target_mono"):
            for f in getattr(cfg.data, kind):
                fmt, path = resolve(f)
                entry = {"kind": kind, "path": f.path, "format": fmt}
                if path is not None:
                    entry.update(sha256=file_sha256(path), bytes=path.stat().st_size)
                inputs.append(entry)
        syn = cfg.synthesis
        return {
            "tool": "translate-synth", "version": __version__,
            "lang": cfg.lang, "source_lang": cfg.source_lang, "seed": cfg.seed,
            "fingerprint": self.fingerprint,
            "model": translator.describe(),
            "decoding": {"synthesis": syn.decoding.model_dump(),
                         "roundtrip": (syn.roundtrip_decoding or syn.decoding.model_copy(
                             update={"sampling": False})).model_dump(),
                         "paraphrase_sampling": syn.paraphrase.sampling.model_dump()},
            "signatures": scorer.signatures(),
            "metric_engines": {"rt_bleu": "sacrebleu", "rt_chrf": scorer.chrf_engine},
            "metric_args": roundtrip_metric_args(cfg.scoring),
            "config": cfg.model_dump(mode="json"),
            "packages": package_versions(),
            "inputs": inputs,
            "outputs": outputs,
        }


def run(cfg: Config, out_root: Path, restart: bool = False,
        run_class: type[Run] = Run) -> RunResult:
    """One language, start to finish; resumes an unfinished run with the same fingerprint.

    On failure the staged outputs are removed (final files are never half-written); the journal
    of finished synthesis chunks is kept when there is one, so the same command resumes.
    """
    existed = (Path(out_root) / cfg.lang).exists()
    r = run_class(cfg, out_root, restart=restart)
    try:
        with _stop_on_sigint(r):
            return r.run()
    except BaseException:
        shutil.rmtree(r.stage, ignore_errors=True)
        if not r.journal.done:
            r.journal.discard()
            if not existed:
                for d in (r.out, r.out.parent):  # and no empty directories this run made
                    try:
                        d.rmdir()
                    except OSError:
                        break
        raise


@contextmanager
def _stop_on_sigint(r: Run):
    """First Ctrl-C: finish the current chunk, journal it, stop. Second Ctrl-C: stop now."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if r.stopping:
            raise KeyboardInterrupt
        r.stopping = True
        log.info("Ctrl-C: stopping after the current chunk (press again to stop at once)")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)

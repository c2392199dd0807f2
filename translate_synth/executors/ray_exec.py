"""The Ray executor: the same run on Ray Data, from a laptop to a cluster.

- ingest: every input file is read by ``ray.data.read_binary_files`` (``hf:`` inputs: the
  dataset's Arrow table via ``ray.data.from_arrow``) and parsed and cleaned in Ray tasks by the local executor's own functions;
  per-file counts come from a Ray ``groupby``;
- dedup and the real split: Ray ``groupby`` keeps the first occurrence of each key, a Ray
  ``sort`` by the seeded rank picks valid/test, a vectorised filter drops held-out overlaps;
- synthesis: jobs are grouped into the local executor's chunks (``synthesis.chunk_size`` jobs
  in input order) and each chunk runs on an actor pool (``executor.actors``, one model per actor,
  ``num_gpus`` per actor when the cluster has GPUs) with the same ``Synthesiser`` code: the
  translations, the round trip and the model scores;
- round-trip BLEU/chrF and the stateless filters (length, copy, repetition, script, langid) score
  each chunk in Ray tasks (``map_batches``), off the model actors;
- the driver journals every finished chunk (``.work/``) exactly as the local executor does, so a
  killed Ray run resumes (with either executor) without redoing finished chunks; then it runs
  the stateful filters (dedup against the run, thresholds that need all scores), curriculum,
  collapse and emit, streaming, and writes the same files as the local executor.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from pathlib import Path

import numpy as np
import ray  # noqa: F401  (ImportError here: the executor tells the user to install the extra)

from translate_synth.emit import AtomicJsonl
from translate_synth.errors import Interrupted, UserError
from translate_synth.executors import ray_data as rd
from translate_synth.faults import checkpoint
from translate_synth.hashset import HashSet
from translate_synth.ingest import log_inputs, read_context
from translate_synth.mono import record_drop
from translate_synth.pipeline import MONO_KIND, Run
from translate_synth.split import (Split, heldout_keys_of, heldout_plan, heldout_sizes,
                                   read_counts, real_row, routed_counts)
from translate_synth.synthesise import chunk_starts, job_keys, paraphrase_inputs

log = logging.getLogger(__name__)
ORIGINS = rd.ORIGINS


def init_ray(address: str | None, num_cpus: int | None = None):
    """Start or join Ray with telemetry and the dashboard off (no network probes)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_DISABLE_DOCKER_CPU_WARNING", "1")
    import ray

    if not ray.is_initialized():
        kw = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
        if address:
            _reachable(address)
            ray.init(address=address, **kw)
        else:
            ray.init(num_cpus=num_cpus or os.cpu_count(), **kw)
    return ray


def _reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast with one line when a cluster address does not answer (Ray itself retries for
    minutes)."""
    import socket

    if address == "auto":
        return
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise UserError(f"--ray-address {address!r}: expected HOST:PORT or ray://HOST:PORT "
                        "(or auto)")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as e:
        raise UserError(f"cannot reach the Ray cluster at {address} ({e.strerror or e}); start "
                        "it (`ray start --head`, `ray up`) or fix --ray-address") from None


def _configure(ray, ex) -> None:
    import ray.data
    from ray.data.context import ShuffleStrategy

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.execution_options.preserve_order = False  # rows carry their input position instead
    ctx.shuffle_strategy = (ShuffleStrategy.SORT_SHUFFLE_PULL_BASED if ex.shuffle == "sort"
                            else ShuffleStrategy.HASH_SHUFFLE)
    cpus = int(ray.cluster_resources().get("CPU", os.cpu_count() or 1))
    ctx.default_hash_shuffle_parallelism = ex.shuffle_partitions or max(2, 2 * cpus)
    logging.getLogger("ray.data").setLevel(logging.WARNING)


class RayRun(Run):
    def __init__(self, cfg, *a, **kw):
        self.ray = init_ray(cfg.executor.address)  # first: a bad address leaves nothing behind
        _configure(self.ray, cfg.executor)
        super().__init__(cfg, *a, **kw)
        self.train_ds = None  # the real training pairs (a Dataset, for paraphrase jobs)
        self.para_bounds, self.para_limit = None, None
        self.prescored: frozenset = frozenset()
        self.remote = Counter()  # model calls made by the actors (for stats.json)

    def _guard(self, fn):
        """Run a Ray action; a UserError raised in a task reaches the user as itself."""
        try:
            return fn()
        except Exception as e:
            err = rd.user_error(e)
            if err is not None:
                raise err from None
            raise

    # ------------------------------------------------------------ ingest
    def _read_kind(self, kind: str, keys: list[str]):
        files = getattr(self.cfg.data, kind)
        parts = [rd.read_input(self.ray, f, keys, self.cfg.data, i, read_context(self.cfg, kind, i))
                 for i, f in enumerate(files)]
        ds = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
        ds = self._guard(ds.materialize)
        self.inputs[kind] = self._guard(lambda: rd.input_stats(ds, [f.path for f in files], kind))
        return rd.where(ds, "keep", True)

    # ------------------------------------------------------------ the real split (Ray ops)
    def split_real(self) -> tuple[Split, set]:
        cfg, split, train_hashes = self.cfg, Split(), HashSet()
        if not cfg.data.parallel:
            return split, train_hashes
        keyed = self._read_kind("parallel", [cfg.source_lang, cfg.lang]).map_batches(
            rd.pair_keys, fn_kwargs={"seed": cfg.seed}, batch_format="pyarrow")
        total = self._guard(keyed.count)
        uniq = self._guard(rd.distinct(keyed).materialize)
        n = uniq.count()
        n_valid, n_test = heldout_sizes(cfg.split, n)
        # the global operation: Ray sorts by (rank, input position); the plan is the stage's
        held = uniq.sort(["rank", "pos"]).limit(n_valid + n_test).take_all() \
            if n_valid + n_test else []
        plan = heldout_plan([r["h"] for r in held], n_valid)
        for bucket in ("valid", "test"):
            setattr(split, bucket, [real_row(r["a"], r["b"]) for r in
                                    sorted(held, key=lambda r: r["pos"]) if plan[r["h"]] == bucket])
        split.heldout_keys.update(heldout_keys_of(split.valid + split.test))
        flagged = uniq.map_batches(rd.train_flags, fn_kwargs={
            "plan": list(plan), "held": sorted(split.heldout_keys)},
            batch_format="pyarrow").materialize()
        leaked = rd.where(flagged, "leak", True).count()
        self.train_ds = rd.where(flagged, "leak", False).sort("pos").materialize()
        positions = []
        with AtomicJsonl(self.work / "real_train.jsonl") as w:
            for batch in self.train_ds.iter_batches(batch_format="pyarrow", batch_size=4096):
                for a, b, h, pos in zip(*(batch.column(c).to_pylist()
                                          for c in ("a", "b", "h", "pos"))):
                    w.write(real_row(a, b))
                    train_hashes.add(h)
                    positions.append(pos)
        # the paraphrase jobs: the synthesis stage's chunk plan over the first max_rows pairs
        para = cfg.synthesis.paraphrase
        m, used = len(para.sides), len(list(paraphrase_inputs(positions, para.max_rows)))
        self.para_bounds = chunk_starts([job_keys(positions[:used], m)],
                                        cfg.synthesis.chunk_size)
        self.para_limit = positions[used] * m if used < len(positions) else None
        split.counts.update(**read_counts(total, n), **routed_counts(split, len(positions), leaked))
        return split, train_hashes

    # ------------------------------------------------------------ synthesis on the actor pool
    def _mono_inputs(self, kind: str, lang: str, origin: str, heldout: set, synth):
        ds = self._read_kind(kind, [lang]).map_batches(
            rd.mono_keys, fn_kwargs={"held": sorted(heldout)}, batch_format="pyarrow")
        ds = self._guard(ds.materialize)
        files = self.inputs[kind]  # per file (stderr summary): held-out and kept rows
        held = np.zeros(len(files), np.int64)
        for b in rd.where(ds, "held", True).select_columns(["file_no"]).iter_batches(
                batch_format="numpy", batch_size=65536):
            held += np.bincount(b["file_no"], minlength=len(files))
        free = rd.where(ds, "held", False)
        uniq = rd.distinct(free).materialize()
        kept = np.zeros(len(files), np.int64)

        def keys():
            for b in uniq.select_columns(["pos"]).sort("pos").iter_batches(
                    batch_format="numpy", batch_size=65536):
                kept[:] += np.bincount(b["pos"] >> rd.POS_BITS, minlength=len(files))
                yield b["pos"]
        bounds = chunk_starts(keys(), self.cfg.synthesis.chunk_size)
        for st, h, k in zip(files, held.tolist(), kept.tolist()):  # what the stage dropped
            record_drop(synth.stats, origin, st, "heldout_overlap", h)
            record_drop(synth.stats, origin, st, "duplicate", st.kept - h - k)
        return uniq, bounds

    def synthesise(self, synth, split, want_bt, want_ft, want_para, raw_path: Path) -> None:
        cfg, ex = self.cfg, self.cfg.executor
        plans = []  # (origin, inputs Dataset, chunk bounds, job key limit)
        if want_bt:
            plans.append(("bt", *self._mono_inputs("target_mono", cfg.lang, "bt",
                                                   split.heldout_keys, synth), None))
        if want_ft:
            plans.append(("ft", *self._mono_inputs("source_mono", cfg.source_lang, "ft",
                                                   split.heldout_keys, synth), None))
        if want_para and self.train_ds is not None:
            plans.append(("paraphrase", self.train_ds, self.para_bounds, self.para_limit))
        done = self.journal.done  # (origin, chunk) -> journal entry
        stateless = [s for s in self._filter_specs() if s["stateless"]]
        prescored = frozenset(s["key"] for s in stateless)
        langs = {"source": cfg.source_lang, "target": cfg.lang}
        jobs, todo = [], 0
        for origin, ds, bounds, limit in plans:
            o = ORIGINS.index(origin)
            m = len(cfg.synthesis.paraphrase.sides) if origin == "paraphrase" else 1
            skip = [o << 40 | k for k in range(len(bounds)) if (origin, k) in done]
            todo += len(bounds) - len(skip)
            jobs.append(ds.map_batches(rd.jobs_of, fn_kwargs={
                "origin_no": o, "m": m, "bounds": bounds, "done": skip, "limit_key": limit},
                batch_format="pyarrow", batch_size=ex.batch_size))
        if todo:
            self._synthesise_on_actors(jobs, todo, stateless, prescored, langs)
        self.prescored = prescored
        self._write_candidates(plans, raw_path, synth, stateless, prescored, langs)

    def _synthesise_on_actors(self, jobs: list, todo: int, stateless: list[dict],
                              prescored: frozenset, langs: dict) -> None:
        """The chunks still to do, synthesised and scored on the actor pool, journaled as they
        come back (a Ctrl-C stops after the current one)."""
        cfg, ex, ray = self.cfg, self.cfg.executor, self.ray
        log.info(f"ray: {todo} chunk(s) of synthesis over {ex.actors} actor(s)")
        res = ray.cluster_resources()
        gpus = ex.num_gpus_per_actor
        if gpus is None:
            gpus = 1 if res.get("GPU", 0) >= ex.actors else 0
        need, have = ex.actors * ex.cpus_per_actor, res.get("CPU", 0)
        if need >= have:
            msg = (f"executor.actors x executor.cpus_per_actor = {need:g} CPUs, but the Ray "
                   f"cluster has {have:g}: the stateless stages would wait forever; lower "
                   "executor.actors or executor.cpus_per_actor (e.g. 0.5)")
            if not ex.address:
                raise UserError(msg)
            log.info(f"warning: {msg} (unless the cluster autoscales)")
        allj = jobs[0].union(*jobs[1:]) if len(jobs) > 1 else jobs[0]
        out = allj.groupby("ck").map_groups(
            rd.SynthActor, fn_constructor_kwargs={
                "cfg_json": cfg.model_dump_json(exclude={"output"})},
            compute=ray.data.ActorPoolStrategy(size=ex.actors), num_gpus=gpus,
            num_cpus=ex.cpus_per_actor,
            batch_format="pyarrow")
        out = out.map_batches(rd.score_chunks, fn_kwargs={
            "scoring_json": cfg.scoring.model_dump_json(),
            "specs": [s["spec"] for s in stateless], "langs": langs},
            batch_format="pyarrow", batch_size=1)

        def collect():
            from translate_synth import progress

            with progress.bar("ray: synthesis (synthesise + round trip + scores)",
                              total=todo, unit="chunks") as pbar:
                for rec in out.iter_rows():
                    origin, k = ORIGINS[rec["ck"] >> 40], rec["ck"] & ((1 << 40) - 1)
                    checkpoint(f"chunk:{origin}:{k}")
                    self.remote.update(json.loads(rec["model"]))
                    self.journal.save(origin, k, json.loads(rec["rows"]),
                                      json.loads(rec["counters"]),
                                      meta={"prescored": sorted(prescored)})
                    pbar.update(1)
                    if self.stopping:
                        raise Interrupted(f"{origin} chunk {k}")
        self._guard(collect)

    def _write_candidates(self, plans: list, raw_path: Path, synth, stateless: list[dict],
                          prescored: frozenset, langs: dict) -> None:
        """Every journaled chunk replayed into ``raw_path``, in the local executor's order."""
        cfg = self.cfg
        with AtomicJsonl(raw_path) as raw:  # the chunks in the local executor's order
            for origin, _, bounds, _ in plans:
                for k in range(len(bounds)):
                    rows = self.journal.replay(origin, k, synth.stats)
                    if rows is None:
                        continue  # a chunk whose jobs were all past paraphrase.max_rows
                    meta = self.journal.done[(origin, k)].get("meta") or {}
                    if not prescored <= set(meta.get("prescored", [])):
                        rd.score_rows(rows, [s["spec"] for s in stateless], langs)
                    for r in rows:
                        raw.write(r)
                log_inputs(self.inputs.get(MONO_KIND.get(origin), []), cfg.data)
                log.info(f"{origin}: {synth.stats.rows[origin]} rows synthesised")

    def _filter_specs(self) -> list[dict]:
        from translate_synth.filters import FilterContext, build_filters

        chain = build_filters(self.cfg.filters, FilterContext(
            langs={"source": self.cfg.source_lang, "target": self.cfg.lang}))
        specs = {s.get("name", s["type"]): s for s in self.cfg.filters}
        return [{"stateless": f.stateless and name in specs, "key": f.score_key,
                 "spec": specs.get(name)} for name, f in chain]

    def model_counts(self, translator) -> dict:
        local = super().model_counts(translator)
        return {k: v + self.remote.get(k, 0) for k, v in local.items()}

    def filter_context(self) -> dict:
        # scores of stateless filters computed on Ray are kept only when they came with the
        # chunks (a chunk journaled by the local executor lacks them: those rows are scored
        # by the filter stage, in chain order, as the local executor does)
        return {"prescored": self.prescored} if self.prescored else {}


def run(cfg, out_root: Path, restart: bool = False):
    """Same contract as ``pipeline.run``: resumes an unfinished run (from either executor)."""
    from translate_synth.pipeline import run as run_local

    return run_local(cfg, out_root, restart=restart, run_class=RayRun)

"""The Ray executor: synthesis, round trip and scoring on a Ray Data actor pool.

The inputs of each kind of synthesis (monolingual text after cleaning, dedup and the held-out
guard; real training pairs for paraphrases) become one Ray Dataset; ``map_batches`` runs them
through an actor pool, one model per actor (``executor.actors``; ``num_gpus`` per actor when the
cluster has GPUs), each actor running the same ``Synthesiser`` code as the local executor. Rows
come back tagged with their input index and are written in the local executor's order, so
filter, curriculum, collapse and emit (on the driver, streaming) give the same files for the same
seed. Ingest, dedup and the split stay on the driver, streamed; resuming a killed Ray run starts
synthesis over (use the translation cache on shared storage to make that cheap).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from translate_synth.emit import AtomicJsonl, read_jsonl
from translate_synth.pipeline import Run, _stop_on_sigint

ORIGINS = ("bt", "ft", "paraphrase")


def init_ray(address: str | None, num_cpus: int | None = None):
    """Start or join Ray with telemetry and the dashboard off (no network probes)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_DISABLE_DOCKER_CPU_WARNING", "1")
    import ray

    if not ray.is_initialized():
        kw = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
        if address:
            ray.init(address=address, **kw)
        else:
            ray.init(num_cpus=num_cpus or os.cpu_count(), **kw)
    return ray


class SynthActor:
    """One model per actor: builds the translator, scorer and Synthesiser once."""

    def __init__(self, cfg_json: str):
        from translate_synth.backends import make_translator
        from translate_synth.config import Config
        from translate_synth.score import RoundTripScorer
        from translate_synth.synthesise import Synthesiser

        cfg = Config.model_validate_json(cfg_json)
        self.synth = Synthesiser(cfg, make_translator(cfg), RoundTripScorer(cfg.scoring, 1))

    def __call__(self, batch: dict) -> dict:
        out = {"origin": [], "i": [], "row": []}
        before = self.synth.stats.counters()
        for origin in ORIGINS:
            sel = [k for k, o in enumerate(batch["origin"]) if o == origin]
            if not sel:
                continue
            keys = [int(batch["i"][k]) for k in sel]
            if origin == "bt":
                chunks = self.synth.back_translation([batch["a"][k] for k in sel], keys)
            elif origin == "ft":
                chunks = self.synth.forward_translation([batch["a"][k] for k in sel], keys)
            else:
                chunks = self.synth.paraphrase([(batch["a"][k], batch["b"][k]) for k in sel],
                                               keys)
            for rows in chunks:
                for r in rows:
                    out["origin"].append(origin)
                    out["i"].append(r.pop("_in"))
                    out["row"].append(json.dumps(r, ensure_ascii=False))
        after = self.synth.stats.counters()
        delta = {name: dict(after[name] - before[name]) for name in after}
        out["origin"].append("_stats")
        out["i"].append(-1)
        out["row"].append(json.dumps(delta))
        return out


class RayRun(Run):
    def synthesise(self, synth, split, want_bt, want_ft, want_para, raw_path: Path) -> None:
        ex = self.cfg.executor
        ray = init_ray(ex.address)
        import ray.data

        items = []
        for origin, texts in self._inputs(synth, split, want_bt, want_ft, want_para):
            for i, t in enumerate(texts):
                a, b = t if isinstance(t, tuple) else (t, "")
                items.append({"origin": origin, "i": i, "a": a, "b": b})
        self.log(f"ray: {len(items)} inputs over {ex.actors} actor(s)")
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True
        ctx.enable_progress_bars = False
        import logging

        logging.getLogger("ray.data").setLevel(logging.WARNING)
        gpus = ex.num_gpus_per_actor
        if gpus is None:
            gpus = 1 if ray.cluster_resources().get("GPU", 0) >= ex.actors else 0
        ds = ray.data.from_items(items, override_num_blocks=max(1, ex.actors * 2))
        out = ds.map_batches(SynthActor, fn_constructor_kwargs={
            "cfg_json": self.cfg.model_dump_json(exclude={"output"})},
            batch_size=ex.batch_size, compute=ray.data.ActorPoolStrategy(size=ex.actors),
            num_gpus=gpus, batch_format="numpy")
        rows = []
        for rec in out.iter_rows():
            if rec["origin"] == "_stats":
                for name, counts in json.loads(rec["row"]).items():
                    getattr(synth.stats, name).update(counts)
                continue
            rows.append((ORIGINS.index(rec["origin"]), int(rec["i"]), len(rows), rec["row"]))
        rows.sort()  # the local executor's order: origin, input, then the synthesiser's order
        with AtomicJsonl(raw_path) as raw:
            for *_, r in rows:
                raw.write(json.loads(r))
        for origin in ORIGINS:
            if synth.stats.rows[origin] or synth.stats.inputs[origin]:
                self.log(f"{origin}: {synth.stats.rows[origin]} rows synthesised")

    def _inputs(self, synth, split, want_bt, want_ft, want_para):
        cfg = self.cfg
        if want_bt:
            yield "bt", self._mono("target_mono", cfg.lang, "bt", split.heldout_keys, synth)
        if want_ft:
            yield "ft", self._mono("source_mono", cfg.source_lang, "ft", split.heldout_keys,
                                   synth)
        if want_para:
            pairs = ((r["source"], r["target"]) for r in read_jsonl(self.work /
                                                                     "real_train.jsonl"))
            if cfg.synthesis.paraphrase.max_rows is not None:
                from itertools import islice

                pairs = islice(pairs, cfg.synthesis.paraphrase.max_rows)
            yield "paraphrase", pairs


def run(cfg, out_root: Path, log, restart: bool = False):
    """Same contract as ``pipeline.run``; synthesis on Ray."""
    import shutil

    existed = (Path(out_root) / cfg.lang).exists()
    r = RayRun(cfg, out_root, log, restart=True)  # no journal resume on Ray: start over
    try:
        with _stop_on_sigint(r, log):
            return r.run()
    except BaseException:
        shutil.rmtree(r.stage, ignore_errors=True)
        r.journal.discard()
        if not existed:
            shutil.rmtree(r.out, ignore_errors=True)
        raise


def run_languages(cfgs: list, out_root: Path, address: str | None = None) -> list[dict]:
    """Fan languages out over the cluster: one Ray task per language (``batch --executor ray``)."""
    ray = init_ray(address)

    @ray.remote(num_cpus=1)
    def one(cfg_json: str, out: str) -> dict:
        from translate_synth.config import Config
        from translate_synth.errors import UserError
        from translate_synth.pipeline import run as run_local

        cfg = Config.model_validate_json(cfg_json)
        try:
            res = run_local(cfg, Path(out), log=lambda m: None)
            return {"lang": cfg.lang, "ok": True, "error": None,
                    "out": str(res.out_dir)}
        except UserError as e:
            return {"lang": cfg.lang, "ok": False, "error": str(e)}
    return ray.get([one.remote(c.model_dump_json(exclude={"output"}), str(out_root))
                    for c in cfgs])

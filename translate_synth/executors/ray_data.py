"""Ray Data building blocks of the Ray executor: reading, keys, dedup, ordering, chunking.

Every function here runs inside Ray tasks or builds a lazy Ray Dataset; none holds a corpus on
the driver. Rows carry ``pos`` (file number << 40 | record number), so "first occurrence" and
"input order" mean exactly what they mean for the local executor, whatever order Ray computes in.
Parsing and cleaning are the local executor's own functions (``ingest.clean_records``), so both
executors read the same records and fail on a bad file with the same one-line error.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from translate_synth.errors import UserError

POS_BITS = 40  # records per file < 2**40; files per kind < 2**22
ROW_SCHEMA = pa.schema([("file_no", pa.int32()), ("pos", pa.int64()), ("a", pa.string()),
                        ("b", pa.string()), ("reason", pa.string()), ("keep", pa.bool_())])


def user_error(exc: BaseException) -> UserError | None:
    """The UserError a Ray task raised, found through Ray's wrappers (which subclass the
    original's type but carry a traceback as their message), or None."""
    seen, stack, wrapped = set(), [exc], None
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if type(e) is UserError:
            return e
        if isinstance(e, UserError) and wrapped is None:
            wrapped = e
        stack += [getattr(e, "cause", None), e.__cause__, e.__context__]
    # Ray Data re-raises a task's exception as UserCodeException with the original only in the
    # traceback text (exception chains do not cross processes): find our one-line message there
    import re

    for e in [wrapped, exc]:
        m = re.findall(r"translate_synth\.errors\.UserError: (.+)", str(e or ""))
        if m:
            return UserError(m[-1])
    return None


# ------------------------------------------------------------------ reading (Ray tasks)
def _add_row(cols: dict, file_no: int, n: int, texts: list[str] | None, reason: str | None):
    cols["file_no"].append(file_no)
    cols["pos"].append(file_no << POS_BITS | n)
    cols["a"].append(texts[0] if texts else "")
    cols["b"].append(texts[1] if texts and len(texts) > 1 else "")
    cols["reason"].append(reason or "")
    cols["keep"].append(texts is not None)


def parse_file(batch: pa.Table, f_json: str, keys: list[str], data_json: str,
               file_no: int, ctx: dict | None = None) -> pa.Table:
    """``read_binary_files`` rows (one per file) -> one row per record: pos, texts, skip reason.

    Skipped records stay (``keep`` false, ``reason``) so the driver counts them like local ingest.
    """
    from translate_synth.config import DataConfig, DataFile
    from translate_synth.ingest import clean_records

    f, data = DataFile.model_validate_json(f_json), DataConfig.model_validate_json(data_json)
    cols = {name: [] for name in ROW_SCHEMA.names}
    for raw in batch.column("bytes").to_pylist():
        for n, texts, reason in clean_records(f, keys, data, raw=raw, ctx=ctx):
            _add_row(cols, file_no, n, texts, reason)
    return pa.table(cols, schema=ROW_SCHEMA)


def parse_hf(batch: pa.Table, f_json: str, keys: list[str], data_json: str,
             file_no: int, ctx: dict | None = None) -> pa.Table:
    """Rows of a ``datasets`` table (with its row index ``_pos``) -> the same columns."""
    from translate_synth.config import DataConfig, DataFile
    from translate_synth.ingest import clean_fields
    from translate_synth.ingest_formats import pick_fields

    f, data = DataFile.model_validate_json(f_json), DataConfig.model_validate_json(data_json)
    keys = f.keys or keys
    cols = {name: [] for name in ROW_SCHEMA.names}
    for rec in batch.to_pylist():
        n = rec.pop("_pos") + 1
        texts, reason = clean_fields(pick_fields(rec, keys, f"{f.path}: row {n}"), data)
        _add_row(cols, file_no, n, texts, reason)
    return pa.table(cols, schema=ROW_SCHEMA)


def read_input(ray, f, keys: list[str], data, file_no: int, ctx: dict | None = None):
    """One input file as a Dataset of ROW_SCHEMA rows (Ray reads the bytes: local paths, or any
    filesystem pyarrow knows, e.g. s3:// on a cluster; ``hf:`` datasets are loaded by
    ``datasets`` on the driver and handed to Ray as their Arrow table)."""
    from translate_synth.ingest import resolve

    fmt, path = resolve(f)
    kw = {"fn_kwargs": {"f_json": f.model_dump_json(), "keys": keys,
                        "data_json": data.model_dump_json(), "file_no": file_no, "ctx": ctx},
          "batch_format": "pyarrow"}
    if fmt == "hf":
        from translate_synth import hf_input

        spec, hf = hf_input.load(f, streaming=False)
        if len(hf) == 0:
            raise hf_input.empty(spec)
        if data.limit is not None:
            hf = hf.select(range(min(data.limit, len(hf))))
        hf = hf.add_column("_pos", np.arange(len(hf))).flatten_indices()
        # the dataset's Arrow table (memory-mapped by datasets) becomes Ray blocks
        return ray.data.from_arrow(hf.data.table).map_batches(parse_hf, **kw)
    if not str(path).startswith(("s3://", "gs://", "hdfs://")):
        from translate_synth.ingest_lines import check_file

        check_file(path)
    return ray.data.read_binary_files(str(path)).map_batches(parse_file, batch_size=1, **kw)


def input_stats(ds, paths: list[str], kind: str) -> list:
    """Per-file InputStats from a Ray aggregation over the parsed rows."""
    from translate_synth.ingest import InputStats

    stats = [InputStats(p, kind) for p in paths]
    for r in ds.groupby(["file_no", "reason", "keep"]).count().take_all():
        st = stats[r["file_no"]]
        st.read += r["count()"]
        if r["reason"]:
            st.skipped[r["reason"]] += r["count()"]
        if r["keep"]:
            st.kept += r["count()"]
    return stats


def where(ds, column: str, value):
    """Rows whose ``column`` equals ``value`` (a vectorised filter)."""
    return ds.map_batches(lambda t: t.filter(pc.equal(t[column], value)),
                          batch_format="pyarrow")


# ------------------------------------------------------------------ keys and dedup
def mono_keys(t: pa.Table, held: list[str]) -> pa.Table:
    """Adds ``h`` (the dedup hash of the normalised text) and ``held`` (a held-out sentence):
    the monolingual stage's own keys (``mono.mono_key``, ``mono.is_heldout``)."""
    from translate_synth.mono import is_heldout, mono_key

    held_set = set(held)
    keys = [mono_key(x) for x in t.column("a").to_pylist()]
    t = t.append_column("h", pa.array([h for _, h in keys], pa.int64()))
    return t.append_column("held", pa.array([is_heldout(k, held_set) for k, _ in keys],
                                            pa.bool_()))


def pair_keys(t: pa.Table, seed: int) -> pa.Table:
    """Adds ``h`` and ``rank``: the split stage's own keys (``split.pair_key``, ``pair_rank``)."""
    from translate_synth.split import pair_key, pair_rank

    h = [pair_key(a, b) for a, b in zip(t.column("a").to_pylist(), t.column("b").to_pylist())]
    t = t.append_column("h", pa.array(h, pa.int64()))
    return t.append_column("rank", pa.array([pair_rank(seed, x) for x in h], pa.int64()))


def first_occurrence(t: pa.Table) -> pa.Table:
    """One group of equal keys -> its first row in input order."""
    return t.slice(int(np.argmin(t.column("pos").to_numpy())), 1)


def distinct(ds, key: str = "h"):
    """The first occurrence of every key (Ray's groupby)."""
    return ds.groupby(key).map_groups(first_occurrence, batch_format="pyarrow")


def train_flags(t: pa.Table, plan: list[int], held: list[str]) -> pa.Table:
    """Drops the held-out pairs; flags (``leak``) pairs sharing a side with a held-out sentence
    (``split.leaks``)."""
    from translate_synth.split import leaks

    t = t.filter(pc.invert(pc.is_in(t.column("h"), pa.array(plan, pa.int64()))))
    held_set = set(held)
    leak = [leaks(a, b, held_set)
            for a, b in zip(t.column("a").to_pylist(), t.column("b").to_pylist())]
    return t.append_column("leak", pa.array(leak, pa.bool_()))


# ------------------------------------------------------------------ chunks of synthesis jobs
def jobs_of(t: pa.Table, origin_no: int, m: int, bounds: np.ndarray, done: list[int],
            limit_key: int | None) -> pa.Table:
    """Input rows -> job rows (``m`` per input: one per paraphrased side) with ``ck``, the chunk
    key (origin << 40 | chunk) from the synthesis stage's chunk plan; drops jobs of chunks
    already done and past ``limit_key``."""
    from translate_synth.synthesise import chunk_of, job_keys

    pos = t.column("pos").to_numpy()
    key = job_keys(pos, m)
    sub = key - np.repeat(pos, m) * m
    ck = (np.int64(origin_no) << 40) | chunk_of(key, bounds)
    keep = ~np.isin(ck, np.asarray(done, dtype=np.int64))
    if limit_key is not None:
        keep &= key < limit_key
    idx = np.repeat(np.arange(len(pos)), m)[keep]
    return pa.table({"ck": pa.array(ck[keep], pa.int64()), "key": pa.array(key[keep], pa.int64()),
                     "sub": pa.array(sub[keep], pa.int64()),
                     "a": t.column("a").take(idx), "b": t.column("b").take(idx)})


class SynthActor:
    """One model per actor; each call gets one chunk of jobs (a group of ``ck``) and returns its
    scored rows and counters, as the local executor would compute and journal them."""

    def __init__(self, cfg_json: str):
        from translate_synth.backends import make_translator
        from translate_synth.config import Config
        from translate_synth.score import RoundTripScorer
        from translate_synth.synthesise import Synthesiser

        cfg = Config.model_validate_json(cfg_json)
        self.sides = cfg.synthesis.paraphrase.sides
        self.synth = Synthesiser(cfg, make_translator(cfg), RoundTripScorer(cfg.scoring, 1))

    def __call__(self, t: pa.Table) -> pa.Table:
        from translate_synth.translator import MODEL_COUNTERS
        from translate_synth.synthesise import bt_job, ft_job, paraphrase_job

        t = t.sort_by([("key", "ascending")])
        ck = int(t.column("ck")[0].as_py())
        origin = ORIGINS[ck >> 40]
        a, b, sub = (t.column(c).to_pylist() for c in ("a", "b", "sub"))
        if origin == "bt":
            jobs = [bt_job(x) for x in a]
        elif origin == "ft":
            jobs = [ft_job(x) for x in a]
        else:
            jobs = [paraphrase_job(x, y, self.sides[s]) for x, y, s in zip(a, b, sub)]
        tr = self.synth.tr
        before = [getattr(tr, a, 0) for a in MODEL_COUNTERS]
        rows, counters = self.synth.process_chunk(origin, jobs, score=False)
        model = {a: getattr(tr, a, 0) - b for a, b in zip(MODEL_COUNTERS, before)}
        return pa.table({"ck": [ck], "rows": [json.dumps(rows, ensure_ascii=False)],
                         "counters": [json.dumps(counters)], "model": [json.dumps(model)]})


def score_rows(rows: list[dict], specs: list[dict], langs: dict) -> list[dict]:
    """Adds the stateless filters' scores to candidate rows (the filter stage keeps them)."""
    from translate_synth.filters import FilterContext, build_filters

    for f in (f for _, f in build_filters(specs, FilterContext(langs=langs)) if f.stateless):
        for r, v in zip(rows, f.score(rows)):
            r["scores"].pop(f.score_key, None)
            if v is not None:
                r["scores"][f.score_key] = v
    return rows


def score_chunks(t: pa.Table, scoring_json: str, specs: list[dict], langs: dict) -> pa.Table:
    """Ray tasks: round-trip BLEU/chrF and the stateless filters' scores of each chunk's rows
    (CPU work kept off the model actors)."""
    from translate_synth.config import ScoringConfig
    from translate_synth.score import RoundTripScorer
    from translate_synth.synthesise import score_roundtrip

    scorer = RoundTripScorer(ScoringConfig.model_validate_json(scoring_json), workers=1)
    out = []
    for payload in t.column("rows").to_pylist():
        rows = score_roundtrip(json.loads(payload), scorer)
        out.append(json.dumps(score_rows(rows, specs, langs), ensure_ascii=False))
    return t.set_column(t.schema.get_field_index("rows"), "rows", pa.array(out, pa.string()))


ORIGINS = ("bt", "ft", "paraphrase")

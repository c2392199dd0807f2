"""Readers: text, TSV, JSONL, Parquet and `datasets` inputs -> a stream of cleaned texts.

Each reader yields raw fields per record, or a ``RowProblem`` for a record it cannot use (too few
columns, not JSON, a missing key, not UTF-8); ``read_parallel``/``read_mono`` clean them, skip
empty and over-long lines with a count, honour ``--limit``, and turn every problem with a file into
a one-line ``UserError`` that names the file, the line and what to do (a ``RowProblem`` is skipped
and counted instead under ``data.on_error: skip``). ``input_summary`` is the one stderr line per
file for whatever was skipped, truncated or dropped. Nothing is read whole.

    ingest_lines.py    a file's bytes -> decoded lines (gzip, UTF-16/32, binary, not UTF-8)
    ingest_formats.py  the readers per format: text/TSV (layout), JSONL, Parquet, hf:
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Iterator

from translate_synth.config import BUILTIN_PREFIX, DATA_LISTS, HF_PREFIX, DataConfig, DataFile
from translate_synth.errors import UserError
from translate_synth.ingest_formats import Header, check_options, read_records
from translate_synth.ingest_lines import RowProblem, check_file
from translate_synth.text import clean

log = logging.getLogger(__name__)

FORMATS_BY_SUFFIX = {".txt": "text", ".text": "text", ".tsv": "tsv", ".jsonl": "jsonl",
                     ".json": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
INVALID = "invalid"  # the skip reason of bad rows under data.on_error: skip
HEADER = "header"    # the skip reason of a header row (``header<TAB>note`` until settled)
MAX_EXAMPLES = 3     # bad rows per file named on stderr
SKIP_HINT = "or skip such rows: --set data.on_error=skip"


@dataclass
class InputStats:
    path: str
    kind: str
    read: int = 0
    kept: int = 0
    skipped: Counter = field(default_factory=Counter)
    # after reading (executors fill it): rows dropped as duplicates or held-out sentences
    dropped: Counter = field(default_factory=Counter)
    examples: list = field(default_factory=list)  # (line, message) of the first bad rows
    header: str = ""  # what the header row was read as (stderr)

    def settle(self) -> None:
        """Fold the reasons of the first bad rows (``invalid<TAB>line<TAB>message``, as
        ``clean_records`` yields them) into the ``invalid`` count and ``examples``, and a header
        row's (``header<TAB>note``) into ``header``."""
        for key in [k for k in self.skipped if k.startswith(HEADER + "\t")]:
            self.skipped[HEADER] += self.skipped.pop(key)
            self.header = key.split("\t", 1)[1]
        for key in [k for k in self.skipped if k.startswith(INVALID + "\t")]:
            count = self.skipped.pop(key)
            _, n, msg = key.split("\t", 2)
            self.examples.append((int(n), msg))
            self.skipped[INVALID] += count
        self.examples.sort()

    def as_dict(self):
        self.settle()
        return {"path": self.path, "kind": self.kind, "read": self.read, "kept": self.kept,
                "skipped": dict(sorted(self.skipped.items()))}


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def input_summary(st: InputStats, data: DataConfig) -> str | None:
    """One stderr line for what reading (and deduplicating) ``st``'s file took away or changed,
    or None when nothing was (empty lines are not worth a line)."""
    st.settle()
    unit = "row" if st.path.startswith(HF_PREFIX) or st.path.endswith(".parquet") else "line"
    parts = [st.header] if st.header else []
    if n := st.skipped.get("too_long", 0):
        parts.append(f"{_count(n, unit)} skipped (over data.max_chars={data.max_chars}; "
                     "data.long_lines: truncate keeps it)")
    if n := st.skipped.get("truncated (kept)", 0):
        parts.append(f"{_count(n, unit)} truncated to data.max_chars={data.max_chars} "
                     "(data.long_lines: truncate)")
    if n := st.skipped.get(INVALID, 0):
        first = "; ".join(m.split("; ")[0] for _, m in st.examples[:MAX_EXAMPLES])  # no advice
        more = f"; {n - len(st.examples[:MAX_EXAMPLES]):,} more" \
            if n > len(st.examples[:MAX_EXAMPLES]) else ""
        parts.append(f"{_count(n, 'bad ' + unit)} skipped (data.on_error: skip): {first}{more}")
    if n := st.dropped.get("duplicate", 0):
        parts.append(f"{_count(n, 'duplicate ' + unit)} dropped (the first occurrence is kept)")
    if n := st.dropped.get("heldout_overlap", 0):
        parts.append(f"{_count(n, unit)} dropped: the same as a valid/test sentence")
    return f"data: {st.path}: {', '.join(parts)}" if parts else None


def log_inputs(stats: list[InputStats], data: DataConfig) -> None:
    """``input_summary`` of each file in the log (both executors call this)."""
    for st in stats:
        line = input_summary(st, data)
        if line:
            log.info(line)


def builtin_path(name: str) -> Path:
    p = Path(str(resources.files("translate_synth") / "data" / name))
    if not p.is_file():
        raise UserError(f"{BUILTIN_PREFIX}{name}: no such built-in data file")
    return p


def resolve(f: DataFile) -> tuple[str, Path | None]:
    """(format, local path or None for hf:)."""
    if f.path.startswith(HF_PREFIX) or f.format == "hf":
        return "hf", None
    path = builtin_path(f.path[len(BUILTIN_PREFIX):]) if f.path.startswith(BUILTIN_PREFIX) \
        else Path(f.path)
    fmt = f.format
    if fmt == "auto":
        suffixes = [s for s in path.suffixes if s != ".gz"]
        fmt = FORMATS_BY_SUFFIX.get(suffixes[-1].lower() if suffixes else "", "text")
    return fmt, path



def _records(f: DataFile, keys: list[str], raw: bytes | None = None, ctx: dict | None = None):
    fmt, path = resolve(f)
    check_options(f, fmt, path or f.path)
    if path is not None and raw is None:
        check_file(path)
    return read_records(f, fmt, path, keys, raw, ctx)


def clean_fields(fields: list[str], data: DataConfig) -> tuple[list[str] | None, str | None]:
    """(cleaned texts or None when the record is skipped, the reason it is counted under)."""
    texts = [clean(t) for t in fields]
    if not all(texts):
        return None, "empty"
    if any(len(t) > data.max_chars for t in texts):
        if data.long_lines == "skip":
            return None, "too_long"
        return [t[: data.max_chars].rstrip() for t in texts], "truncated (kept)"
    return texts, None


def clean_records(f: DataFile, keys: list[str], data: DataConfig, raw: bytes | None = None,
                  ctx: dict | None = None):
    """(record number, cleaned texts or None, skip reason or None) for the first ``data.limit``
    records of one input; ``raw``: the file's bytes when an executor has read them already;
    ``ctx``: ``read_context`` (the run's language names, the input's config entry).

    A bad record fails (``data.on_error: fail``) or is skipped with the reason ``invalid``; the
    first few carry their line and message (``invalid<TAB>line<TAB>message``: a plain string,
    so an executor can count reasons in a table; ``InputStats.settle`` folds them). A header row
    is skipped as ``header<TAB>note``. An input with no usable record is an error."""
    bad, kept, why, k = 0, 0, Counter(), 0
    for n, fields in _records(f, keys, raw, ctx):
        if isinstance(fields, Header):
            why[HEADER] += 1
            yield n, None, f"{HEADER}\t{fields.note}"
            continue
        if data.limit is not None and k >= data.limit:
            break
        k += 1
        if isinstance(fields, RowProblem):
            if data.on_error == "fail":
                raise UserError(f"{fields.message}; {SKIP_HINT}")
            bad += 1
            why[INVALID] += 1
            msg = " ".join(fields.message.split())
            yield n, None, f"{INVALID}\t{n}\t{msg}" if bad <= MAX_EXAMPLES else INVALID
            continue
        texts, reason = clean_fields(fields, data)
        if texts is None:
            why[reason] += 1
        else:
            kept += 1
        yield n, texts, reason
    if not kept:
        raise no_usable(f, why, k, data)


def no_usable(f: DataFile, why: Counter, k: int, data: DataConfig) -> UserError:
    """The error for an input with no usable record, saying what its records were."""
    fmt, path = resolve(f)
    u = "row" if fmt in ("hf", "parquet") else "line"
    what = {"empty": lambda c: _count(c, f"blank {u}"),
            "too_long": lambda c: f"{_count(c, u)} over data.max_chars={data.max_chars}",
            INVALID: lambda c: f"{_count(c, 'bad ' + u)} skipped by data.on_error: skip",
            HEADER: lambda c: "a header line"}
    got = ", ".join(what[r](c) for r, c in why.items() if c and r in what) or "no text at all"
    cut = f" in the first {_count(k, u)} (data.limit)" if data.limit and k >= data.limit else ""
    return UserError(f"{f.path if path is None else path}: no usable {u}{cut}"
                     + f" ({got})"
                     + "; give a file with text in it, or remove it from the inputs")


def read_context(cfg, kind: str, i: int) -> dict:
    """What a reader needs to know of the run: its languages' names (a header row may use them)
    and the config entry of the input (``data.parallel.0``: errors say how to set its keys)."""
    return {"names": {cfg.lang: cfg.name or "", cfg.source_lang: ""}, "entry": f"data.{kind}.{i}"}


def input_keys(cfg, kind: str) -> list[str]:
    return {"parallel": [cfg.source_lang, cfg.lang], "source_mono": [cfg.source_lang],
            "target_mono": [cfg.lang]}[kind]


def check_inputs(cfg) -> None:
    """Every input read up to its first usable record: format options, layout (columns,
    header), encoding and 'no usable line' fail here, before any model is loaded or called."""
    for kind in DATA_LISTS:
        for i, f in enumerate(getattr(cfg.data, kind)):
            for _, texts, _ in clean_records(f, input_keys(cfg, kind), cfg.data,
                                             ctx=read_context(cfg, kind, i)):
                if texts is not None:
                    break


def _clean_stream(f: DataFile, keys: list[str], data: DataConfig, stats: InputStats,
                  ctx: dict | None = None):
    for _, texts, reason in clean_records(f, keys, data, ctx=ctx):
        stats.read += 1
        if reason:
            stats.skipped[reason] += 1
        if texts is None:
            continue
        stats.kept += 1
        yield texts


def read_parallel(f: DataFile, src: str, tgt: str, data: DataConfig,
                  stats: InputStats, ctx: dict | None = None) -> Iterator[tuple[str, str]]:
    for s, t in _clean_stream(f, [src, tgt], data, stats, ctx):
        yield s, t


def read_mono(f: DataFile, lang: str, data: DataConfig, stats: InputStats,
              ctx: dict | None = None) -> Iterator[str]:
    for (t,) in _clean_stream(f, [lang], data, stats, ctx):
        yield t

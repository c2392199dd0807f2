"""Readers: text, TSV, JSONL, Parquet and `datasets` inputs -> a stream of cleaned texts.

Each reader yields raw fields per record, or a ``RowProblem`` for a record it cannot use (too few
columns, not JSON, a missing key, not UTF-8); ``read_parallel``/``read_mono`` clean them, skip
empty and over-long lines with a count, honour ``--limit``, and turn every problem with a file into
a one-line ``UserError`` that names the file, the line and what to do (a ``RowProblem`` is skipped
and counted instead under ``data.on_error: skip``). ``input_summary`` is the one stderr line per
file for whatever was skipped, truncated or dropped. Nothing is read whole.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Iterator

from translate_synth import hf_input, layout
from translate_synth.config import BUILTIN_PREFIX, DATA_LISTS, HF_PREFIX, DataConfig, DataFile
from translate_synth.errors import UserError
from translate_synth.layout import tsv_fields
from translate_synth.text import clean

FORMATS_BY_SUFFIX = {".txt": "text", ".text": "text", ".tsv": "tsv", ".jsonl": "jsonl",
                     ".json": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
INVALID = "invalid"  # the skip reason of bad rows under data.on_error: skip
HEADER = "header"    # the skip reason of a header row (``header<TAB>note`` until settled)
MAX_EXAMPLES = 3     # bad rows per file named on stderr
HEAD = 4096          # bytes sniffed for UTF-16/32 and binary files
SKIP_HINT = "or skip such rows: --set data.on_error=skip"


@dataclass(frozen=True)
class RowProblem:
    """A record that cannot be used; ``message`` names the file and line. ``data.on_error``
    decides: ``fail`` raises it as a UserError, ``skip`` counts it."""
    message: str


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


def log_inputs(log, stats: list[InputStats], data: DataConfig) -> None:
    """``input_summary`` of each file through the run's log (both executors call this)."""
    for st in stats:
        line = input_summary(st, data)
        if line:
            log(line)


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


def _check_file(path: Path) -> None:
    if not path.exists():
        raise UserError(f"{path}: no such file; check the path in data.* or on the command line")
    if path.is_dir():
        raise UserError(f"{path}: is a directory; give a file (one per --parallel/--*-mono flag)")
    if path.stat().st_size == 0:
        raise UserError(f"{path}: the file is empty; remove it from the inputs or fill it")


def _open(path: Path, raw: bytes | None):
    """A binary stream of the file's (decompressed) bytes: from disk, or from ``raw`` (the bytes
    an executor such as Ray already read). Gzip is recognised by its magic bytes, as on Ray."""
    if raw is None:
        _check_file(path)
        with open(path, "rb") as fh:
            magic = fh.read(2)
        return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")
    if not raw:
        raise UserError(f"{path}: the file is empty; remove it from the inputs or fill it")
    if raw[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=io.BytesIO(raw))
    return io.BytesIO(raw)


_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32", "little-endian"),
         (b"\x00\x00\xfe\xff", "UTF-32", "big-endian"),
         (b"\xff\xfe", "UTF-16", "little-endian"), (b"\xfe\xff", "UTF-16", "big-endian"))


def wide_encoding(head: bytes) -> tuple[str, str] | None:
    """(iconv encoding name, how it shows) when the first bytes of a file are UTF-16 or UTF-32:
    a byte-order mark, or NUL bytes in every other byte (UTF-16) or three of every four (UTF-32)
    as Latin-script text has them; None otherwise."""
    for bom, enc, order in _BOMS:
        if head.startswith(bom):
            if bom == b"\xff\xfe\x00\x00":  # or a UTF-16 BOM and U+0000: UTF-32 must decode
                try:
                    head[: len(head) // 4 * 4].decode("utf-32")
                except UnicodeDecodeError:
                    continue
            return enc, f"{order}, with a byte-order mark"
    if b"\x00" not in head:
        return None
    q = len(head) // 4 * 4
    if q >= 8:
        z = [head[i:q:4].count(0) * 4 / q for i in range(4)]
        if z[2] > 0.9 and z[3] > 0.9 and z[0] < 0.5:
            return "UTF-32LE", "NUL bytes in three of every four bytes"
        if z[0] > 0.9 and z[1] > 0.9 and z[3] < 0.5:
            return "UTF-32BE", "NUL bytes in three of every four bytes"
    h = len(head) // 2 * 2
    if h >= 4:
        even, odd = head[0:h:2].count(0) * 2 / h, head[1:h:2].count(0) * 2 / h
        if odd > 0.5 and even < 0.1:
            return "UTF-16LE", "NUL bytes in every other byte"
        if even > 0.5 and odd < 0.1:
            return "UTF-16BE", "NUL bytes in every other byte"
    return None


def _check_head(path: Path, head: bytes) -> None:
    """Whole-file problems seen in the first bytes: UTF-16/32 text and binary data."""
    wide = wide_encoding(head)
    if wide:
        enc, how = wide
        name = path.name[:-3] if path.name.endswith(".gz") else path.name
        stem, dot, ext = name.rpartition(".")
        out = f"{stem}.utf8.{ext}" if dot and stem else f"{name}.utf8"
        src = f"zcat {path.name} | iconv -f {enc} -t UTF-8" if name != path.name \
            else f"iconv -f {enc} -t UTF-8 {path.name}"
        raise UserError(f"{path}: this is {enc[:6]} text ({how}), not UTF-8; convert "
                        f"it, e.g. `{src} > {out}`, and give {out}")
    if b"\x00" in head and _binary(head):
        n = head[: head.index(b"\x00")].count(b"\n") + 1
        raise UserError(f"{path}:{n}: NUL byte: this looks like a binary file, not text; "
                        "give a UTF-8 text, TSV, JSONL or Parquet file")


def _binary(head: bytes) -> bool:
    """NUL bytes in over 1 % of the first bytes, or bytes that are not UTF-8: binary data (a
    stray NUL in UTF-8 text is a bad line instead, which ``data.on_error: skip`` can skip)."""
    if head.count(0) * 100 > len(head):
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start < len(head) - 3  # not a character cut at the end of the sample
    return False


CHUNK = 1 << 20  # bytes read at a time


def _raw_lines(fh, chunk_size: int = CHUNK) -> Iterator[bytes]:
    """The lines of a binary stream without their ends: LF, CRLF and a lone CR (old Mac files)
    each end a line, as Python's universal newlines do; read a chunk at a time."""
    held: list[bytes] = []
    while chunk := fh.read(chunk_size):
        if b"\n" not in chunk and b"\r" not in chunk:
            held.append(chunk)
            continue
        buf = b"".join(held) + chunk if held else chunk
        parts = buf.splitlines()
        # the last line may go on (no end yet), or end in a CR whose LF is in the next chunk
        held = [] if buf.endswith(b"\n") else [parts.pop() + b"\r" * buf.endswith(b"\r")]
        yield from parts
    if held:
        yield from b"".join(held).splitlines()


def _lines(path: Path, raw: bytes | None = None) -> Iterator[tuple[int, str | RowProblem]]:
    """(line number, decoded line) with BOM and line end removed, or a RowProblem for a line that
    is not UTF-8 text; UTF-16/32, binary and unreadable compressed files are errors."""
    with _open(path, raw) as fh:
        try:
            _check_head(path, fh.read(HEAD))
            fh.seek(0)
            for n, b in enumerate(_raw_lines(fh), 1):
                if b"\x00" in b:
                    yield n, RowProblem(f"{path}:{n}: NUL byte in the line: binary data, not "
                                        "text; give a UTF-8 text, TSV, JSONL or Parquet file")
                    continue
                try:
                    line = b.decode("utf-8")
                except UnicodeDecodeError as e:
                    yield n, RowProblem(
                        f"{path}:{n}: not UTF-8 (byte 0x{b[e.start]:02x} at column {e.start + 1}); "
                        f"convert it, e.g. `iconv -f latin1 -t utf-8 {path.name}`")
                    continue
                yield n, line.lstrip("\ufeff") if n == 1 else line
        except (EOFError, zlib.error, gzip.BadGzipFile) as e:
            raise UserError(f"{path}: cannot decompress it ({e}); check that the .gz file is "
                            "complete, or give it uncompressed") from None


@dataclass(frozen=True)
class Header:
    """A header row: read as column names, never as data; ``note`` says so on stderr."""
    note: str


def _field_records(path: Path, f: DataFile, keys: list[str], raw, ctx: dict, tsv: bool):
    """Text or TSV lines -> the fields of each record, in key order (``layout.decide``: the
    first non-blank line says which columns, and whether it is a header)."""
    width = len(keys)
    if not tsv and width != 1:
        raise UserError(f"{path}: plain text has one sentence a line, but parallel data needs two "
                        "sides; use a TSV (source<TAB>target) or JSONL file")
    lay = None  # blank and bad lines before the first line with text need no layout
    for n, line in _lines(path, raw):
        if lay is None and not isinstance(line, RowProblem) and line.strip():
            lay = layout.decide(path, keys, tsv_fields(line) if tsv else [line], n,
                                columns=f.columns, header=f.header,
                                names=ctx.get("names"), entry=ctx.get("entry"))
            if lay.header == n:
                yield n, Header(lay.note)
                continue
        yield _fields(path, n, line, lay, width, tsv)


def _fields(path: Path, n: int, line, lay, width: int, tsv: bool):
    if isinstance(line, RowProblem):
        return n, line
    if not line.strip():
        return n, [""] * width
    if not tsv:
        return n, [line]
    parts = line.split("\t")
    need = max(lay.cols) + 1
    if len(parts) < need:
        return n, RowProblem(f"{path}:{n}: {len(parts)} tab-separated column(s), expected at "
                             f"least {need}; fix the row or set `columns:` for this file")
    if lay.width and len(parts) > lay.width and any(p.strip() for p in parts[lay.width:]):
        return n, RowProblem(f"{path}:{n}: {len(tsv_fields(line))} tab-separated columns, the file "
                             f"has {lay.width} (a tab inside a sentence?); fix the row or set "
                             "`columns:` for this file")
    return n, [parts[c] for c in lay.cols]


def _pick(rec: dict, keys: list[str], where: str) -> list[str]:
    tr = rec.get("translation")
    out = []
    for k in keys:
        if k in rec:
            v = rec[k]
        elif isinstance(tr, dict) and k in tr:
            v = tr[k]
        else:
            have = sorted(map(str, set(rec) | (set(tr) if isinstance(tr, dict) else set())))
            names = ", ".join(repr(h[:40]) for h in have[:10]) + (", ..." if len(have) > 10 else "")
            raise UserError(f"{where}: no field '{k}' (has {names or 'none'}); "
                            "set `keys:` for this file")
        if v is None:
            v = ""
        if not isinstance(v, str):
            raise UserError(f"{where}: field '{k}' is {type(v).__name__}, not text")
        try:
            v.encode("utf-8")
        except UnicodeEncodeError:
            raise UserError(f"{where}: field '{k}' has a lone surrogate (an unpaired \\u escape "
                            "such as \\ud800), not text") from None
        out.append(v)
    return out


def _jsonl_records(path: Path, f: DataFile, keys: list[str], raw=None):
    for n, line in _lines(path, raw):
        yield n, _jsonl_record(path, n, line, keys)


def _jsonl_record(path: Path, n: int, line, keys: list[str]):
    if isinstance(line, RowProblem):
        return line
    if not line.strip():
        return [""] * len(keys)
    try:
        rec = json.loads(line)
    except RecursionError:
        return RowProblem(f"{path}:{n}: JSON nested too deeply to read; each line must be one "
                          "JSON object of texts")
    except json.JSONDecodeError as e:
        return RowProblem(f"{path}:{n}: not valid JSON ({e.msg} at column {e.colno}); each line "
                          "must be one JSON object")
    except ValueError as e:  # e.g. a number over Python's 4300-digit limit
        return RowProblem(f"{path}:{n}: not readable as JSON ({str(e).split(':')[0]}); each line "
                          "must be one JSON object of texts")
    if not isinstance(rec, dict):
        kind = {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
            type(rec), "number")
        return RowProblem(f"{path}:{n}: a JSON {kind}, expected an object")
    try:
        return _pick(rec, keys, f"{path}:{n}")
    except UserError as e:
        return RowProblem(str(e))


def _parquet_records(path: Path, f: DataFile, keys: list[str], raw=None):
    import pyarrow.parquet as pq

    if raw is None:
        _check_file(path)
    try:
        pf = pq.ParquetFile(path if raw is None else io.BytesIO(raw))
    except Exception as e:  # pyarrow raises several types for a bad file
        raise UserError(f"{path}: not a readable Parquet file ({str(e).splitlines()[0]})") from None
    names = pf.schema_arrow.names
    cols = [k for k in keys if k in names]
    if len(cols) != len(keys) and "translation" in names:
        cols = ["translation"]
    elif len(cols) != len(keys):
        missing = [k for k in keys if k not in names]
        raise UserError(f"{path}: no column {', '.join(map(repr, missing))} (has "
                        f"{', '.join(names)}); set `keys:` for this file")
    n = 0
    batches = pf.iter_batches(batch_size=4096, columns=cols)
    while True:
        try:
            batch = next(batches, None)
        except Exception as e:  # a damaged row group
            raise UserError(f"{path}: row {n + 1}: not readable Parquet "
                            f"({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
        if batch is None:
            return
        for rec in batch.to_pylist():
            n += 1
            try:
                got = _pick(rec, keys, f"{path}: row {n}")
            except UserError as e:
                got = RowProblem(str(e))
            yield n, got


def _hf_records(f: DataFile, keys: list[str]):
    spec, it = hf_input.rows(f)
    for n, rec in enumerate(it, 1):
        yield n, _pick(rec, keys, f"hf:{spec}: row {n}")


_FOR = {"columns": "TSV files", "keys": "JSONL, Parquet and hf: inputs",
        "header": "text and TSV files"}


def check_options(f: DataFile, fmt: str, where) -> None:
    """``columns:``, ``keys:`` and ``header:`` are for some formats only: never ignored."""
    given = {"columns": f.columns is not None and fmt != "tsv",
             "keys": f.keys is not None and fmt in ("text", "tsv"),
             "header": f.header is not None and f.header != "auto" and fmt not in ("text", "tsv")}
    for opt, bad in given.items():
        if bad:
            other = {"tsv": "pick TSV columns with `columns:` (0-based numbers, or names from a "
                            "header row)",
                     "text": "a text file has one field: remove it"}.get(fmt, "use `keys:`")
            raise UserError(f"{where}: `{opt}:` is for {_FOR[opt]}, and this input is read as "
                            f"{fmt}; " + (other if opt != "header" else "remove it"))


def _records(f: DataFile, keys: list[str], raw: bytes | None = None, ctx: dict | None = None):
    fmt, path = resolve(f)
    check_options(f, fmt, path or f.path)
    if path is not None and raw is None:
        _check_file(path)
    if fmt in ("text", "tsv"):
        return _field_records(path, f, keys, raw, ctx or {}, fmt == "tsv")
    keys = f.keys or keys
    if fmt == "jsonl":
        return _jsonl_records(path, f, keys, raw)
    if fmt == "parquet":
        return _parquet_records(path, f, keys, raw)
    return _hf_records(f, keys)


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

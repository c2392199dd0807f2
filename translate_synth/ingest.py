"""Readers: text, TSV, JSONL, Parquet and `datasets` inputs -> a stream of cleaned texts.

Each reader yields raw fields per record; ``read_parallel``/``read_mono`` clean them, skip empty
and over-long lines with a count, honour ``--limit``, and turn every problem with a file into a
one-line ``UserError`` that names the file, the line and what to do. Nothing is read whole.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Iterator

from translate_synth.config import BUILTIN_PREFIX, HF_PREFIX, DataConfig, DataFile
from translate_synth.errors import UserError
from translate_synth.text import clean

FORMATS_BY_SUFFIX = {".txt": "text", ".text": "text", ".tsv": "tsv", ".jsonl": "jsonl",
                     ".json": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


@dataclass
class InputStats:
    path: str
    kind: str
    read: int = 0
    kept: int = 0
    skipped: Counter = field(default_factory=Counter)

    def as_dict(self):
        return {"path": self.path, "kind": self.kind, "read": self.read, "kept": self.kept,
                "skipped": dict(sorted(self.skipped.items()))}


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


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _check_file(path: Path) -> None:
    if not path.exists():
        raise UserError(f"{path}: no such file; check the path in data.* or on the command line")
    if path.is_dir():
        raise UserError(f"{path}: is a directory; give a file (one per --parallel/--*-mono flag)")
    if path.stat().st_size == 0:
        raise UserError(f"{path}: the file is empty; remove it from the inputs or fill it")


def _open(path: Path, raw: bytes | None):
    """A binary stream of the file's (decompressed) bytes: from disk, or from ``raw`` (the bytes
    an executor such as Ray already read, compressed or not)."""
    if raw is None:
        _check_file(path)
        return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")
    if not raw:
        raise UserError(f"{path}: the file is empty; remove it from the inputs or fill it")
    if raw[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=io.BytesIO(raw))
    return io.BytesIO(raw)


def _lines(path: Path, raw: bytes | None = None) -> Iterator[tuple[int, str]]:
    """(line number, decoded line) with BOM and CR/LF removed; binary and non-UTF-8 are errors."""
    with _open(path, raw) as fh:
        for n, raw in enumerate(fh, 1):
            if b"\x00" in raw:
                raise UserError(f"{path}:{n}: NUL byte: this looks like a binary file, not text; "
                                "give a UTF-8 text, TSV, JSONL or Parquet file")
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise UserError(
                    f"{path}:{n}: not UTF-8 (byte 0x{raw[e.start]:02x} at column {e.start + 1}); "
                    f"convert it, e.g. `iconv -f latin1 -t utf-8 {path.name}`") from None
            if n == 1:
                line = line.lstrip("\ufeff")
            yield n, line.rstrip("\r\n")


def _text_records(path: Path, f: DataFile, width: int, raw=None):
    if width != 1:
        raise UserError(f"{path}: plain text has one sentence a line, but parallel data needs two "
                        "sides; use a TSV (source<TAB>target) or JSONL file")
    for n, line in _lines(path, raw):
        yield n, [line]


def _tsv_records(path: Path, f: DataFile, width: int, raw=None):
    cols = f.columns or list(range(width))
    if len(cols) != width:
        raise UserError(f"{path}: columns {cols} name {len(cols)} column(s), {width} needed")
    need = max(cols) + 1
    for n, line in _lines(path, raw):
        if f.header and n == 1:
            continue
        if not line.strip():
            yield n, [""] * width
            continue
        parts = line.split("\t")
        if len(parts) < need:
            raise UserError(f"{path}:{n}: {len(parts)} tab-separated column(s), expected at least "
                            f"{need}; fix the row or set `columns:` for this file")
        yield n, [parts[c] for c in cols]


def _pick(rec: dict, keys: list[str], where: str) -> list[str]:
    tr = rec.get("translation")
    out = []
    for k in keys:
        if k in rec:
            v = rec[k]
        elif isinstance(tr, dict) and k in tr:
            v = tr[k]
        else:
            have = sorted(set(rec) | (set(tr) if isinstance(tr, dict) else set()))
            raise UserError(f"{where}: no field '{k}' (has {', '.join(map(str, have)) or 'none'}); "
                            "set `keys:` for this file")
        if v is None:
            v = ""
        if not isinstance(v, str):
            raise UserError(f"{where}: field '{k}' is {type(v).__name__}, not text")
        out.append(v)
    return out


def _jsonl_records(path: Path, f: DataFile, keys: list[str], raw=None):
    for n, line in _lines(path, raw):
        if not line.strip():
            yield n, [""] * len(keys)
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise UserError(f"{path}:{n}: not valid JSON ({e.msg} at column {e.colno}); "
                            "each line must be one JSON object") from None
        if not isinstance(rec, dict):
            raise UserError(f"{path}:{n}: a JSON {type(rec).__name__}, expected an object")
        yield n, _pick(rec, keys, f"{path}:{n}")


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
    for batch in pf.iter_batches(batch_size=4096, columns=cols):
        for rec in batch.to_pylist():
            n += 1
            yield n, _pick(rec, keys, f"{path}: row {n}")


def hf_spec(f: DataFile) -> tuple[str, str, str | None, str]:
    """``hf:NAME[:CONFIG[:SPLIT]]`` -> (spec, name, config or None, split: default train)."""
    spec = f.path[len(HF_PREFIX):] if f.path.startswith(HF_PREFIX) else f.path
    parts = spec.split(":")
    name = parts[0]
    config = parts[1] if len(parts) > 1 and parts[1] else None
    split = parts[2] if len(parts) > 2 and parts[2] else "train"
    return spec, name, config, split


def _hf_records(f: DataFile, keys: list[str]):
    spec, name, config, split = hf_spec(f)
    try:
        import datasets

        datasets.logging.set_verbosity_error()
        datasets.disable_progress_bars()
        ds = datasets.load_dataset(name, config, split=split, streaming=True)
        it = iter(ds)
        first = next(it, None)
    except Exception as e:
        raise UserError(f"hf:{spec}: cannot load the dataset ({type(e).__name__}: "
                        f"{str(e).splitlines()[0] if str(e) else ''}); if it is on the hub, run once "
                        "online to cache it, or give a local path or file") from None
    if first is None:
        raise UserError(f"hf:{spec}: the dataset split '{split}' is empty")
    yield 1, _pick(first, keys, f"hf:{spec}: row 1")
    for n, rec in enumerate(it, 2):
        yield n, _pick(rec, keys, f"hf:{spec}: row {n}")


def _records(f: DataFile, keys: list[str], raw: bytes | None = None):
    fmt, path = resolve(f)
    if path is not None and raw is None:
        _check_file(path)
    if fmt == "text":
        return _text_records(path, f, len(keys), raw)
    if fmt == "tsv":
        return _tsv_records(path, f, len(keys), raw)
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
        return [t[: data.max_chars] for t in texts], "truncated (kept)"
    return texts, None


def clean_records(f: DataFile, keys: list[str], data: DataConfig, raw: bytes | None = None):
    """(record number, cleaned texts or None, skip reason or None) for the first ``data.limit``
    records of one input; ``raw``: the file's bytes when an executor has read them already."""
    for k, (n, fields) in enumerate(_records(f, keys, raw)):
        if data.limit is not None and k >= data.limit:
            break
        texts, reason = clean_fields(fields, data)
        yield n, texts, reason


def _clean_stream(f: DataFile, keys: list[str], data: DataConfig, stats: InputStats):
    for _, texts, reason in clean_records(f, keys, data):
        stats.read += 1
        if reason:
            stats.skipped[reason] += 1
        if texts is None:
            continue
        stats.kept += 1
        yield texts


def read_parallel(f: DataFile, src: str, tgt: str, data: DataConfig,
                  stats: InputStats) -> Iterator[tuple[str, str]]:
    for s, t in _clean_stream(f, [src, tgt], data, stats):
        yield s, t


def read_mono(f: DataFile, lang: str, data: DataConfig, stats: InputStats) -> Iterator[str]:
    for (t,) in _clean_stream(f, [lang], data, stats):
        yield t

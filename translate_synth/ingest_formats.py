"""The readers per format: text and TSV lines (layout: columns, header row), JSONL, Parquet and
``hf:`` datasets -> the fields of each record in key order, or a ``RowProblem`` for a record that
cannot be used. ``ingest`` cleans, counts and limits what they yield."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

from translate_synth import hf_input, layout
from translate_synth.config import DataFile
from translate_synth.errors import UserError
from translate_synth.ingest_lines import RowProblem, check_file, read_lines
from translate_synth.layout import tsv_fields


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
    for n, line in read_lines(path, raw):
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


def pick_fields(rec: dict, keys: list[str], where: str) -> list[str]:
    """The texts of ``keys`` in a record (top level or its ``translation`` dict); a UserError
    naming ``where`` for a missing key or a value that is not text."""
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
    for n, line in read_lines(path, raw):
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
        return pick_fields(rec, keys, f"{path}:{n}")
    except UserError as e:
        return RowProblem(str(e))


def _parquet_records(path: Path, f: DataFile, keys: list[str], raw=None):
    import pyarrow.parquet as pq

    if raw is None:
        check_file(path)
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
                got = pick_fields(rec, keys, f"{path}: row {n}")
            except UserError as e:
                got = RowProblem(str(e))
            yield n, got


def _hf_records(f: DataFile, keys: list[str]):
    spec, it = hf_input.rows(f)
    for n, rec in enumerate(it, 1):
        yield n, pick_fields(rec, keys, f"hf:{spec}: row {n}")


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


def read_records(f: DataFile, fmt: str, path: Path | None, keys: list[str],
                 raw: bytes | None = None, ctx: dict | None = None):
    """(record number, fields, a ``RowProblem`` or a ``Header``) of one input read as ``fmt``
    (``ingest.resolve``); ``path`` is None for ``hf:`` inputs."""
    if fmt in ("text", "tsv"):
        return _field_records(path, f, keys, raw, ctx or {}, fmt == "tsv")
    keys = f.keys or keys
    if fmt == "jsonl":
        return _jsonl_records(path, f, keys, raw)
    if fmt == "parquet":
        return _parquet_records(path, f, keys, raw)
    return _hf_records(f, keys)

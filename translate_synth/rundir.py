"""Reading a finished run directory (OUT/<lang>): what `train`, `evaluate` and `generations` start
from. One place for the checks and their one-line errors, and the one JSONL reader (the stages
read their own work files with it too)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from translate_synth.errors import UserError


def read_manifest(run_dir: Path) -> dict:
    """The run's manifest and config, or one UserError line."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError(f"{run_dir}: no such run directory; give OUT/<lang> of a finished "
                        "`translate-synth run`")
    man_path = run_dir / "manifest.json"
    if not man_path.is_file():
        raise UserError(f"{run_dir}: not a finished run (no manifest.json); give OUT/<lang> of a "
                        "finished `translate-synth run`")
    try:
        manifest = json.loads(man_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{man_path}: not valid JSON ({e}); rerun `translate-synth run`") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("config"), dict):
        raise UserError(f"{man_path}: no resolved config in the manifest; rerun "
                        "`translate-synth run`")
    return manifest


def check_out_outside(out: Path, run_dir: Path, command: str) -> None:
    """``--out`` of a command that only reads a run: never the run directory or inside it, and
    a directory if it exists (one UserError line)."""
    o, r = Path(out).resolve(), Path(run_dir).resolve()
    if o == r or r in o.parents:
        raise UserError(f"--out {out}: inside the run directory {run_dir}; {command} never "
                        "writes there: give another directory")
    if Path(out).exists() and not Path(out).is_dir():
        raise UserError(f"--out {out}: exists and is not a directory")


def read_result(d: Path, name: str, kind: str, command: str, key: str) -> dict:
    """A result directory's JSON (``eval.json``, ``ablate.json``) written by ``command``, checked
    by its ``kind``, with the directory under ``key``; or one UserError line."""
    d = Path(d)
    try:
        doc = json.loads((d / name).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise UserError(f"{d / name}: not readable JSON ({e}); rerun `translate-synth "
                        f"{command}`") from None
    if not isinstance(doc, dict) or doc.get("kind") != kind:
        what = kind.split()[-1]  # "translate-synth evaluation" -> evaluation
        raise UserError(f"{d / name}: not {'an' if what[0] in 'aeiou' else 'a'} {what} written "
                        f"by `translate-synth {command}`")
    return {**doc, key: str(d)}


DAMAGED = "the run directory is damaged: rerun `translate-synth run`"


def numbered_jsonl(path: Path, errors: str = "raise") -> Iterator[tuple[int, dict]]:
    """(line number, row) of each non-blank line of a JSONL file, lazily. A line that is not
    JSON: ``errors="raise"`` raises json's own error (a work file the tool is writing);
    ``"reason"`` and ``"detail"`` one UserError line (``PATH:LINE: not JSON (...); the run
    directory is damaged...``) with json's reason alone, or with its position too."""
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                if errors == "raise":
                    raise
                why = e.msg if errors == "reason" and isinstance(e, json.JSONDecodeError) else e
                raise UserError(f"{path}:{n}: not JSON ({why}); {DAMAGED}") from None
            yield n, row


def read_jsonl(path: Path, errors: str = "raise") -> Iterator[dict]:
    """The rows of a JSONL file, lazily, blank lines skipped (``errors``: ``numbered_jsonl``)."""
    for _, row in numbered_jsonl(path, errors):
        yield row


def read_set(run_dir: Path, name: str) -> list[dict] | None:
    """Rows of the run's ``<name>.jsonl``, or None when the run has no such file."""
    path = Path(run_dir) / f"{name}.jsonl"
    return list(read_jsonl(path, "reason")) if path.is_file() else None


def read_pairs(path: Path) -> list[dict]:
    """The rows of a run's split file (``train.jsonl``, ``valid.jsonl``...), each with string
    ``source`` and ``target``; a missing file, a line that is not JSON or a row without the two
    fields is one UserError line."""
    rows = []
    try:
        lines = numbered_jsonl(path, "detail")
        for n, r in lines:
            if not isinstance(r, dict) or not isinstance(r.get("source"), str) or \
                    not isinstance(r.get("target"), str):
                raise UserError(f"{path}:{n}: a row needs string fields source and target "
                                "(README, Output format)")
            rows.append(r)
    except FileNotFoundError:
        raise UserError(f"{path}: missing; the run directory is incomplete: rerun `translate-synth "
                        "run` (or `refilter`) to write it") from None
    return rows


# the settings that belong to a model, not to the run: a config derived from a run's for
# another model (train, evaluate, generations) takes them from the run only for its own model
MODEL_SETTINGS = ("revision", "trust_remote_code", "dtype", "ct2_quantization")


def run_model_ids(run_model: dict) -> set:
    """The model ids of a run's ``model:`` section (``id`` and every ``ids`` value)."""
    return {run_model.get("id"), *(run_model.get("ids") or {}).values()} - {None}


def derived_model(run_model: dict, same: bool, **fields) -> dict:
    """The ``model:`` section of a config derived from a run's for another model (train,
    evaluate, generations): the run's section with ``fields`` (backend, id, ids, family...)
    replaced; the model's own settings (``MODEL_SETTINGS``) are the run's only when ``same``
    (the model is the run's own synthesis model), else the defaults, never another model's."""
    return {**{k: v for k, v in run_model.items() if same or k not in MODEL_SETTINGS},
            **fields}

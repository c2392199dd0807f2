"""Reading a finished run directory (OUT/<lang>): what `train`, `evaluate` and `generations` start
from. One place for the checks and their one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

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

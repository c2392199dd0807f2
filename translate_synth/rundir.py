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

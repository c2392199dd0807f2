"""A Config from a YAML file or a mapping: data paths resolved against the config file,
overrides applied, validated, or one UserError line."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from translate_synth.config.messages import format_validation_error, yaml_lines
from translate_synth.config.overrides import Override, apply_overrides
from translate_synth.config.schema import Config
from translate_synth.config.schema_data import BUILTIN_PREFIX, DATA_LISTS, HF_PREFIX
from translate_synth.config.yaml_io import read_yaml, safe_yaml
from translate_synth.errors import UserError


def _resolve_paths(files: list, base: Path) -> list:
    out = []
    for f in files:
        entry = dict(f) if isinstance(f, dict) else {"path": f}
        p = str(entry.get("path", ""))
        if p and not p.startswith((BUILTIN_PREFIX, HF_PREFIX)) and not Path(p).is_absolute():
            entry["path"] = str((base / p).resolve())
        out.append(entry if isinstance(f, dict) else entry["path"])
    return out


def build_config(raw: dict, source: str = "<config>", text: str = "",
                 overrides: list[Override] = (), base_dir: Path | None = None) -> Config:
    """Validate a raw mapping (plus overrides) into a Config, or raise UserError.

    Each override is ``key.path=value`` (from ``--set``), or ``(key.path=value, origin)`` where
    ``origin`` is what the user typed (``--backend bergamott``): errors name it.
    """
    raw = safe_yaml(yaml.safe_dump(raw))  # a deep copy with plain types
    if base_dir is not None:
        for kind in DATA_LISTS:
            files = (raw.get("data") or {}).get(kind)
            if isinstance(files, list):
                raw["data"][kind] = _resolve_paths(files, base_dir)
    applied = apply_overrides(raw, overrides)
    try:
        return Config.model_validate(raw)
    except ValidationError as err:
        raise UserError(format_validation_error(err, source, yaml_lines(text), applied)) from None


def load_config(path: Path, overrides: list[Override] = ()) -> Config:
    raw, text = read_yaml(path)
    return build_config(raw, str(path), text, overrides, base_dir=path.parent)

"""The shipped language configs: lang_configs/ of the checkout, or the copy packaged with the
wheel (translate_synth/lang_configs)."""

from __future__ import annotations

import difflib
from pathlib import Path

from translate_synth.errors import UserError
from translate_synth.langs import canonical

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # translate_synth/ (this file is in config/)


def config_dirs() -> list[Path]:
    """Where shipped language configs live: the checkout's lang_configs/, else the packaged copy."""
    return [d for d in (PACKAGE_DIR.parent / "lang_configs", PACKAGE_DIR / "lang_configs")
            if d.is_dir()]


def find_lang_config(lang: str, config_dir: Path | None = None) -> Path:
    dirs = [config_dir] if config_dir else config_dirs()
    for d in dirs:
        p = Path(d) / f"{lang}.yaml"
        if p.is_file():
            return p
    known = sorted({p.stem for d in dirs for p in Path(d).glob("*.yaml")})
    close = [canonical(lang)] if canonical(lang) in known else \
        difflib.get_close_matches(lang, known, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise UserError(f"no language config for '{lang}': {hint}shipped: {', '.join(known) or 'none'}; "
                    "or pass --config FILE")

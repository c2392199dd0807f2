"""What a model reference (``--model``, ``model.id``, ``model.ids``) names, told without loading
anything: a local directory or a hub id, and the language-code family where that shows.

A reference is a **local path** when it exists, or when it can only be a path:

- it starts with ``/``, ``./``, ``../`` or ``~``, holds a backslash, ends with ``/`` or has more
  than one ``/`` (hub ids are ``NAME`` or ``ORG/NAME``);
- it is ``DIR/NAME`` and ``DIR`` is a directory here (``models/nope`` beside ``models/``).

Anything else is a hub id. A missing path is refused in one line (with the closest entry of
its directory), never looked up on the hub.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

from translate_synth.errors import UserError


def looks_like_path(ref: str) -> bool:
    ref = str(ref)
    if Path(os.path.expanduser(ref)).exists():
        return True
    if ref.startswith(("/", "./", "../", "~")) or ref in (".", "..") or "\\" in ref:
        return True
    if ref.endswith("/") or ref.count("/") > 1:
        return True
    return "/" in ref and Path(ref.split("/", 1)[0]).is_dir()


def missing_path_message(ref: str) -> str:
    """The one line for a path that is missing (or is a file where a directory belongs)."""
    local = Path(os.path.expanduser(ref))
    if local.exists():  # a file, not a directory
        return (f"model path {ref} is not a directory; pass a directory saved with "
                "save_pretrained, or a hub id")
    why, hint = "", ""
    parent = local.parent
    if parent.is_dir():
        names = sorted(p.name for p in parent.iterdir() if p.is_dir())
        close = difflib.get_close_matches(local.name, names, n=1, cutoff=0.5)
        if close:
            hint = f"; did you mean {parent / close[0] if str(parent) != '.' else close[0]}?"
        if "/" in ref and not ref.startswith(("/", "./", "../", "~")):
            why = (f" ({ref.split('/', 1)[0]}/ is a directory here, so this reads as a path, "
                   "not a hub id)")
    return (f"model path {ref} does not exist{why}: pass a directory saved with "
            f"save_pretrained, or a hub id{hint}")


def check_model_path(ref: str) -> None:
    """Refuse a reference that reads as a local path and is no directory."""
    if looks_like_path(ref) and not Path(os.path.expanduser(ref)).is_dir():
        raise UserError(missing_path_message(ref))


def no_model_message(backend: str, src: str, tgt: str) -> str:
    from translate_synth.config import DEFAULT_MODEL

    return (f"no model for {src}-{tgt}: backend {backend} needs one: give --model ID_OR_PATH "
            f"(a hub id such as {DEFAULT_MODEL}, or a local directory), or set model.id (or "
            f"model.ids.{src}-{tgt} and model.ids.{tgt}-{src})")


_NAME_HINTS = (("nllb", "nllb"), ("m2m100", "m2m100"), ("mbart-large-50", "mbart50"),
               ("mbart50", "mbart50"), ("madlad", "madlad"), ("opus-mt", "marian"))


def _read_json(path: Path) -> dict:
    try:
        got = json.loads(path.read_text(encoding="utf-8"))
        return got if isinstance(got, dict) else {}
    except (OSError, ValueError):
        return {}


def guess_family(ref: str) -> str | None:
    """The language-code family of a model, from a local directory's config.json and
    tokenizer_config.json (as the backend detects it once loaded), or from a hub id's name
    (``facebook/nllb-200-distilled-600M`` -> nllb); None when it does not show."""
    local = Path(os.path.expanduser(ref))
    if local.is_dir():
        mtype = _read_json(local / "config.json").get("model_type", "")
        tok = str(_read_json(local / "tokenizer_config.json").get("tokenizer_class", "")).lower()
        if mtype == "m2m_100":
            return "nllb" if "nllb" in tok else "m2m100"
        return {"marian": "marian", "mbart": "mbart50", "t5": "madlad", "mt5": "madlad",
                "umt5": "madlad"}.get(mtype)
    low = ref.lower()
    return next((fam for hint, fam in _NAME_HINTS if hint in low), None)

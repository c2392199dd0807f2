"""One-line validation errors: where (the override that wrote the key, or the file and YAML
line), the key, the problem and a fix."""

from __future__ import annotations

import difflib
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from translate_synth.config.schema import Config
from translate_synth.config.yaml_io import CappedLoader


def yaml_lines(text: str) -> dict[tuple, int]:
    """Map key paths to 1-based YAML line numbers, for error messages."""
    out: dict[tuple, int] = {}
    try:
        loader = CappedLoader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.YAMLError:
        return out

    def walk(node, path):
        if isinstance(node, yaml.MappingNode):
            for k, val in node.value:
                p = path + (k.value,)
                out[p] = k.start_mark.line + 1
                walk(val, p)
        elif isinstance(node, yaml.SequenceNode):
            for i, val in enumerate(node.value):
                out[path + (i,)] = val.start_mark.line + 1
                walk(val, path + (i,))

    if root is not None:
        walk(root, ())
    return out


def _dotted(loc) -> str:
    s = ""
    for part in loc:
        s += f"[{part}]" if isinstance(part, int) else (f".{part}" if s else str(part))
    return s


def _models_in(ann):
    """The pydantic models an annotation holds (``list[str | DataFile]`` -> DataFile)."""
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        yield ann
    for a in getattr(ann, "__args__", ()):
        yield from _models_in(a)


def _fields_at(loc) -> list[str]:
    model: Any = Config
    for part in loc[:-1]:
        if isinstance(part, int) or not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        model = next(_models_in(field.annotation), field.annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


_UNION_TAGS = ("str", "DataFile")


def _clean_loc(loc) -> tuple:
    return tuple(p for p in loc if not (isinstance(p, str) and p in _UNION_TAGS
                                        or str(p).startswith("function-")))


def _relevant(errors: list[dict]) -> list[dict]:
    """Drop the errors of union branches the input cannot be: a mapping given for `path or
    {path, format, ...}` is no string, so 'Input should be a valid string' only hides the real
    problem inside the mapping."""
    keep = [e for e in errors if not (e["type"] == "string_type" and e["loc"][-1:] == ("str",)
                                      and isinstance(e.get("input"), dict))]
    return keep or errors


def _blame(loc: tuple, overrides) -> str | None:
    """The override (``--set KEY=VALUE`` or a flag) that wrote the key an error is about."""
    got = tuple(str(p) for p in loc)
    for path, origin in reversed(list(overrides)):
        n = min(len(path), len(got))
        if n and tuple(str(p) for p in path[:n]) == got[:n]:
            return origin
    return None


def format_validation_error(err: ValidationError, source: str, lines: dict,
                            overrides=()) -> str:
    """One line: where (an override, or the file and line), the key, the problem, a fix.

    ``overrides`` are ``(key path, origin)`` pairs, e.g. ``(("split", "valid"), "--set
    split.valid=abc")`` or ``(("model", "backend"), "--backend bergamott")``: an error about a key
    an override wrote names that override, not a line of the config file.
    """
    errors = _relevant(err.errors())
    e = errors[0]
    loc = _clean_loc(e["loc"])
    key = _dotted(loc) or "(top level)"
    where = _blame(loc, overrides)
    if where is None:
        where = source
        for n in range(len(loc), 0, -1):
            if loc[:n] in lines:
                where = f"{source}:{lines[loc[:n]]}"
                break
    msg = e["msg"].removeprefix("Value error, ")
    hint = ""
    if e["type"] == "extra_forbidden":
        options = _fields_at(loc)
        close = difflib.get_close_matches(str(loc[-1]), options, n=1)
        msg = f"unknown key '{loc[-1]}'"
        hint = f"; did you mean '{close[0]}'?" if close else (
            f"; allowed here: {', '.join(options)}" if options else "; remove it")
    elif e["type"] == "missing":
        msg = "required key is missing"
        hint = f"; add `{loc[-1]}:` to the config"
    elif "input" in e and not isinstance(e["input"], (dict, list)):
        hint = f" (got {e['input']!r})"
    more = len(errors) - 1
    tail = f" [+{more} more problem{'s' if more > 1 else ''}]" if more else ""
    return f"{where}: {key}: {msg}{hint}{tail}"

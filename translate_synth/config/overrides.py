"""``--set KEY=VALUE`` overrides: parsing, filter addressing by name, applying to the raw
mapping before validation."""

from __future__ import annotations

import difflib
from typing import Any, Union

import yaml

from translate_synth.config.schema import DEFAULT_FILTERS
from translate_synth.config.schema_data import DATA_LISTS
from translate_synth.config.yaml_io import YAMLTooLarge, safe_yaml
from translate_synth.errors import UserError
from translate_synth.filters import ALWAYS_LAST, ALWAYS_ON

Override = Union[str, tuple[str, str]]


def parse_override(item: str, origin: str | None = None) -> tuple[list[str], Any]:
    """``key.path=value`` -> (key path, YAML value). ``origin`` names it in errors (default
    ``--set ITEM``; a flag such as ``--limit`` when the CLI made the override)."""
    origin = origin or f"--set {item}"
    if "=" not in item:
        raise UserError(f"{origin}: expected key.path=value, e.g. --set split.valid=200")
    key, _, raw = item.partition("=")
    if not key.strip():
        raise UserError(f"{origin}: the key is empty; write --set key.path=value")
    try:
        value = safe_yaml(raw) if raw.strip() else ""
    except YAMLTooLarge as e:
        raise UserError(f"{origin}: {e.problem}") from None
    except yaml.YAMLError:
        value = raw
    return key.strip().split("."), value


def filter_index(filters: list, key: str, item: str, origin: str | None = None) -> str:
    """The list index (as text) of the filter ``key`` names in ``--set filters.<key>...``.

    ``key`` is an index (``filters.1.min``), a filter's ``name:``, or its type when one filter
    has that type. An always-on filter (``filters.ALWAYS_ON`` and ``ALWAYS_LAST``: duplicate,
    quality...) that the list lacks is appended, so its options can be set
    (``filters.duplicate.mode=exact``; it still runs where it always does). Anything else is a
    one-line error naming the filters.
    """
    origin = origin or f"--set {item}"
    try:
        int(key)
        return key
    except ValueError:
        pass
    def entry_name(f):
        return f.get("name") or f.get("type") if isinstance(f, dict) else None

    named = [i for i, f in enumerate(filters) if entry_name(f) == key]
    if not named:
        named = [i for i, f in enumerate(filters) if isinstance(f, dict) and f.get("type") == key]
    if len(named) == 1:
        return str(named[0])
    if len(named) > 1:
        raise UserError(f"{origin}: {len(named)} filters have type '{key}'; address one by "
                        f"its name ({', '.join(str(entry_name(filters[i])) for i in named)}) "
                        "or index")
    if key in ALWAYS_ON + ALWAYS_LAST:
        filters.append({"type": key})
        return str(len(filters) - 1)
    names = [str(entry_name(f)) for f in filters]
    close = difflib.get_close_matches(key, names + list(ALWAYS_ON + ALWAYS_LAST), n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise UserError(f"{origin}: no filter named '{key}'; {hint}filters: "
                    f"{', '.join(names) or '(none)'}; always on: "
                    f"{', '.join(ALWAYS_ON + ALWAYS_LAST)}; or give an index (filters.0...)")


def apply_override(raw: dict, path: list[str], value: Any, origin: str | None = None) -> None:
    origin = origin or f"--set {'.'.join(path)}"
    node = raw
    for i, part in enumerate(path[:-1]):
        here = ".".join(path[: i + 1])
        if isinstance(node, list):
            try:
                nxt = node[int(part)]
            except (ValueError, IndexError):
                raise UserError(f"{origin}: '{part}' is not an index of the list at "
                                f"{'.'.join(path[:i]) or 'top level'} (it has {len(node)} "
                                "items)") from None
            if isinstance(nxt, str) and i == 2 and path[0] == "data" and path[1] in DATA_LISTS:
                # a data file given as a bare path: its options need the {path: ...} form
                nxt = node[int(part)] = {"path": nxt}
        else:
            nxt = node.get(part)
            if nxt is None:
                nxt = node[part] = {}
        if not isinstance(nxt, (dict, list)):
            raise UserError(f"{origin}: '{here}' is a value ({nxt!r}), not a section: set "
                            f"{here}=VALUE itself")
        node = nxt
    last = path[-1]
    if isinstance(node, list):
        try:
            node[int(last)] = value
        except (ValueError, IndexError):
            raise UserError(f"{origin}: '{last}' is not an index of the list at "
                            f"{'.'.join(path[:-1])} (it has {len(node)} items)") from None
    else:
        node[last] = value


def apply_overrides(raw: dict, overrides: list[Override]) -> list[tuple[tuple, str]]:
    """Apply each override to ``raw`` in order; return ``(key path, origin)`` per override, for
    error messages (see ``format_validation_error``).

    Each override is ``key.path=value`` (from ``--set``), or ``(key.path=value, origin)`` where
    ``origin`` is what the user typed (``--backend bergamott``). ``filters.<key>`` addresses a
    filter by index, name or type (``filter_index``), in the default filters when ``raw`` has none.
    """
    applied = []
    for ov in overrides:
        item, origin = (ov, f"--set {ov}") if isinstance(ov, str) else ov
        path, value = parse_override(item, origin)
        if path[0] == "filters" and len(path) > 1:
            if "filters" not in raw:
                raw["filters"] = [dict(f) for f in DEFAULT_FILTERS]  # index into the defaults
            if isinstance(raw["filters"], list):
                path[1] = filter_index(raw["filters"], path[1], item, origin)
        apply_override(raw, path, value, origin)
        applied.append((tuple(path), origin))
    return applied

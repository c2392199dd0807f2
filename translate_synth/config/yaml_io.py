"""The one YAML parser of the package (``yaml.safe_load`` with an alias cap) and reading a
config file into its mapping and text, with one-line errors."""

from __future__ import annotations

from pathlib import Path

import yaml

from translate_synth.errors import UserError

# YAML aliases may repeat a value, but no more than this many values in all once expanded: a few
# lines of nested aliases (an "alias bomb") otherwise expand to 10^8 values and hours of work
MAX_YAML_VALUES = 100_000


class YAMLTooLarge(yaml.YAMLError):
    """Aliases that expand past MAX_YAML_VALUES values, or refer to themselves."""

    def __init__(self, problem: str, mark):
        super().__init__(problem)
        self.problem, self.problem_mark = problem, mark


def _children(node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [n for kv in node.value for n in kv]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _expanded_size(root) -> int | None:
    """How many values the node graph holds once every alias is expanded (stops counting past
    MAX_YAML_VALUES); None when an alias refers to a node that contains it."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_.discard(key)
            sizes[key] = 1 + sum(sizes[id(k)] for k in _children(node))
            if sizes[key] > MAX_YAML_VALUES:
                return sizes[key]
            continue
        if key in sizes:
            continue
        open_.add(key)
        stack.append((node, True))
        for kid in _children(node):
            if id(kid) in open_:
                return None
            if id(kid) not in sizes:
                stack.append((kid, False))
    return sizes.get(id(root), 0)


class CappedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` (no Python objects) that also refuses aliases expanding past
    MAX_YAML_VALUES values and recursive aliases, before anything walks the expanded data."""

    def __init__(self, stream):
        super().__init__(stream)
        self._alias_mark = None

    def compose_node(self, parent, index):
        if self._alias_mark is None and self.check_event(yaml.AliasEvent):
            self._alias_mark = self.peek_event().start_mark
        return super().compose_node(parent, index)

    def compose_document(self):
        node = super().compose_document()
        if self._alias_mark is not None and node is not None:
            size = _expanded_size(node)
            if size is None:
                raise YAMLTooLarge("an alias (*name) refers to a value that contains it; write "
                                   "the value out instead", self._alias_mark)
            if size > MAX_YAML_VALUES:
                raise YAMLTooLarge(f"aliases (*name) expand to more than {MAX_YAML_VALUES:,} "
                                   "values (an alias bomb?); write the values out instead",
                                   self._alias_mark)
        return node


def safe_yaml(text: str):
    """``yaml.safe_load`` with the alias cap: the one YAML parser of the package."""
    return yaml.load(text, Loader=CappedLoader)  # noqa: S506 - CappedLoader is a SafeLoader


def read_yaml(path: Path) -> tuple[dict, str]:
    if not path.exists():
        raise UserError(f"config {path}: no such file; `translate-synth langs` lists the shipped ones")
    if path.is_dir():
        raise UserError(f"config {path}: is a directory; give a YAML file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise UserError(f"config {path}: not UTF-8 text (byte {e.start}); save it as UTF-8") from None
    try:
        raw = safe_yaml(text)
    except YAMLTooLarge as e:
        raise UserError(f"{path}:{e.problem_mark.line + 1}: {e.problem}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise UserError(f"{where}: invalid YAML: {problem}; check indentation and quoting") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise UserError(f"config {path}: the top level must be a mapping of keys (lang: ..., "
                        f"model: ...), not a {type(raw).__name__}")
    return raw, text


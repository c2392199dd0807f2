"""Which fields of a text or TSV line are which text: header rows and columns, or a refusal.

The first non-blank line decides. Under ``header: auto`` (the default) it is a header when every
field is a language code or name (``en``, ``English``, ``eng_Latn``, ``Português``, the run's
own language name) or ``source``/``target``; a header is never read as data, and a header that
names languages puts the columns in the run's order. Without ``columns:``, a TSV file must have
exactly the columns the input needs (2 for parallel data, 1 for monolingual text): more columns,
or a header that names other languages, is a one-line error that lists what the file has and
how to pick (``columns:`` by 0-based number, or by header name).
"""

from __future__ import annotations

from dataclasses import dataclass

from translate_synth.errors import UserError
from translate_synth.langs import BUILTIN

ROLES = {"source": 0, "src": 0, "target": 1, "tgt": 1}  # header words naming a side
# names a header may use besides the English name and the models' codes (shipped languages)
NATIVE = {"en": ["english"], "fr": ["français", "francais"], "es": ["español", "espanol",
          "castellano"], "de": ["deutsch"], "pt": ["português", "portugues"],
          "ar": ["العربية", "عربي"], "sw": ["kiswahili", "swa"], "yo": ["yorùbá", "èdè yorùbá"],
          "ha": ["harshen hausa"], "ig": ["asụsụ igbo"], "zu": ["isizulu"], "xh": ["isixhosa"],
          "rw": ["ikinyarwanda"], "am": ["አማርኛ"], "so": ["soomaali", "af-soomaali"],
          "ne": ["नेपाली"], "si": ["සිංහල"], "qu": ["quechua", "runasimi", "runa simi"],
          "lg": ["luganda", "oluganda"], "ln": ["lingála"], "tl": ["filipino"]}
SHOWN = 6     # fields named in an error
FIELD = 30    # characters shown of each


def _norm(word: str) -> str:
    return word.strip().strip("\"'").strip().casefold()


def _index(names: dict | None) -> dict[str, str]:
    """Lower-cased header word -> language code."""
    idx = {}
    for code, lang in BUILTIN.items():
        for w in [code, lang.name, *(c for c in lang.codes.values() if c), *NATIVE.get(code, [])]:
            idx.setdefault(_norm(w), code)
    for code, name in (names or {}).items():  # the run's languages: their codes and names win
        idx[_norm(code)] = code
        if name:
            idx[_norm(name)] = code
    return idx


def language_of(word: str, names: dict | None = None) -> str | None:
    """The language code a header word names (``pt-BR`` and ``pt_BR`` name ``pt``), or None."""
    idx, w = _index(names), _norm(word)
    if w in idx:
        return idx[w]
    base = w.replace("_", "-").split("-")[0]
    return idx.get(base) if base != w and 2 <= len(base) <= 3 else None


def _word(field: str, names) -> str | int | None:
    """A language code, a side (0 source, 1 target), or None for any other text."""
    w = _norm(field)
    return ROLES[w] if w in ROLES else language_of(field, names)


def looks_like_header(fields: list[str], names: dict | None = None) -> bool:
    return bool(fields) and all(_word(f, names) is not None for f in fields)


def tsv_fields(line: str) -> list[str]:
    """The tab-separated fields of a line; trailing empty fields do not count as columns."""
    parts = line.split("\t")
    while len(parts) > 1 and not parts[-1].strip():
        parts.pop()
    return parts


def shown(fields: list[str]) -> str:
    out = ", ".join(repr(f if len(f) <= FIELD else f[:FIELD] + "...") for f in fields[:SHOWN])
    return out + (f", ... ({len(fields)} in all)" if len(fields) > SHOWN else "")


@dataclass(frozen=True)
class Layout:
    cols: list[int]             # the field read for each key, in key order
    header: int | None = None   # the line number of the header row
    note: str = ""              # what the header row meant (one stderr line)
    width: int | None = None    # the columns every row has (None: `columns:` picks, extras fine)


def _describe(names: dict | None, keys: list[str]) -> str:
    def one(k):
        name = (names or {}).get(k) or (BUILTIN[k].name if k in BUILTIN else "")
        return f"{k} ({name})" if name and name.casefold() != k.casefold() else k
    return " and ".join(one(k) for k in keys)


def _fix(entry: str | None, example: str) -> str:
    """How to set ``columns:`` for this file: on the command line when the entry is known."""
    if entry:
        return f"e.g. --set '{entry}.columns={example}'"
    return f"e.g. `columns: {example}` on this file's entry under data:"


def _by_name(path, spec, fields: list[str], n: int, names) -> list[int]:
    cols = []
    for c in spec:
        if isinstance(c, int):
            cols.append(c)
            continue
        hit = [i for i, f in enumerate(fields) if _norm(f) == _norm(c)]
        if not hit and language_of(c, names):
            hit = [i for i, f in enumerate(fields) if language_of(f, names) == language_of(c, names)]
        if len(hit) != 1:
            what = "no column" if not hit else f"{len(hit)} columns"
            raise UserError(f"{path}: {what} named '{c}' in the header row (line {n}: "
                            f"{shown(fields)}); name one of these, or give a 0-based number")
        cols.append(hit[0])
    return cols


def _match(words: list, keys: list[str]) -> list[int | None]:
    """The header column naming each key's language (or its side: source/target), or None."""
    out = []
    for j, key in enumerate(keys):
        hit = [i for i, w in enumerate(words)
               if w == key or (isinstance(w, int) and (len(keys) == 1 or w == j))]
        out.append(hit[0] if len(hit) == 1 else None)
    return out


def _note(n: int, keys: list[str], fields: list[str], cols: list[int]) -> str:
    parts = [f"{key} = {fields[c]!r}" + (f" (column {c})" if len(keys) > 1 else "")
             for key, c in zip(keys, cols) if c < len(fields)]
    return f"line {n} is a header, not data: {', '.join(parts)}"


def decide(path, keys: list[str], fields: list[str], n: int, *, columns=None,
           header="auto", names: dict | None = None, entry: str | None = None) -> Layout:
    """The layout of a file whose first non-blank line is line ``n`` with ``fields``; ``keys``
    are the languages the input must hold (``[source, target]`` or ``[lang]``)."""
    width, k = len(keys), len(fields)
    need = _describe(names, keys)
    by_name = bool(columns) and any(isinstance(c, str) for c in columns)
    if by_name and header is False:
        raise UserError(f"{path}: columns {columns} name header columns, but header: false; "
                        "give 0-based column numbers, or set header: true")
    is_header = header is True or (header == "auto" and (
        by_name or looks_like_header(fields, names)))
    words = [_word(f, names) for f in fields] if is_header else []
    pick = ("pick them with columns:, by 0-based number or by header name "
            "(header: false reads line {n} as data)").format(n=n)
    if columns:
        if len(columns) != width:
            raise UserError(f"{path}: columns {columns} name {len(columns)} column(s) where "
                            f"{width} {'are' if width > 1 else 'is'} needed, {need}")
        cols = _by_name(path, columns, fields, n, names) if by_name else list(columns)
        if not is_header:
            return Layout(cols)
        for j, (key, c) in enumerate(zip(keys, cols)):
            w = words[c] if c < k else None
            if (isinstance(w, str) and w != key) or (isinstance(w, int) and width == 2 and w != j):
                raise UserError(f"{path}: columns {columns} read {fields[c]!r} (column {c} of "
                                f"the header, line {n}) as {_describe(names, [key])}; pick the "
                                "column of that language")
        return Layout(cols, n, _note(n, keys, fields, cols))
    what = f"header line {n}" if is_header else f"line {n}"
    if k > width:
        match = _match([_word(f, names) for f in fields], keys)  # a header, auto or not
        ok = None not in match and len(set(match)) == width
        example = "[" + ", ".join(fields[i] for i in match) + "]" if ok else \
            "[" + ", ".join(map(str, range(width))) + "]"
        raise UserError(f"{path}: {k} tab-separated columns ({what}: {shown(fields)}) where {width} "
                        f"{'are' if width > 1 else 'is'} needed, {need}; {pick.split(' (')[0]}, "
                        f"{_fix(entry, example)}")
    if not is_header:
        return Layout(list(range(width)), width=width)
    if k < width:
        raise UserError(f"{path}: {what} ({shown(fields)}) has {k} column(s) where {width} "
                        f"are needed, {need}; {pick}")
    # a header with as many columns as needed: its languages put them in order
    match = _match(words, keys)
    if None not in match and len(set(match)) == width:
        cols = match
    elif all(w is None or (isinstance(w, int) and (width == 1 or w == i)) or w == keys[i]
             for i, w in enumerate(words)):
        cols = list(range(width))  # header: true, with names that are not languages
    else:
        raise UserError(f"{path}: the header row (line {n}: {shown(fields)}) does not name "
                        f"{need}, which this input should hold; check that this is the right "
                        f"file, or {pick}")
    return Layout(cols, n, _note(n, keys, fields, cols), width)

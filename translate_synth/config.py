"""The run configuration: pydantic models of the YAML, loading, overrides, friendly errors.

Every error is one line naming the file, the YAML line where known, the key, and a fix.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from translate_synth.errors import UserError
from translate_synth.langs import FAMILIES

BUILTIN_PREFIX = "builtin:"
HF_PREFIX = "hf:"
DEFAULT_MODEL = "facebook/nllb-200-distilled-600M"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataFile(Strict):
    """One input: a path (or ``builtin:NAME`` / ``hf:name[:config][:split]``) and how to read it."""

    path: str
    format: Literal["auto", "text", "tsv", "jsonl", "parquet", "hf"] = "auto"
    columns: list[int] | None = Field(
        None, description="TSV: 0-based columns [source, target] (parallel) or [text] (mono)")
    keys: list[str] | None = Field(
        None, description="JSONL/Parquet/hf: field names [source, target] or [text]; "
                          "default the language codes, or a `translation` dict")
    header: bool = False

    @field_validator("keys", mode="before")
    @classmethod
    def _keys(cls, v):
        if v is not None and not isinstance(v, list):
            got = "a mapping" if isinstance(v, dict) else f"{type(v).__name__} {v!r}"
            raise ValueError(f"must be a list of field names, not {got}: write keys: "
                             "[SOURCE_FIELD, TARGET_FIELD] (e.g. [en, sw]) for parallel data "
                             "or keys: [TEXT_FIELD] for monolingual text")
        return v

    @field_validator("columns")
    @classmethod
    def _cols(cls, v):
        if v is not None and (not v or any(c < 0 for c in v)):
            raise ValueError("columns are 0-based, non-negative column numbers, e.g. [0, 1]")
        return v


FileList = list[Union[str, DataFile]]


class DataConfig(Strict):
    parallel: FileList = []
    source_mono: FileList = []
    target_mono: FileList = []
    max_chars: int = Field(1000, ge=10, description="longer lines are skipped or truncated")
    long_lines: Literal["skip", "truncate"] = "skip"
    limit: int | None = Field(None, ge=1, description="read at most this many lines per input")
    on_error: Literal["fail", "skip"] = Field(
        "fail", description="a bad row (too few columns, not JSON, missing key, not UTF-8): "
        "fail stops the run naming file:line; skip skips and counts it")

    @field_validator("parallel", "source_mono", "target_mono", mode="after")
    @classmethod
    def _as_files(cls, v):
        return [DataFile(path=f) if isinstance(f, str) else f for f in v]


class ModelConfig(Strict):
    backend: Literal["transformers", "ctranslate2", "bergamot"] = "transformers"
    family: Literal["auto", "nllb", "m2m100", "mbart50", "madlad", "marian"] = "auto"
    id: str | None = DEFAULT_MODEL
    ids: dict[str, str] = Field(
        {}, description="a model per direction, e.g. {en-sw: Helsinki-NLP/opus-mt-en-sw}")
    revision: str | None = None
    device: str = "auto"
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    trust_remote_code: bool = False
    target_token: bool = Field(False, description="Marian: prefix >>xxx<< (multi-target models)")
    ct2_quantization: Literal["auto", "int8", "int8_float32", "int8_float16", "float16",
                              "float32"] = Field("auto", description="ctranslate2: auto = int8 "
                                                 "on CPU, float16 on CUDA")
    ct2_dir: str | None = Field(None, description="where converted models are cached "
                                "(default: the cache dir)")

    @field_validator("device")
    @classmethod
    def _device(cls, v):
        if v not in ("auto", "cpu", "cuda") and not (v.startswith("cuda:") and v[5:].isdigit()):
            raise ValueError("device is auto, cpu, cuda or cuda:N")
        return v

    @field_validator("ids")
    @classmethod
    def _ids(cls, v):
        for k in v:
            if k.count("-") != 1:
                raise ValueError(f"direction '{k}' must look like en-sw")
        return v


class Decoding(Strict):
    beam_size: int = Field(4, ge=1, le=64)
    sampling: bool = False
    temperature: float = Field(1.0, gt=0, le=10)
    top_p: float = Field(1.0, gt=0, le=1)
    top_k: int = Field(0, ge=0)
    max_new_tokens: int = Field(256, ge=1, le=4096)
    min_new_tokens: int = Field(0, ge=0, le=4096, description="force at least this many "
                                "tokens (benchmarks with random weights)")
    batch_size: int = Field(16, ge=1, le=4096)
    max_tokens: int = Field(4096, ge=16, description="token budget of a batch (padded "
                            "source tokens); batches are length-bucketed")


class ParaphraseConfig(Strict):
    enabled: bool = True
    sides: list[Literal["source", "target"]] = ["target"]
    methods: list[Literal["pivot", "sample"]] = ["pivot"]
    pivot_lang: str | None = Field(None, description="default: the other side's language")
    n_samples: int = Field(2, ge=1, le=32)
    sampling: Decoding = Decoding(sampling=True, beam_size=1, temperature=0.9, top_p=0.95)
    max_rows: int | None = Field(None, ge=0, description="paraphrase at most this many real pairs")


class SynthesisConfig(Strict):
    back_translation: bool = True
    forward_translation: bool = True
    paraphrase: ParaphraseConfig = ParaphraseConfig()
    decoding: Decoding = Decoding()
    roundtrip_decoding: Decoding | None = Field(None, description="default: `decoding`, greedy")
    chunk_size: int = Field(256, ge=1)


class ScoringConfig(Strict):
    bleu_tokenize: Literal["13a", "intl", "char", "none", "zh"] = "13a"
    chrf_word_order: int = Field(0, ge=0, le=2, description="2 = chrF++")
    lowercase: bool = False
    workers: int = Field(0, ge=0, description="scoring processes (0 = one per core)")


class SplitConfig(Strict):
    valid: float = Field(0.1, ge=0, description="a fraction (< 1) or a row count (>= 1)")
    test: float = Field(0.1, ge=0, description="a fraction (< 1) or a row count (>= 1)")
    max_heldout: int = Field(3000, ge=1, description="upper bound on rows per held-out split")

    @field_validator("valid", "test")
    @classmethod
    def _size(cls, v):
        if v >= 1 and (v == float("inf") or v != int(v)):
            raise ValueError("a count must be a whole number; a fraction must be below 1")
        return v


class OutputConfig(Strict):
    dir: str = "out"

    @field_validator("dir")
    @classmethod
    def _inside(cls, v):
        p = Path(v)
        if p.is_absolute() or ".." in p.parts or not v.strip():
            raise ValueError(f"'{v}' leaves the working directory: a config may only name a "
                             "relative output directory; choose any place with --out")
        return v


class CacheConfig(Strict):
    """Content-addressed translation cache: the same text, model and settings never translate
    twice (shared by synthesis, round trip and calibration; survives runs)."""

    enabled: bool = True
    dir: str | None = Field(None, description="default: $TRANSLATE_SYNTH_CACHE or "
                            "$XDG_CACHE_HOME/translate-synth or ~/.cache/translate-synth")


class ExecutorConfig(Strict):
    name: Literal["local", "ray"] = "local"
    address: str | None = Field(None, description="Ray cluster address (default: start Ray "
                                "locally)")
    actors: int = Field(1, ge=1, description="synthesis actors: one model each")
    cpus_per_actor: float = Field(1.0, gt=0, description="CPUs each synthesis actor holds "
                                  "(leave some for the stateless stages)")
    num_gpus_per_actor: float | None = Field(None, ge=0, description="null: 1 when the "
                                             "cluster has a GPU per actor, else 0")
    batch_size: int = Field(256, ge=1, description="rows per map_batches call in the "
                            "stateless stages (input keys, filter scores)")
    shuffle: Literal["sort", "hash"] = Field("sort", description="Ray's shuffle for dedup, "
                                             "split and chunking: sort (task-based, small "
                                             "fixed cost) or hash (actor-based, for big data)")
    shuffle_partitions: int | None = Field(None, ge=1, description="partitions per shuffle "
                                           "(null: 2 per cluster CPU)")


class QualityConfig(Strict):
    """The combined quality score (scores.quality) and the model scores behind it."""

    calibrate: bool = Field(True, description="fit quality weights on the real training pairs "
                            "(3 model calls per pair, at most max_rows pairs)")
    max_rows: int = Field(300, ge=0, description="real pairs used to calibrate")
    min_pairs: int = Field(100, ge=3, description="below this many real pairs no model is "
                           "fitted: quality = rt_chrf")
    logprob: bool = Field(True, description="score logprob_fwd/bwd with the synthesis model "
                          "(transformers backend; 2 forward passes per row)")


Origin = Literal["bt", "ft", "paraphrase"]


class CurriculumStage(Strict):
    """One training stage: real and synthetic rows mixed at a ratio real:synthetic."""

    name: str = Field(..., pattern=r"^[A-Za-z0-9_-]+$", description="file train.<name>.jsonl")
    real: float = Field(..., ge=0, description="share of real rows, e.g. 0.6")
    synthetic: float = Field(..., ge=0, description="share of synthetic rows, e.g. 0.4")
    origins: list[Origin] = Field(["bt", "ft", "paraphrase"], description="synthetic origins used")
    order: Literal["best_first", "input"] = "best_first"
    upsample_real: bool = Field(True, description="repeat real rows to reach the ratio")
    weights: dict[str, float] = Field({}, description="optional per-origin row weight, "
                                      "e.g. {bt: 0.5}: written as `weight` on each row")

    @model_validator(mode="after")
    def _some(self):
        if self.real + self.synthetic <= 0:
            raise ValueError("a stage needs real > 0 or synthetic > 0")
        for k in self.weights:
            if k not in ("real", "bt", "ft", "paraphrase"):
                raise ValueError(f"weights: unknown origin '{k}' (real, bt, ft, paraphrase)")
        return self


class CurriculumConfig(Strict):
    enabled: bool = True
    stages: list[CurriculumStage] = Field(default_factory=lambda: [
        CurriculumStage(name="mixed", real=0.5, synthetic=0.5),
        CurriculumStage(name="real", real=1.0, synthetic=0.0)])
    sort_by: str = Field("quality", description="score that orders synthetic rows best-first "
                         "(each score's own direction; length_ratio by distance from 1)")
    tag_bt: bool = Field(False, description="prefix back-translated sources with `<BT> `")
    valid_synthetic: float = Field(0, ge=0, description="accepted synthetic rows held out in "
                                   "valid_synthetic.jsonl: a fraction (< 1) or a count")

    @field_validator("sort_by")
    @classmethod
    def _sort_key(cls, v):
        from translate_synth.filters import score_ranks

        keys = score_ranks()
        if v not in keys:
            close = difflib.get_close_matches(v, list(keys), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"one of {', '.join(sorted(keys))}"
            raise ValueError(f"unknown score '{v}' to sort by; {hint}")
        return v

    @model_validator(mode="after")
    def _names(self):
        names = [s.name for s in self.stages]
        if len(names) != len(set(names)):
            raise ValueError(f"stage names must be distinct: {names}")
        return self


class CollapseConfig(Strict):
    enabled: bool = True
    alarms: dict[str, float | None] = Field({}, description="metric -> threshold (null: off)")
    fail: bool = Field(False, description="exit non-zero when an alarm fires "
                       "(--fail-on-collapse)")
    rare_k: int = Field(2, ge=1, description="a token is rare when real text has it <= k times")
    min_rows: int = Field(20, ge=0, description="no alarms for a side with fewer synthetic rows")

    @field_validator("alarms")
    @classmethod
    def _known(cls, v):
        from translate_synth.collapse import ALARMS

        for k in v:
            if k not in ALARMS:
                close = difflib.get_close_matches(k, list(ALARMS), n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"one of {', '.join(ALARMS)}"
                raise ValueError(f"unknown collapse metric '{k}'; {hint}")
        return v


DEFAULT_FILTERS = [
    {"type": "length_ratio", "min": 0.5, "max": 2.0},
    {"type": "copy", "max": 0.9},
    {"type": "repetition", "max": 0.3},
    {"type": "script", "min": 0.8},
    {"type": "langid", "min": 0.3},
    {"type": "rt_chrf", "min": 30.0},
    {"type": "rt_bleu", "min": 5.0},
    # chosen by eval/selection_study.py on dev books, measured on others (README, Filters)
    {"type": "select", "keep_top": 0.8, "novelty_weight": 1.0},
]


class Config(Strict):
    lang: str = Field(..., min_length=2, max_length=12)
    name: str | None = None
    source_lang: str = "en"
    codes: dict[str, str | None] = Field({}, description="this language's code per model family")
    source_codes: dict[str, str | None] = {}
    seed: int = 0
    model: ModelConfig = ModelConfig()
    data: DataConfig = DataConfig()
    synthesis: SynthesisConfig = SynthesisConfig()
    scoring: ScoringConfig = ScoringConfig()
    quality: QualityConfig = QualityConfig()
    filters: list[dict[str, Any]] = Field(default_factory=lambda: [dict(f) for f in DEFAULT_FILTERS],
                                          validate_default=True)
    split: SplitConfig = SplitConfig()
    curriculum: CurriculumConfig = CurriculumConfig()
    collapse: CollapseConfig = CollapseConfig()
    tracking: Literal["none", "comet"] = "none"
    cache: CacheConfig = CacheConfig()
    executor: ExecutorConfig = ExecutorConfig()
    output: OutputConfig = OutputConfig()

    @field_validator("codes", "source_codes")
    @classmethod
    def _families(cls, v):
        for fam in v:
            if fam not in FAMILIES:
                raise ValueError(f"unknown model family '{fam}' (one of {', '.join(FAMILIES)})")
        return v

    @field_validator("lang", "source_lang")
    @classmethod
    def _code(cls, v):
        if not v.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"'{v}' is not a language code such as sw or en")
        return v

    @field_validator("filters")
    @classmethod
    def _filters(cls, v):
        from translate_synth.filters import validate_specs

        return validate_specs(v)

    @model_validator(mode="after")
    def _distinct(self):
        if self.lang == self.source_lang:
            raise ValueError(f"lang and source_lang are both '{self.lang}'")
        return self


# ---------------------------------------------------------------- loading and errors

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


def _yaml_lines(text: str) -> dict[tuple, int]:
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
    from translate_synth.filters import ALWAYS_LAST, ALWAYS_ON

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


_DATA_LISTS = ("parallel", "source_mono", "target_mono")


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
            if isinstance(nxt, str) and i == 2 and path[0] == "data" and path[1] in _DATA_LISTS:
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


def _resolve_paths(files: list, base: Path) -> list:
    out = []
    for f in files:
        entry = dict(f) if isinstance(f, dict) else {"path": f}
        p = str(entry.get("path", ""))
        if p and not p.startswith((BUILTIN_PREFIX, HF_PREFIX)) and not Path(p).is_absolute():
            entry["path"] = str((base / p).resolve())
        out.append(entry if isinstance(f, dict) else entry["path"])
    return out


Override = Union[str, tuple[str, str]]


def build_config(raw: dict, source: str = "<config>", text: str = "",
                 overrides: list[Override] = (), base_dir: Path | None = None) -> Config:
    """Validate a raw mapping (plus overrides) into a Config, or raise UserError.

    Each override is ``key.path=value`` (from ``--set``), or ``(key.path=value, origin)`` where
    ``origin`` is what the user typed (``--backend bergamott``): errors name it.
    """
    raw = safe_yaml(yaml.safe_dump(raw))  # a deep copy with plain types
    if base_dir is not None:
        for kind in _DATA_LISTS:
            files = (raw.get("data") or {}).get(kind)
            if isinstance(files, list):
                raw["data"][kind] = _resolve_paths(files, base_dir)
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
    try:
        return Config.model_validate(raw)
    except ValidationError as err:
        raise UserError(format_validation_error(err, source, _yaml_lines(text), applied)) from None


def load_config(path: Path, overrides: list[Override] = ()) -> Config:
    raw, text = read_yaml(path)
    return build_config(raw, str(path), text, overrides, base_dir=path.parent)


# ---------------------------------------------------------------- shipped language configs


def config_dirs() -> list[Path]:
    """Where shipped language configs live: the checkout's lang_configs/, else the packaged copy."""
    here = Path(__file__).resolve().parent
    return [d for d in (here.parent / "lang_configs", here / "lang_configs") if d.is_dir()]


def find_lang_config(lang: str, config_dir: Path | None = None) -> Path:
    dirs = [config_dir] if config_dir else config_dirs()
    for d in dirs:
        p = Path(d) / f"{lang}.yaml"
        if p.is_file():
            return p
    known = sorted({p.stem for d in dirs for p in Path(d).glob("*.yaml")})
    close = difflib.get_close_matches(lang, known, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise UserError(f"no language config for '{lang}': {hint}shipped: {', '.join(known) or 'none'}; "
                    "or pass --config FILE")

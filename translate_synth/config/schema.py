"""The schema of the run configuration: pydantic models of the YAML, with their defaults.

Validators check names against the registries they name (filters, scores, collapse alarms);
loading, overrides and error messages live in the other modules of this package. Sections of
their own: ``schema_data.py`` (data:), ``schema_train.py`` (train:); ``schema_base.py`` what all
share.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from translate_synth.collapse import ALARMS
from translate_synth.filters import score_ranks, validate_specs
from translate_synth.config.schema_base import MAX_SEED, Strict, check_device
from translate_synth.config.schema_data import DataConfig
from translate_synth.config.schema_train import TrainConfig
from translate_synth.langs import FAMILIES, alias_message

DEFAULT_MODEL = "facebook/nllb-200-distilled-600M"


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

    _device = field_validator("device")(classmethod(lambda cls, v: check_device(v)))

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
    calibration: float = Field(0, ge=0, description="real training pairs set aside to calibrate "
                               "the quality score and real_percentile cuts, never in "
                               "train*.jsonl: a fraction (< 1) or a count (>= 1); 0: none "
                               "(calibrate on training pairs); `generations` sets 0.2")
    calibration_min: int = Field(50, ge=1, description="a fraction sets aside at least "
                                 "min(this, a quarter of the training pairs)")
    calibration_max: int = Field(300, ge=1, description="a fraction sets aside at most this "
                                 "(quality.max_rows calibrates on at most 300)")

    @field_validator("valid", "test", "calibration")
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
    min_pairs: int = Field(300, ge=3, description="below this many real pairs no richer model "
                           "is fitted (the dev-book prior, with its veto, is used from 30)")
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
    valid_synthetic: float = Field(0.05, ge=0, description="accepted synthetic rows held out "
                                   "in valid_synthetic.jsonl (never in train): a fraction (< 1) "
                                   "or a count; `translate-synth train` watches the model on it")
    valid_synthetic_max: int = Field(500, ge=0, description="at most this many rows when "
                                     "valid_synthetic is a fraction")

    @field_validator("sort_by")
    @classmethod
    def _sort_key(cls, v):
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


# the values each collapse metric can take (ratios: synthetic over real, 1 = alike)
ALARM_RANGES = {"distinct2_ratio": (0, None), "mtld_ratio": (0, None),
                "valid_coverage_ratio": (0, None), "rare_coverage_ratio": (0, None),
                "jsd_train": (0, 1), "ks_length": (0, 1), "self_bleu_excess": (-100, 100),
                "prefix3_excess": (-1, 1)}


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
        for k in v:
            if k not in ALARMS:
                close = difflib.get_close_matches(k, list(ALARMS), n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"one of {', '.join(ALARMS)}"
                raise ValueError(f"unknown collapse metric '{k}'; {hint}")
            lo, hi = ALARM_RANGES.get(k, (None, None))
            t = v[k]
            if t is not None and ((lo is not None and t < lo) or (hi is not None and t > hi)
                                  or t != t):
                span = f"in [{lo:g}, {hi:g}]" if hi is not None else f">= {lo:g}"
                raise ValueError(f"{k}: {t:g} is out of range ({k} is {span}): the alarm would "
                                 f"never or always fire; choose a threshold {span}, or null "
                                 "to turn it off")
        return v


DEFAULT_FILTERS = [
    {"type": "length_ratio", "min": 0.5, "max": 2.0},
    {"type": "copy", "max": 0.9},
    {"type": "repetition", "max": 0.3},
    {"type": "script", "min": 0.8},
    {"type": "langid", "min": 0.3},
    {"type": "rt_chrf", "min": 30.0},
    {"type": "rt_bleu", "min": 5.0},
    # per origin, chosen by eval/selection_study.py on dev books (bt, ft), measured on others;
    # paraphrase: a documented choice, no truth to measure it (README, Filters)
    {"type": "select", "keep_top": {"bt": 0.8, "ft": 0.7, "paraphrase": 0.7},
     "novelty_weight": 1.0},
]


class Config(Strict):
    lang: str = Field(..., min_length=2, max_length=12)
    name: str | None = None
    source_lang: str = "en"
    codes: dict[str, str | None] = Field({}, description="this language's code per model family")
    source_codes: dict[str, str | None] = {}
    seed: int = Field(0, ge=0, le=MAX_SEED, description="seed of splits, sampling and "
                      "training: 0 to 4294967295")
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
    train: TrainConfig = TrainConfig()

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
        other = alias_message(v)  # 'por', 'PT', 'swh_Latn': a built-in language by another name
        if other:
            raise ValueError(other)
        return v

    @field_validator("filters")
    @classmethod
    def _filters(cls, v):
        return validate_specs(v)

    @model_validator(mode="after")
    def _distinct(self):
        if self.lang == self.source_lang:
            raise ValueError(f"lang and source_lang are both '{self.lang}'")
        if self.split.calibration and self.executor.name != "local":
            raise ValueError("split.calibration needs executor.name local (the ray executor "
                             "does not set pairs aside): set split.calibration=0 or use local")
        return self

"""The ``data:`` section of the config schema: the input files and how they are read."""

from __future__ import annotations

from typing import Literal, Union

from pydantic import Field, field_validator

from translate_synth.config.schema_base import Strict

BUILTIN_PREFIX = "builtin:"
HF_PREFIX = "hf:"


class DataFile(Strict):
    """One input: a path (or ``builtin:NAME`` / ``hf:name[:config][:split]``) and how to read it."""

    path: str
    format: Literal["auto", "text", "tsv", "jsonl", "parquet", "hf"] = "auto"
    columns: list[Union[int, str]] | None = Field(
        None, description="TSV: columns [source, target] (parallel) or [text] (mono), by 0-based "
                          "number or by a name in the header row")
    keys: list[str] | None = Field(
        None, description="JSONL/Parquet/hf: field names [source, target] or [text]; "
                          "default the language codes, or a `translation` dict")
    header: Union[bool, Literal["auto"]] = Field(
        "auto", description="text/TSV: the first non-blank line is column names (true), data "
                            "(false), or names when its fields are language codes/names or "
                            "source/target (auto)")

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
        if v is not None and (not v or any(c < 0 if isinstance(c, int) else not c.strip()
                                           for c in v)):
            raise ValueError("columns are 0-based, non-negative column numbers, e.g. [0, 1], "
                             "or names from the file's header row, e.g. [english, swahili]")
        return v


FileList = list[Union[str, DataFile]]

DATA_LISTS = ("parallel", "source_mono", "target_mono")  # the DataConfig keys holding files


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

"""The run configuration. Every error is one line naming the file, the YAML line where known,
the key, and a fix.

    schema.py     pydantic models of the YAML, their defaults, DEFAULT_FILTERS; its sections
                  schema_data.py (data:), schema_train.py (train:), schema_base.py (Strict)
    yaml_io.py    the one YAML parser (alias cap) and reading a config file
    messages.py   validation errors as one line: YAML line map, the override to blame
    overrides.py  --set KEY=VALUE: parse, address filters by name, apply
    load.py       build_config / load_config: paths, overrides, validation
    shipped.py    the shipped language configs (lang_configs/)

Everything is re-exported here: ``from translate_synth.config import Config, load_config``.
"""

from translate_synth.config.load import build_config, load_config
from translate_synth.config.messages import format_validation_error, yaml_lines
from translate_synth.config.overrides import (Override, apply_override, apply_overrides,
                                              filter_index, parse_override)
from translate_synth.config.schema import (DEFAULT_FILTERS, DEFAULT_MODEL, CacheConfig,
                                           CollapseConfig, Config, CurriculumConfig,
                                           CurriculumStage, Decoding, ExecutorConfig,
                                           ModelConfig, Origin, OutputConfig, ParaphraseConfig,
                                           QualityConfig, ScoringConfig, SplitConfig,
                                           SynthesisConfig)
from translate_synth.config.schema_base import Strict
from translate_synth.config.schema_data import (BUILTIN_PREFIX, DATA_LISTS, HF_PREFIX, DataConfig,
                                                DataFile, FileList)
from translate_synth.config.shipped import config_dirs, find_lang_config
from translate_synth.config.yaml_io import (MAX_YAML_VALUES, CappedLoader, YAMLTooLarge,
                                            read_yaml, safe_yaml)

__all__ = [
    "BUILTIN_PREFIX", "DATA_LISTS", "DEFAULT_FILTERS", "DEFAULT_MODEL", "HF_PREFIX",
    "MAX_YAML_VALUES", "CacheConfig", "CappedLoader", "CollapseConfig", "Config",
    "CurriculumConfig", "CurriculumStage", "DataConfig", "DataFile", "Decoding", "ExecutorConfig",
    "FileList", "ModelConfig", "Origin", "OutputConfig", "Override", "ParaphraseConfig",
    "QualityConfig", "ScoringConfig", "SplitConfig", "Strict", "SynthesisConfig", "YAMLTooLarge",
    "apply_override", "apply_overrides", "build_config", "config_dirs", "filter_index",
    "find_lang_config", "format_validation_error", "load_config", "parse_override", "read_yaml",
    "safe_yaml", "yaml_lines",
]

"""Config loading: shipped configs validate; bad configs fail with one line naming key, line and fix."""

from pathlib import Path

import pytest

from translate_synth.config import (Config, build_config, config_dirs, find_lang_config,
                                    load_config)
from translate_synth.errors import UserError
from translate_synth.langs import FAMILIES, family_code

SHIPPED = sorted(p for p in config_dirs()[0].glob("*.yaml"))


def test_ships_at_least_twelve_low_resource_languages_plus_pt():
    langs = {p.stem for p in SHIPPED}
    assert "pt" in langs
    assert len(langs - {"pt"}) >= 12


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_config_validates_and_has_an_nllb_code(path):
    cfg = load_config(path)
    assert cfg.lang == path.stem
    code = family_code(cfg.lang, "nllb", cfg.codes)
    assert code.count("_") == 1 and len(code.split("_")[1]) == 4  # e.g. swh_Latn
    if cfg.model.backend == "transformers":
        assert cfg.model.id == "facebook/nllb-200-distilled-600M"


def test_codes_per_family_for_swahili():
    cfg = load_config(find_lang_config("sw"))
    got = {fam: family_code("sw", fam, cfg.codes) for fam in FAMILIES}
    assert got == {"nllb": "swh_Latn", "m2m100": "sw", "mbart50": "sw_KE", "madlad": "sw",
                   "marian": "swh"}


def test_family_without_the_language_is_a_clear_error():
    cfg = load_config(find_lang_config("rw"))
    with pytest.raises(UserError, match="m2m100 model family does not support language 'rw'"):
        family_code("rw", "m2m100", cfg.codes)


def _write(tmp_path, text):
    p = tmp_path / "c.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_typo_key_names_line_and_suggests(tmp_path):
    p = _write(tmp_path, "lang: sw\nsynthesis:\n  decoding:\n    beam_sise: 4\n")
    with pytest.raises(UserError) as e:
        load_config(p)
    msg = str(e.value)
    assert f"{p}:4" in msg and "synthesis.decoding.beam_sise" in msg and "beam_size" in msg
    assert "\n" not in msg


def test_wrong_type_and_out_of_range(tmp_path):
    with pytest.raises(UserError, match=r"split\.valid"):
        load_config(_write(tmp_path, "lang: sw\nsplit: {valid: lots}\n"))
    with pytest.raises(UserError, match=r"synthesis\.decoding\.top_p"):
        load_config(_write(tmp_path, "lang: sw\nsynthesis: {decoding: {top_p: 3}}\n"))
    with pytest.raises(UserError, match=r"filters.*min \(50.0\) is above max"):
        load_config(_write(tmp_path, "lang: sw\nfilters: [{type: rt_chrf, min: 50, max: 10}]\n"))


def test_unknown_filter_type_suggests(tmp_path):
    with pytest.raises(UserError, match="did you mean 'rt_chrf'"):
        load_config(_write(tmp_path, "lang: sw\nfilters: [{type: rt_chfr, min: 5}]\n"))


def test_yaml_not_a_mapping_and_invalid_yaml(tmp_path):
    with pytest.raises(UserError, match="must be a mapping"):
        load_config(_write(tmp_path, "- a\n- b\n"))
    with pytest.raises(UserError, match="invalid YAML"):
        load_config(_write(tmp_path, "lang: [sw\n"))


def test_missing_required_lang(tmp_path):
    with pytest.raises(UserError, match="lang: required key is missing"):
        load_config(_write(tmp_path, "seed: 3\n"))


def test_set_overrides_any_key_with_yaml_values(tmp_path):
    p = _write(tmp_path, "lang: sw\n")
    cfg = load_config(p, ["split.valid=50", "synthesis.paraphrase.methods=[pivot, sample]",
                          "model.ids={en-sw: a/b, sw-en: c/d}", "filters.0.min=0.7"])
    assert cfg.split.valid == 50
    assert cfg.synthesis.paraphrase.methods == ["pivot", "sample"]
    assert cfg.model.ids == {"en-sw": "a/b", "sw-en": "c/d"}
    with pytest.raises(UserError, match="key.path=value"):
        load_config(p, ["split.valid"])
    with pytest.raises(UserError, match="unknown key 'nope'"):
        load_config(p, ["nope=1"])


def test_relative_data_paths_resolve_against_the_config_file(tmp_path):
    (tmp_path / "d").mkdir()
    p = _write(tmp_path, "lang: sw\ndata: {parallel: [d/x.tsv, builtin:udhr.en-sw.tsv]}\n")
    cfg = load_config(p)
    assert cfg.data.parallel[0].path == str((tmp_path / "d" / "x.tsv").resolve())
    assert cfg.data.parallel[1].path == "builtin:udhr.en-sw.tsv"


def test_unknown_language_config_suggests():
    with pytest.raises(UserError, match="did you mean 'sw'"):
        find_lang_config("swx")


def test_defaults_are_valid():
    cfg = build_config({"lang": "sw"})
    assert isinstance(cfg, Config) and [f["type"] for f in cfg.filters]
    assert Path(config_dirs()[0]).name == "lang_configs"


def test_every_yaml_parse_in_the_package_goes_through_the_alias_cap():
    """An alias bomb (a few lines expanding to 10^8 values) must be refused wherever YAML is
    read: config files, --set values, anything added later. Only config.safe_yaml parses
    (config/yaml_io.py)."""
    import re

    pkg = Path(__file__).resolve().parents[1] / "translate_synth"
    parse = re.compile(r"yaml\.(safe_load|load|full_load|unsafe_load|compose|compose_all|"
                       r"load_all|safe_load_all)\(")
    hits = [f"{p.relative_to(pkg)}:{n}" for p in sorted(pkg.rglob("*.py"))
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if parse.search(line)]
    assert hits == ["config/yaml_io.py:" + str(next(
        n for n, line in enumerate((pkg / "config" / "yaml_io.py").read_text().splitlines(), 1)
        if "yaml.load(text, Loader=CappedLoader)" in line))], hits


def test_alias_cap_in_set_values_and_files(tmp_path):
    from translate_synth.config import MAX_YAML_VALUES

    levels = ["&a0 [" + ", ".join(["x"] * 10) + "]"] + [
        f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 6)]  # 10^6 values
    with pytest.raises(UserError, match=rf"^--set x=\[.*more than {MAX_YAML_VALUES:,} values"):
        build_config({"lang": "sw"}, overrides=["x=[" + ", ".join(levels) + "]"])
    p = _write(tmp_path, "lang: sw\n" + "".join(f"k{i}: {v}\n" for i, v in enumerate(levels)))
    with pytest.raises(UserError, match=rf"c\.yaml:3: aliases .*more than"):
        load_config(p)
    small = _write(tmp_path, "lang: sw\nsplit: &s {valid: 3, test: 3}\nx: *s\n")
    with pytest.raises(UserError, match="unknown key 'x'"):  # aliases that stay small parse
        load_config(small)


def test_the_config_package_keeps_every_name_of_the_old_module():
    import translate_synth.config as config

    old = ["BUILTIN_PREFIX", "CacheConfig", "CappedLoader", "CollapseConfig", "Config",
           "CurriculumConfig", "CurriculumStage", "DEFAULT_FILTERS", "DEFAULT_MODEL", "DataConfig",
           "DataFile", "Decoding", "ExecutorConfig", "FileList", "HF_PREFIX", "MAX_YAML_VALUES",
           "ModelConfig", "Origin", "OutputConfig", "Override", "ParaphraseConfig",
           "QualityConfig", "ScoringConfig", "SplitConfig", "Strict", "SynthesisConfig",
           "YAMLTooLarge", "apply_override", "build_config", "config_dirs", "filter_index",
           "find_lang_config", "format_validation_error", "load_config", "parse_override",
           "read_yaml", "safe_yaml"]
    assert set(old) <= set(config.__all__)
    assert all(getattr(config, name) is not None for name in config.__all__)


def test_config_modules_import_their_registries_at_module_level():
    """The schema's validators and the overrides use the filter registry and the collapse alarms
    through module-level imports: nothing in translate_synth/config/ imports inside a function."""
    import ast

    pkg = Path(__file__).resolve().parents[1] / "translate_synth" / "config"
    deferred = []
    for p in sorted(pkg.glob("*.py")):
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                deferred += [f"{p.name}:{n.lineno}" for n in ast.walk(fn)
                             if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert deferred == []


def test_shipped_configs_from_the_checkout_or_the_installed_package(tmp_path, monkeypatch):
    from translate_synth.config import shipped

    repo = Path(__file__).resolve().parents[1]
    assert config_dirs()[0] == repo / "lang_configs"
    # installed: the wheel force-includes lang_configs/ as translate_synth/lang_configs
    pkg = tmp_path / "site-packages" / "translate_synth"
    (pkg / "lang_configs").mkdir(parents=True)
    (pkg / "lang_configs" / "sw.yaml").write_text("lang: sw\n", encoding="utf-8")
    monkeypatch.setattr(shipped, "PACKAGE_DIR", pkg)
    assert config_dirs() == [pkg / "lang_configs"]
    assert find_lang_config("sw") == pkg / "lang_configs" / "sw.yaml"
    with pytest.raises(UserError, match="did you mean 'sw'"):
        find_lang_config("swx")

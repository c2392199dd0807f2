"""refilter: new thresholds from stored scores give the same files as a full run, with no model."""

import json
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

import translate_synth.backends as backends
import translate_synth.pipeline as pipeline
from translate_synth.cli import REFILTER_EXAMPLES, main
from translate_synth.config import build_config
from translate_synth.errors import UserError

REPO = Path(__file__).resolve().parents[1]
FILES = ("train.jsonl", "valid.jsonl", "test.jsonl", "candidates.jsonl")
BASE = ["run", "--lang", "pt", "--limit", "40", "--set", "split.valid=4", "--set", "split.test=4"]


def _filters(chrf_min):
    return f"filters=[{{type: length_ratio, min: 0.5, max: 2.0}}, {{type: rt_chrf, min: {chrf_min}}}]"


def _run(out, chrf_min):
    res = CliRunner().invoke(main, BASE + ["--out", str(out), "--set", _filters(chrf_min)])
    assert res.exit_code == 0, res.output
    return out / "pt"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("refilter")
    return _run(root / "loose", 30), _run(root / "strict", 75)


@pytest.fixture
def no_model(monkeypatch):
    """Every way to a model fails the test: the factory where the pipeline really looks it up
    (its own imported name) and in backends, constructing any translator, and translating or
    scoring with one (a translator made earlier in this process included)."""
    from translate_synth import cache
    from translate_synth.backends import bergamot, hf

    calls = []

    def refuse(*a, **k):
        calls.append(a)
        raise AssertionError("refilter must not use a model")

    monkeypatch.setattr(backends, "make_translator", refuse)
    monkeypatch.setattr(pipeline, "make_translator", refuse)
    classes = [backends.Translator, bergamot.BergamotTranslator, hf.TransformersTranslator,
               cache.CachedTranslator]
    try:
        from translate_synth.backends import ct2
        classes.append(ct2.CT2Translator)
    except ImportError:
        pass
    monkeypatch.setattr(backends.Translator, "__init__", refuse)
    for cls in classes:
        for meth in ("translate", "logprob"):
            if meth in vars(cls):
                monkeypatch.setattr(cls, meth, refuse)
    return calls


def _copy(run_dir, dest):
    import shutil

    shutil.copytree(run_dir, dest)
    return dest


@pytest.mark.parametrize("key", ["filters.1.min", "filters.rt_chrf.min"])
def test_refilter_equals_a_full_run_with_those_thresholds_and_calls_no_model(runs, no_model,
                                                                             tmp_path, key):
    loose, strict = runs
    loose = _copy(loose, tmp_path / "pt")
    before = {f: (loose / f).read_bytes() for f in FILES}
    res = CliRunner().invoke(main, ["refilter", str(loose), "--set", f"{key}=75"])
    assert res.exit_code == 0, res.output
    assert no_model == []
    assert "filter funnel" in res.output
    assert "refiltered" in res.stderr and " s (no model call)" in res.stderr
    for f in FILES:
        assert (loose / f).read_bytes() == (strict / f).read_bytes(), f
    assert before["train.jsonl"] != (loose / "train.jsonl").read_bytes()  # it did change
    st, st_full = (json.loads((d / "stats.json").read_text()) for d in (loose, strict))
    assert st["filters"] == st_full["filters"] and st["emitted"] == st_full["emitted"]
    man = json.loads((loose / "manifest.json").read_text())
    assert man["config"]["filters"][1]["min"] == 75
    assert man["outputs"]["train.jsonl"]["sha256"] == \
        json.loads((strict / "manifest.json").read_text())["outputs"]["train.jsonl"]["sha256"]
    assert not (loose / ".staging").exists() and not (loose / ".refilter").exists()


def test_the_no_model_guard_fires(no_model):
    """The guard above is real: the pipeline's own name for the factory is the one patched."""
    cfg = build_config({"lang": "pt", "model": {"backend": "bergamot", "id": None}})
    with pytest.raises(AssertionError):
        pipeline.make_translator(cfg)
    with pytest.raises(AssertionError):
        from translate_synth.backends.bergamot import BergamotTranslator
        BergamotTranslator(cfg)
    assert len(no_model) == 2


@pytest.mark.parametrize("key", ["synthesis.decoding.beam_size=2", "quality.max_rows=10",
                                 "quality.calibrate=false", "model.backend=transformers"])
def test_refilter_refuses_settings_that_need_the_model(runs, key):
    loose, _ = runs
    res = CliRunner().invoke(main, ["refilter", str(loose), "--set", key])
    assert res.exit_code == 2
    line = res.output.strip()
    assert len(line.splitlines()) == 1
    assert f"'{key.partition('=')[0]}'" in line and "translate-synth run" in line


def test_refilter_on_a_dir_that_is_not_a_run(tmp_path):
    res = CliRunner().invoke(main, ["refilter", str(tmp_path)])
    assert res.exit_code == 2 and "manifest.json" in res.output


# ------------------------------------------------------------ filters by name


def test_filters_are_addressed_by_name_type_or_index():
    cfg = build_config({"lang": "sw"}, overrides=["filters.rt_chrf.min=40",
                                                  "filters.0.max=3"])
    by = {f["name"]: f for f in cfg.filters}
    assert by["rt_chrf"]["min"] == 40 and by["length_ratio"]["max"] == 3
    # an always-on filter the config lacks is appended, and still runs first
    cfg = build_config({"lang": "sw"}, overrides=["filters.duplicate.mode=exact",
                                                  "filters.real_target_overlap.keep=true"])
    assert {"type": "duplicate", "name": "duplicate", "mode": "exact"} in cfg.filters
    from translate_synth.filters import build_filters
    chain = [n for n, _ in build_filters(cfg.filters)]
    assert chain[:3] == ["heldout_overlap", "duplicate", "real_target_overlap"]
    # two of one type: the name tells them apart; the type alone is ambiguous
    two = {"lang": "sw", "filters": [{"type": "length", "name": "short", "min": 3},
                                     {"type": "length", "name": "auth", "side": "authentic"}]}
    cfg = build_config(two, overrides=["filters.auth.max=500"])
    assert cfg.filters[1]["max"] == 500 and "max" not in cfg.filters[0]
    with pytest.raises(UserError, match="2 filters have type 'length'"):
        build_config(two, overrides=["filters.length.max=500"])


def test_an_unknown_filter_name_is_one_line_listing_the_filters(tmp_path):
    with pytest.raises(UserError) as e:
        build_config({"lang": "sw"}, overrides=["filters.rt_chrff.min=40"])
    msg = str(e.value)
    assert "\n" not in msg and "did you mean 'rt_chrf'" in msg
    assert "length_ratio" in msg and "rt_bleu" in msg and "duplicate" in msg
    cfg = tmp_path / "c.yaml"
    cfg.write_text("lang: sw\n")
    res = CliRunner().invoke(main, ["validate", str(cfg), "--set", "filters.nope.min=1"])
    assert res.exit_code == 2 and "no filter named 'nope'" in res.output


# ------------------------------------------------------------ the README's examples


def _readme_examples() -> list[str]:
    lines, in_code = [], False
    for line in (REPO / "README.md").read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
        elif in_code and line.strip().startswith("translate-synth refilter"):
            lines.append(line.strip())
    return lines


def test_readme_and_help_refilter_examples_run(tmp_path, monkeypatch):
    """The README's `translate-synth refilter` lines are the --help examples, and each runs on
    the demo's output (out/pt) as written."""
    examples = _readme_examples()
    assert examples == list(REFILTER_EXAMPLES)
    help_text = CliRunner().invoke(main, ["refilter", "--help"]).output
    for ex in examples:
        assert ex in help_text
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["run", "--lang", "pt", "--limit", "40", "--out", "out",
                                    "--no-report"])
    assert res.exit_code == 0, res.output
    for ex in examples:
        args = shlex.split(ex)
        assert args[0] == "translate-synth"
        res = CliRunner().invoke(main, args[1:])
        assert res.exit_code == 0, (ex, res.output)
    man = json.loads((tmp_path / "out" / "pt" / "manifest.json").read_text())
    by = {f["name"]: f for f in man["config"]["filters"]}
    assert by["rt_chrf"]["min"] == 40 and by["duplicate"]["mode"] == "exact"
    strict = json.loads((tmp_path / "out-strict" / "pt" / "manifest.json").read_text())
    assert {f["name"]: f for f in strict["config"]["filters"]}["quality"]["keep_top"] == 0.7

"""refilter: new thresholds from stored scores give the same files as a full run, with no model."""

import json

import pytest
from click.testing import CliRunner

import translate_synth.backends as backends
from translate_synth.cli import main

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


def test_refilter_equals_a_full_run_with_those_thresholds_and_calls_no_model(runs, monkeypatch):
    loose, strict = runs

    def no_model(*a, **k):
        raise AssertionError("refilter must not load a model")

    monkeypatch.setattr(backends, "make_translator", no_model)
    before = {f: (loose / f).read_bytes() for f in FILES}
    res = CliRunner().invoke(main, ["refilter", str(loose), "--set", "filters.1.min=75"])
    assert res.exit_code == 0, res.output
    assert "filter funnel" in res.output
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


def test_refilter_refuses_settings_that_need_the_model(runs):
    loose, _ = runs
    res = CliRunner().invoke(main, ["refilter", str(loose), "--set",
                                    "synthesis.decoding.beam_size=2"])
    assert res.exit_code == 2
    assert "'synthesis'" in res.output and "translate-synth run" in res.output


def test_refilter_on_a_dir_that_is_not_a_run(tmp_path):
    res = CliRunner().invoke(main, ["refilter", str(tmp_path)])
    assert res.exit_code == 2 and "manifest.json" in res.output

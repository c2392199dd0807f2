"""Batch: languages failing on purpose (a user error locally; a bug and a dead worker on Ray);
the run goes on and the summary says why."""

import json
import sys

import pytest
from click.testing import CliRunner

from translate_synth.cli import main


def test_batch_continues_past_a_failed_language_and_names_it(tmp_path):
    # pt runs on the offline bergamot model; sw cannot (bergamot has no sw model): it must fail
    res = CliRunner().invoke(main, ["batch", "--langs", "pt,sw", "--out", str(tmp_path),
                                    "--limit", "30", "--set", "model.backend=bergamot",
                                    "--set", "synthesis.paraphrase.methods=[pivot]"])
    assert res.exit_code == 1
    assert "sw (" in res.stderr and "bergamot has no sw-en model" in res.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    status = {r["lang"]: r["status"] for r in summary["languages"]}
    assert status == {"pt": "ok", "sw": "failed"} and summary["failed"] == ["sw"]
    assert (tmp_path / "pt" / "train.jsonl").is_file() and not (tmp_path / "sw").exists()
    md = (tmp_path / "summary.md").read_text()
    assert "| pt | ok |" in md and "| sw | failed |" in md
    rep = json.loads((tmp_path / "report.json").read_text())
    assert [r["lang"] for r in rep["summary"]] == ["pt"]


def _flaky_language(cfg_json, out):
    """Runs inside a Ray worker: sw raises a bug (not a user error), yo kills its worker, the
    others run for real (the worker imports the unpatched translate_synth.batch)."""
    import json as _json
    import os as _os

    from translate_synth import batch as _batch

    lang = _json.loads(cfg_json)["lang"]
    if lang == "sw":
        raise RuntimeError("boom: a bug in the sw run")
    if lang == "yo":
        _os._exit(3)
    return _batch._ray_language(cfg_json, out)


def test_ray_batch_continues_past_a_crashed_language(tmp_path, monkeypatch):
    pytest.importorskip("ray", reason="the Ray extra is not installed")
    import ray
    import ray.cloudpickle

    from translate_synth import batch
    from translate_synth.executors.ray_exec import init_ray

    init_ray(None, num_cpus=2)  # a local Ray with 2 CPUs, as in tests/test_ray.py
    try:
        # the task function is shipped to the workers by value (this test module is not
        # importable there)
        ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
        monkeypatch.setattr(batch, "_ray_language", _flaky_language)
        res = CliRunner().invoke(main, ["batch", "--langs", "sw,pt,yo", "--out", str(tmp_path),
                                        "--executor", "ray", "--limit", "20",
                                        "--set", "synthesis.paraphrase.methods=[pivot]"])
    finally:
        ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
        ray.shutdown()
    assert res.exit_code == 1, res.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    got = {r["lang"]: r for r in summary["languages"]}
    assert [r["lang"] for r in summary["languages"]] == ["sw", "pt", "yo"]
    assert got["pt"]["status"] == "ok" and (tmp_path / "pt" / "train.jsonl").is_file()
    assert got["sw"]["status"] == "failed" and summary["failed"] == ["sw", "yo"]
    assert got["sw"]["error"] == "RuntimeError: boom: a bug in the sw run"
    assert got["yo"]["status"] == "failed" and got["yo"]["error"]  # the worker died
    assert "sw (RuntimeError: boom: a bug in the sw run)" in res.stderr
    rep = json.loads((tmp_path / "report.json").read_text())
    assert [r["lang"] for r in rep["summary"]] == ["pt"]

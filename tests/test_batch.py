"""Batch: languages failing on purpose (a user error locally; a bug and a dead worker on Ray);
the run goes on and the summary says why."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from translate_synth.cli import main

REPO = Path(__file__).resolve().parents[1]


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
    # each language's own report, as `run` writes it (listed in its manifest)
    assert (tmp_path / "pt" / "report.html").is_file()
    assert "report.html" in json.loads((tmp_path / "pt" / "manifest.json").read_text())["outputs"]


def _flaky_language(cfg_json, out, report=True):
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
    return _batch._ray_language(cfg_json, out, report)


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


def test_batch_model_replaces_each_configs_model_as_run_does(tmp_path, tiny_nllb, sw_corpus):
    """--model exists for batch (the offline error tells users to pass it): a config whose
    model does not exist runs with --model."""
    conf = tmp_path / "configs"
    conf.mkdir()
    data = "\n".join(f"  {k}: ['{v}']" for k, v in sw_corpus.items())
    (conf / "sw.yaml").write_text(
        "lang: sw\nmodel: {backend: transformers, id: /no/such/model}\n"
        f"data:\n{data}\n"
        "synthesis: {decoding: {beam_size: 1, max_new_tokens: 8}, paraphrase: {enabled: false}}\n"
        "quality: {calibrate: false, logprob: false}\n", encoding="utf-8")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["batch", "--langs", "sw", "--config-dir", str(conf),
                                    "--out", str(out), "--model", str(tiny_nllb),
                                    "--no-report", "--limit", "12"])
    assert res.exit_code == 0, res.output
    man = json.loads((out / "sw" / "manifest.json").read_text())
    assert man["model"]["ids"] == {} and man["config"]["model"]["id"] == str(tiny_nllb)
    assert man["config"]["model"]["backend"] == "transformers"
    # --no-report: no report of the language; the cross-language one is still written
    assert not (out / "sw" / "report.html").exists() and (out / "report.html").is_file()
    # without --model the config's missing model fails the language, naming it
    res = CliRunner().invoke(main, ["batch", "--langs", "sw", "--config-dir", str(conf),
                                    "--out", str(tmp_path / "out2")])
    assert res.exit_code == 1 and "/no/such/model" in res.stderr


def test_ray_batch_resolves_model_as_run_does_before_any_task(tmp_path):
    """On Ray the configs are resolved on the driver with run's flag rules: --model with the
    bergamot backend is refused for that language, naming both flags (no Ray started)."""
    res = CliRunner().invoke(main, ["batch", "--langs", "pt", "--out", str(tmp_path),
                                    "--executor", "ray", "--model", "some/model",
                                    "--set", "model.backend=bergamot"])
    assert res.exit_code == 1
    assert "--model some/model with --set model.backend=bergamot" in res.stderr


def _script_env(path_dirs):
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join([*map(str, path_dirs), "/usr/bin", "/bin"])
    return env


def _fake_tool(path: Path, log: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\necho "$0 $*" > {log}\n')
    path.chmod(0o755)


def test_run_batch_sh_finds_the_checkouts_venv_or_path_or_says_how(tmp_path):
    if shutil.which("translate-synth", path="/usr/bin:/bin"):
        pytest.skip("translate-synth is installed system-wide here")
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "run_batch.sh", repo / "scripts" / "run_batch.sh")
    script = ["bash", str(repo / "scripts" / "run_batch.sh"), "sw,yo", "o", "--limit", "5"]
    log = tmp_path / "called"
    # neither a .venv in the checkout nor translate-synth on PATH: one line saying how
    p = subprocess.run(script, capture_output=True, text=True, env=_script_env([]))
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1
    assert "translate-synth not found" in p.stderr and ".venv/bin/pip install -e" in p.stderr
    # on PATH (an activated venv): used
    _fake_tool(tmp_path / "bin" / "translate-synth", log)
    p = subprocess.run(script, capture_output=True, text=True,
                       env=_script_env([tmp_path / "bin"]))
    assert p.returncode == 0, p.stderr
    assert log.read_text().split() == [str(tmp_path / "bin" / "translate-synth"), "batch",
                                       "--langs", "sw,yo", "--out", "o", "--jobs", "2",
                                       "--limit", "5"]
    # the checkout's .venv wins, with no venv activated
    _fake_tool(repo / ".venv" / "bin" / "translate-synth", log)
    p = subprocess.run(script, capture_output=True, text=True,
                       env=_script_env([tmp_path / "bin"]))
    assert p.returncode == 0, p.stderr
    assert log.read_text().split()[0] == str(repo / ".venv" / "bin" / "translate-synth")

"""The Ray executor gives the same rows as the local one (Ray started locally, 2 CPUs)."""

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from test_run import _config
from translate_synth.cli import main

ray = pytest.importorskip("ray", reason="the Ray extra is not installed (pip install "
                          "'translate-synth[ray]')")
FILES = ("train.jsonl", "valid.jsonl", "test.jsonl", "candidates.jsonl", "train.mixed.jsonl")


@pytest.fixture(scope="module")
def ray_local():
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    from translate_synth.executors.ray_exec import init_ray

    init_ray(None, num_cpus=2)
    yield
    ray.shutdown()


def test_ray_executor_writes_the_same_files_as_local(tmp_path, tiny_nllb, sw_corpus, ray_local):
    cfg = _config(tmp_path, tiny_nllb, sw_corpus)
    outs = {}
    for ex in ("local", "ray"):
        res = CliRunner().invoke(main, ["run", "--config", str(cfg), "--out", str(tmp_path / ex),
                                        "--executor", ex, "--no-cache", "--no-report",
                                        "--set", "executor.actors=2",
                                        "--set", "executor.batch_size=16"])
        assert res.exit_code == 0, res.output
        outs[ex] = {f: (tmp_path / ex / "sw" / f).read_bytes() for f in FILES}
    for f in FILES:
        assert outs["ray"][f] == outs["local"][f], f
    st = {ex: json.loads((tmp_path / ex / "sw" / "stats.json").read_text())
          for ex in ("local", "ray")}
    assert st["ray"]["synthesis"] == st["local"]["synthesis"]
    assert st["ray"]["filters"] == st["local"]["filters"]


def test_the_local_executor_never_imports_ray(tmp_path):
    code = ("import sys; from click.testing import CliRunner; from translate_synth.cli import main;"
            f"r = CliRunner().invoke(main, ['run', '--lang', 'pt', '--limit', '10', '--out', "
            f"'{tmp_path}', '--no-report']); assert r.exit_code == 0, r.output;"
            "print('ray' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-1000:]
    assert p.stdout.strip().splitlines()[-1] == "False"


def test_batch_fans_languages_out_over_ray(tmp_path, ray_local):
    res = CliRunner().invoke(main, ["batch", "--langs", "pt,sw", "--out", str(tmp_path),
                                    "--executor", "ray", "--limit", "20",
                                    "--set", "model.backend=bergamot",
                                    "--set", "synthesis.paraphrase.methods=[pivot]"])
    assert res.exit_code == 1
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert {r["lang"]: r["status"] for r in summary["languages"]} == {"pt": "ok",
                                                                      "sw": "failed"}
    assert "bergamot has no sw-en model" in res.stderr
    assert (tmp_path / "pt" / "train.jsonl").is_file()

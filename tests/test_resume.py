"""Resume: a run killed at any stage, run again, gives byte-identical outputs with no row lost.

Kills are real (SIGKILL from a named checkpoint, see translate_synth/faults.py) in a subprocess,
on the real bergamot en<->pt model (greedy, so deterministic) over the shipped sample data.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

OUTPUTS = ("train.jsonl", "valid.jsonl", "test.jsonl", "candidates.jsonl")
ARGS = ["run", "--lang", "pt", "--no-cache", "--no-report", "--limit", "20",
        "--set", "synthesis.chunk_size=8",
        "--set", "split.valid=4", "--set", "split.test=4"]


def _run(out: Path, fault: str | None = None, extra=()) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    env.pop("TRANSLATE_SYNTH_FAULT", None)
    if fault:
        env["TRANSLATE_SYNTH_FAULT"] = fault
    return subprocess.run([sys.executable, "-m", "translate_synth", *ARGS, "--out", str(out),
                           *extra], env=env, capture_output=True, text=True, timeout=300)


def _outputs(d: Path) -> dict:
    got = {f: (d / f).read_bytes() for f in OUTPUTS}
    stats = json.loads((d / "stats.json").read_text())
    stats.pop("timings_s")
    return {"files": got, "stats": stats}


@pytest.fixture(scope="module")
def baseline(small_pt_run):  # conftest.py: the uninterrupted run of ARGS, shared with test_ray
    return _outputs(small_pt_run)


@pytest.mark.parametrize("point", ["after_split", "chunk:bt:0", "chunk:ft:2", "after_synthesis",
                                   "after_filter", "after_emit", "mid_finish"])
def test_killed_run_resumes_to_identical_outputs(tmp_path, baseline, point):
    killed = _run(tmp_path, fault=point)
    assert killed.returncode == -9, killed.stderr  # really killed at that point
    assert not (tmp_path / "pt" / "manifest.json").exists()
    resumed = _run(tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    got = _outputs(tmp_path / "pt")
    assert got["files"] == baseline["files"]
    ids = [json.loads(line)["id"] for line in got["files"]["candidates.jsonl"].splitlines()]
    assert len(ids) == len(set(ids))  # no row duplicated (and identical files: none lost)
    translated = got["stats"].pop("model_sentences_translated")
    want = dict(baseline["stats"])
    full = want.pop("model_sentences_translated")
    assert got["stats"] == want  # counters restored from the journal, not double-counted
    if point not in ("after_split", "chunk:bt:0"):  # finished chunks cost no model call
        assert translated < full
        assert "resuming:" in resumed.stderr
    assert not (tmp_path / "pt" / ".work").exists()  # journal removed once the run is done


def test_ctrl_c_stops_after_the_chunk_and_says_how_to_resume(tmp_path, baseline):
    p = _run(tmp_path, fault="sigint@chunk:ft:1")
    assert p.returncode == 130
    last = p.stderr.strip().splitlines()[-1]
    assert last.startswith("interrupted:") and "run the same command again to resume" in last
    assert "Traceback" not in p.stderr
    assert not (tmp_path / "pt" / "train.jsonl").exists()  # no half-made outputs
    assert _run(tmp_path).returncode == 0
    assert _outputs(tmp_path / "pt")["files"] == baseline["files"]


def test_changed_config_is_refused_on_resume_unless_restart(tmp_path, baseline):
    assert _run(tmp_path, fault="chunk:ft:1").returncode == -9
    p = _run(tmp_path, extra=["--set", "filters.0.min=0.4"])
    assert p.returncode == 2
    line = p.stderr.strip()
    assert len(line.splitlines()) == 1 and "--restart" in line and "config 'filters'" in line
    p = _run(tmp_path, extra=["--restart"])
    assert p.returncode == 0, p.stderr
    assert "resuming" not in p.stderr
    assert _outputs(tmp_path / "pt")["files"] == baseline["files"]

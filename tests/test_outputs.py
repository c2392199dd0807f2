"""The output directory is owned by one run: after `run` or `refilter` with settings B, OUT/<lang>/
holds exactly the files a fresh run with B writes, byte for byte (wall-clock timings aside), and
manifest.json lists exactly those files; nothing of an earlier run with settings A remains.

Every run here starts in its own working directory with `--out out`, so the paths a run records
(output.dir in the manifest) are the same for all of them.
"""

import hashlib
import json
import os
import shutil
from itertools import combinations
from pathlib import Path

import pytest
from click.testing import CliRunner

from translate_synth.cli import main

BASE = ["--lang", "pt", "--limit", "30", "--no-cache", "--quiet",
        "--set", "split.valid=4", "--set", "split.test=4"]
TWO_STAGES = ("{name: mixed, real: 0.5, synthetic: 0.5}, {name: real, real: 1.0, synthetic: 0.0}")
A = ["--set", "curriculum.valid_synthetic=5", "--set", "collapse.enabled=true",
     "--set", f"curriculum.stages=[{TWO_STAGES}, {{name: bt_first, real: 0.3, synthetic: 0.7, "
              "origins: [bt]}]"]
B = ["--set", "curriculum.valid_synthetic=0", "--set", "collapse.enabled=false",
     "--set", f"curriculum.stages=[{TWO_STAGES}]"]
ONLY_A = ("valid_synthetic.jsonl", "train.bt_first.jsonl", "collapse.json",
          "report_plots/pt_collapse.png")
EMBED_TIMINGS = ("report.json", "report.html", "report.md")  # they embed stats.json


def _invoke(cwd: Path, args: list[str]):
    cwd.mkdir(parents=True, exist_ok=True)
    old = os.getcwd()
    os.chdir(cwd)
    try:
        res = CliRunner().invoke(main, args)
    finally:
        os.chdir(old)
    assert res.exit_code == 0, res.output
    return res


def _run(cwd: Path, settings: list[str]) -> Path:
    _invoke(cwd, ["run", *BASE, "--out", "out", *settings])
    return cwd / "out" / "pt"


def _files(d: Path) -> list[str]:
    return sorted(p.relative_to(d).as_posix() for p in d.rglob("*") if p.is_file())


def _digests(d: Path) -> dict:
    """sha256 per file; stats.json without its timings, and the files that embed them (the
    report, and the manifest's hashes of those) by name only."""
    out = {}
    for name in _files(d):
        data = (d / name).read_bytes()
        if name == "stats.json":
            st = json.loads(data)
            st.pop("timings_s")
            data = json.dumps(st).encode()  # key order kept: the file's order is compared too
        elif name == "manifest.json":
            m = json.loads(data)
            for n in ("stats.json", *EMBED_TIMINGS):
                if n in m["outputs"]:
                    m["outputs"][n]["sha256"] = "(embeds timings)"
            data = json.dumps(m).encode()
        elif name in EMBED_TIMINGS:
            data = b"(embeds timings)"
        out[name] = hashlib.sha256(data).hexdigest()
    return out


def _raw(d: Path) -> dict:
    return {name: (d / name).read_bytes() for name in _files(d)}


def _check_owned(d: Path) -> None:
    """The manifest lists exactly the files there, with their hashes; no id in two splits."""
    man = json.loads((d / "manifest.json").read_text())
    assert sorted([*man["outputs"], "manifest.json"]) == _files(d)
    for name, meta in man["outputs"].items():
        assert hashlib.sha256((d / name).read_bytes()).hexdigest() == meta["sha256"], name
    ids = {}
    for split in ("train", "valid", "test", "valid_synthetic"):
        p = d / f"{split}.jsonl"
        ids[split] = {json.loads(x)["id"] for x in p.read_text().splitlines()} if p.exists() \
            else set()
    for a, b in combinations(ids, 2):
        assert not ids[a] & ids[b], (a, b)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("owned")
    a = _run(root / "a", A)
    fresh_b = _run(root / "fresh_b", B)
    for name in ONLY_A:
        assert (a / name).is_file(), name  # settings A write them ...
        assert not (fresh_b / name).exists(), name  # ... and B does not
    _check_owned(a)
    _check_owned(fresh_b)
    assert ids_in(a, "valid_synthetic") and not ids_in(a, "valid_synthetic") & ids_in(a, "train")
    return root, a, _digests(fresh_b)


def ids_in(d: Path, split: str) -> set:
    return {json.loads(x)["id"] for x in (d / f"{split}.jsonl").read_text().splitlines()}


def test_a_rerun_with_other_settings_equals_a_fresh_run(runs):
    root, a, fresh_b = runs
    shutil.copytree(root / "a", root / "rerun")
    d = _run(root / "rerun", B)
    _check_owned(d)
    assert _digests(d) == fresh_b


def test_refilter_in_place_equals_a_fresh_run(runs):
    root, a, fresh_b = runs
    shutil.copytree(root / "a", root / "refilter")
    res = _invoke(root / "refilter", ["refilter", "out/pt", *B])
    assert "refiltered out/pt from stored scores in" in res.stderr
    d = root / "refilter" / "out" / "pt"
    _check_owned(d)
    assert _digests(d) == fresh_b
    # the leak of the issue: A's held-out synthetic rows are in B's train, and nowhere else
    held = ids_in(a, "valid_synthetic")
    assert held <= ids_in(d, "train") and not (d / "valid_synthetic.jsonl").exists()


def test_refilter_out_writes_a_full_run_and_leaves_the_original_untouched(runs):
    root, a, fresh_b = runs
    before = _raw(a)
    _invoke(root / "copy", ["refilter", str(a), "--out", "out/pt", *B])
    assert _raw(a) == before  # byte for byte, file for file
    d = root / "copy" / "out" / "pt"
    _check_owned(d)
    assert _digests(d) == fresh_b

"""The Ray executor gives the same rows as the local one (Ray started locally, 2 CPUs)."""

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from test_resume import _run
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
                                        "--set", "executor.cpus_per_actor=0.5",
                                        "--set", "executor.batch_size=16"])
        assert res.exit_code == 0, res.output
        outs[ex] = {f: (tmp_path / ex / "sw" / f).read_bytes() for f in FILES}
    for f in FILES:
        assert outs["ray"][f] == outs["local"][f], f
    st = {ex: json.loads((tmp_path / ex / "sw" / "stats.json").read_text())
          for ex in ("local", "ray")}
    for key in ("inputs", "real", "synthesis", "filters", "emitted", "curriculum",
                "model_sentences_translated"):
        assert st["ray"][key] == st["local"][key], key
    assert st["ray"]["synthesis"]["bt"]["rows"] > 0 and st["ray"]["real"]["valid"] == 5


def test_too_many_actors_for_the_cpus_is_a_clear_error(tmp_path, tiny_nllb, sw_corpus, ray_local):
    cfg = _config(tmp_path, tiny_nllb, sw_corpus)
    res = CliRunner().invoke(main, ["run", "--config", str(cfg), "--out", str(tmp_path / "o"),
                                    "--executor", "ray", "--no-cache", "--no-report",
                                    "--set", "executor.actors=2"])
    assert res.exit_code == 2
    assert "executor.actors x executor.cpus_per_actor = 2 CPUs" in res.stderr
    assert "Traceback" not in res.output


def test_bad_file_on_ray_gives_the_local_one_line_error(tmp_path, ray_local):
    bad = tmp_path / "bad.txt"
    bad.write_bytes("uma frase boa\n".encode() + b"caf\xe9 com leite\n")
    errs = {}
    for ex in ("local", "ray"):
        res = CliRunner().invoke(main, ["run", "--lang", "pt", "--target-mono", str(bad),
                                        "--out", str(tmp_path / ex), "--executor", ex,
                                        "--no-report", "--no-cache"])
        assert res.exit_code == 2, res.output
        errs[ex] = res.stderr.strip().splitlines()[-1]
    assert errs["ray"] == errs["local"]
    assert f"{bad}:2: not UTF-8 (byte 0xe9 at column 4)" in errs["ray"]
    assert not (tmp_path / "ray" / "pt").exists()


def _cli(out, executor, fault=None):
    return _run(out, fault, extra=["--executor", executor])  # test_resume's run, on an executor


@pytest.mark.parametrize("killed_on, resumed_on, point", [("ray", "ray", "chunk:ft:1"),
                                                         ("local", "ray", "chunk:bt:2"),
                                                         ("ray", "local", "chunk:paraphrase:0")])
def test_killed_run_resumes_across_executors(tmp_path, killed_on, resumed_on, point,
                                             small_pt_run):
    base = small_pt_run  # conftest.py: test_resume's run, uninterrupted, on the local executor
    killed = _cli(tmp_path / "x", killed_on, fault=point)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert not (tmp_path / "x" / "pt" / "manifest.json").exists()
    resumed = _cli(tmp_path / "x", resumed_on)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming:" in resumed.stderr
    for f in FILES:
        assert (tmp_path / "x" / "pt" / f).read_bytes() == (base / f).read_bytes(), f
    st = {d: json.loads((p / "stats.json").read_text())
          for d, p in (("base", base), ("x", tmp_path / "x" / "pt"))}
    assert st["x"]["synthesis"] == st["base"]["synthesis"]
    assert st["x"]["model_sentences_translated"] < st["base"]["model_sentences_translated"]


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


def test_every_input_format_reads_the_same_on_ray(tmp_path, ray_local):
    """Text (gz, CRLF, BOM, blanks), TSV with a header, JSONL, Parquet and a local `datasets`
    folder, several files per kind, duplicates across files and --limit: same rows either way."""
    import gzip

    import pyarrow as pa
    import pyarrow.parquet as pq

    from importlib import resources

    data = resources.files("translate_synth") / "data"
    pt = [ln for ln in (data / "udhr.pt-PT.txt").read_text(encoding="utf-8").splitlines()
          if ln.strip()]
    pairs = [ln.split("\t") for ln in
             (data / "udhr.en-pt.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    d = tmp_path / "in"
    (d / "hf").mkdir(parents=True)
    with gzip.open(d / "a.txt.gz", "wt", encoding="utf-8") as fh:
        fh.write("\ufeff" + "\r\n".join(pt[:12] + ["", "   "] + pt[:2]) + "\r\n")
    (d / "b.jsonl").write_text("\n".join(json.dumps({"pt": t}, ensure_ascii=False)
                                         for t in pt[10:20]) + "\n", encoding="utf-8")
    pq.write_table(pa.table({"pt": pt[18:26]}), d / "c.parquet")
    (d / "hf" / "train.jsonl").write_text("\n".join(json.dumps({"pt": t}, ensure_ascii=False)
                                                    for t in pt[24:30]) + "\n", encoding="utf-8")
    rows = pairs[:3] + pairs[:40]  # 3 duplicates within the first 14 records
    (d / "p.tsv").write_text("en\tpt\n" + "\n".join("\t".join(p) for p in rows) + "\n",
                             encoding="utf-8")
    outs, stats = {}, {}
    for ex in ("local", "ray"):
        args = ["run", "--lang", "pt", "--out", str(tmp_path / ex), "--executor", ex,
                "--no-cache", "--no-report", "--limit", "14",
                "--set", "synthesis.paraphrase.methods=[pivot]", "--set", "split.valid=4",
                "--set", "split.test=4", "--set", "data.parallel=[{path: " + str(d / "p.tsv") +
                ", header: true}]"]
        for f in ("a.txt.gz", "b.jsonl", "c.parquet"):
            args += ["--target-mono", str(d / f)]
        args += ["--target-mono", f"hf:{d / 'hf'}"]
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 0, res.output
        outs[ex] = {f: (tmp_path / ex / "pt" / f).read_bytes() for f in FILES}
        stats[ex] = json.loads((tmp_path / ex / "pt" / "stats.json").read_text())
    for f in FILES:
        assert outs["ray"][f] == outs["local"][f], f
    for key in ("inputs", "real", "synthesis"):
        assert stats["ray"][key] == stats["local"][key], key
    got = {i["path"].rsplit("/", 1)[-1]: i for i in stats["ray"]["inputs"]["target_mono"]}
    assert got["a.txt.gz"]["skipped"] == {"empty": 2} and got["a.txt.gz"]["read"] == 14
    assert stats["ray"]["synthesis"]["bt"]["skipped"]["duplicate"] >= 6
    assert stats["ray"]["real"]["duplicates"] == 3 and stats["ray"]["real"]["read"] == 14


def test_headers_cr_lines_and_save_to_disk_read_the_same_on_ray(tmp_path, ray_local):
    """A CR-only TSV with a header, a header that puts Portuguese first, a 3-column TSV picked
    by header name and an `hf:` directory from `save_to_disk`: the same rows, counts and
    `data:` lines on both executors; a 3-column TSV without `columns:`: the same error."""
    import datasets

    from importlib import resources

    data = resources.files("translate_synth") / "data"
    pairs = [ln.split("\t") for ln in
             (data / "udhr.en-pt.tsv").read_text(encoding="utf-8").splitlines()[:24]]
    d = tmp_path / "in"
    d.mkdir()
    (d / "mac.tsv").write_bytes(("English\tPortuguese\r" + "".join(
        f"{e}\t{p}\r" for e, p in pairs[:8])).encode())
    (d / "pt-en.tsv").write_text("pt\ten\n" + "".join(f"{p}\t{e}\n" for e, p in pairs[8:14]),
                                 encoding="utf-8")
    (d / "three.tsv").write_text("id\ten\tpt\n" + "".join(
        f"{i}\t{e}\t{p}\n" for i, (e, p) in enumerate(pairs[14:20])), encoding="utf-8")
    datasets.DatasetDict({"train": datasets.Dataset.from_dict({"pt": [p for _, p in pairs[18:]]})}
                         ).save_to_disk(str(d / "mono"))
    outs, stats, lines, errs = {}, {}, {}, {}
    for ex in ("local", "ray"):
        common = ["run", "--lang", "pt", "--executor", ex, "--no-cache", "--no-report",
                  "--set", "synthesis.paraphrase.max_rows=2", "--set", "split.valid=2",
                  "--set", "split.test=2", "--target-mono", f"hf:{d / 'mono'}"]
        res = CliRunner().invoke(main, common + [
            "--out", str(tmp_path / ex), "--parallel", str(d / "mac.tsv"),
            "--parallel", str(d / "pt-en.tsv"), "--parallel", str(d / "three.tsv"),
            "--set", "data.parallel.2.columns=[en, pt]"])
        assert res.exit_code == 0, res.output
        outs[ex] = {f: (tmp_path / ex / "pt" / f).read_bytes() for f in FILES}
        stats[ex] = json.loads((tmp_path / ex / "pt" / "stats.json").read_text())
        lines[ex] = [ln for ln in res.stderr.splitlines() if "] data: " in ln]
        res = CliRunner().invoke(main, common + ["--out", str(tmp_path / f"x{ex}"), "--parallel",
                                                 str(d / "three.tsv")])
        assert res.exit_code == 2, res.output
        errs[ex] = res.stderr.strip().splitlines()[-1]
    assert outs["ray"] == outs["local"] and lines["ray"] == lines["local"]
    assert stats["ray"]["inputs"] == stats["local"]["inputs"]
    assert [i["skipped"] for i in stats["ray"]["inputs"]["parallel"]] == [{"header": 1}] * 3
    assert stats["ray"]["real"]["read"] == 20
    real = [json.loads(x) for f in ("train", "valid", "test")
            for x in (tmp_path / "ray" / "pt" / f"{f}.jsonl").read_text().splitlines()]
    assert sorted((r["source"], r["target"]) for r in real if r["origin"] == "real") == \
        sorted(map(tuple, pairs[:20]))
    assert errs["ray"] == errs["local"] and "3 tab-separated columns (line 1: 'id', 'en', " \
        "'pt')" in errs["ray"] and errs["ray"].endswith("--set 'data.parallel.0.columns=[en, pt]'")


def test_unreachable_cluster_fails_fast_and_leaves_nothing(tmp_path):
    p = subprocess.run([sys.executable, "-m", "translate_synth", "run", "--lang", "pt",
                        "--limit", "5", "--out", str(tmp_path / "o"), "--executor", "ray",
                        "--ray-address", "127.0.0.1:1", "--no-report"],
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})
    assert p.returncode == 2
    assert p.stderr.strip().splitlines()[-1].startswith(
        "error: cannot reach the Ray cluster at 127.0.0.1:1")
    assert not (tmp_path / "o").exists()

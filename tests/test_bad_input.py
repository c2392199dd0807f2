"""The bad-input catalogue: each case exits 2 with one clear line and leaves no partial output.

Input-file cases run the real offline pt demo model (bergamot) on the bad file.
"""

import json
import os
import stat

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from translate_synth.cli import main


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


CASES = {
    "empty": ("--parallel", "empty.tsv", b"", "the file is empty"),
    "binary": ("--parallel", "bin.tsv", bytes(range(256)) * 8, "binary file"),
    "nul_bytes": ("--parallel", "nul.tsv", b"hello\tol\x00a\n", "NUL byte"),
    "invalid_utf8": ("--parallel", "bad.tsv", b"ok\tbom\n\xff\xfe\tx\n", ":2: not UTF-8"),
    "latin1": ("--target-mono", "l1.txt", "ação é boa\n".encode("latin-1"), "iconv"),
    "tsv_columns": ("--parallel", "cols.tsv", b"a\tb\nonly one\n", ":2: 1 tab-separated column"),
    "jsonl_not_json": ("--parallel", "x.jsonl", b'{"en": "a", "pt": "b"}\n{nope\n',
                       ":2: not valid JSON"),
    "jsonl_no_key": ("--parallel", "k.jsonl", b'{"en": "a", "pt": "b"}\n{"en": "c"}\n',
                     ":2: no field 'pt'"),
    "missing_file": ("--parallel", None, None, "no such file"),
}


def _run(args, out):
    return CliRunner().invoke(main, ["run", "--lang", "pt", "--out", str(out), *args])


def _one_clean_line(res, *needles):
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ")
    for n in needles:
        assert n in last, last
    return last


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_file(tmp_path, case):
    flag, name, data, needle = CASES[case]
    path = tmp_path / (name or "does-not-exist.tsv")
    if data is not None:
        _write(path, data)
    out = tmp_path / "out"
    res = _run([flag, str(path)], out)
    _one_clean_line(res, str(path), needle)
    assert not out.exists() or not any(out.rglob("*"))  # no partial output


def test_parquet_without_the_column(tmp_path):
    p = tmp_path / "x.parquet"
    pq.write_table(pa.table({"english": ["a"], "portuguese": ["b"]}), p)
    _one_clean_line(_run(["--parallel", str(p)], tmp_path / "o"), str(p), "no column", "keys:")


def test_directory_where_a_file_is_expected(tmp_path):
    _one_clean_line(_run(["--parallel", str(tmp_path)], tmp_path / "o"), "is a directory")


def test_crlf_and_bom_are_accepted_and_normalised(tmp_path):
    p = _write(tmp_path / "c.tsv", "\ufeffHello world.\tOlá mundo.\r\nGood day.\tBom dia.\r\n"
               "Thank you very much.\tMuito obrigado.\r\n".encode("utf-8"))
    res = _run(["--parallel", str(p), "--set", "split.valid=1", "--set", "split.test=1"],
               tmp_path / "o")
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for f in ("train", "valid", "test")
            for x in (tmp_path / "o" / "pt" / f"{f}.jsonl").read_text().splitlines()]
    texts = {r["source"] for r in rows if r["origin"] == "real"}
    assert texts == {"Hello world.", "Good day.", "Thank you very much."}
    assert not any("\r" in r["target"] or "\ufeff" in r["source"] for r in rows)


def test_a_1mb_line_is_skipped_with_a_count_or_truncated(tmp_path):
    p = _write(tmp_path / "long.txt", ("palavra " * 130_000 + "\nUma frase curta.\n").encode())
    res = _run(["--target-mono", str(p), "--set", "synthesis.paraphrase.enabled=false"],
               tmp_path / "o")
    assert res.exit_code == 0, res.output
    st = json.loads((tmp_path / "o" / "pt" / "stats.json").read_text())
    assert st["inputs"]["target_mono"][0]["skipped"] == {"too_long": 1}
    res = _run(["--target-mono", str(p), "--set", "synthesis.paraphrase.enabled=false",
                "--set", "data.long_lines=truncate", "--set", "data.max_chars=200"],
               tmp_path / "t")
    assert res.exit_code == 0, res.output
    cands = (tmp_path / "t" / "pt" / "candidates.jsonl").read_text().splitlines()
    assert len(cands) == 2 and all(len(json.loads(c)["target"]) <= 200 for c in cands)


@pytest.mark.parametrize("args,needle", [
    (["--lang", "xx"], "no language config for 'xx'"),
    (["--lang", "sw", "--backend", "bergamot"], "bergamot has no sw-en model"),
    (["--lang", "pt", "--backend", "ctranslate3"], "model.backend"),
    (["--lang", "sw", "--model", "/no/such/model"], "/no/such/model does not exist"),
    (["--lang", "pt", "--set", "synthesis.decodng.beam_size=2"], "did you mean 'decoding'"),
    (["--lang", "pt", "--set", "split.valid=abc"], "split.valid"),
    (["--lang", "pt", "--set", "filters.0.keep_top=3"], "keep_top"),
    (["--lang", "pt", "--set", "output.dir=../../etc"], "leaves the working directory"),
])
def test_bad_language_model_and_config(tmp_path, args, needle):
    res = CliRunner().invoke(main, ["run", *args, "--out", str(tmp_path / "o")])
    _one_clean_line(res, needle)
    assert not (tmp_path / "o").exists()


def test_yaml_that_is_not_a_mapping(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("- just\n- a list\n")
    res = CliRunner().invoke(main, ["run", "--config", str(p), "--out", str(tmp_path / "o")])
    _one_clean_line(res, str(p), "must be a mapping")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_output_dir_not_writable(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    _one_clean_line(_run([], ro), "not writable")


def test_output_dir_not_writable_even_as_root(tmp_path):
    f = tmp_path / "a-file"
    f.write_text("x")
    _one_clean_line(_run([], f), "not writable")  # a file where the output dir should be


def test_rtl_cjk_emoji_and_combining_characters_pass_through_intact(tmp_path):
    texts = ["مرحبا بالعالم، هذا اختبار.", "你好，世界。这是一个测试。", "Olá 👋🏽 mundo! 🎉",
             "Cafe\u0301 com pa\u0303o e manteiga."]
    p = _write(tmp_path / "mono.txt", ("\n".join(texts) + "\n").encode("utf-8"))
    res = _run(["--target-mono", str(p), "--set", "synthesis.paraphrase.enabled=false",
                "--set", "filters=[]"], tmp_path / "o")
    assert res.exit_code == 0, res.output
    got = [json.loads(x)["target"] for x in
           (tmp_path / "o" / "pt" / "candidates.jsonl").read_text().splitlines()]
    assert sorted(got) == sorted(texts)  # the authentic side byte for byte

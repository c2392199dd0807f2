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

REPO_DATA = __import__("pathlib").Path(__file__).resolve().parents[1] / "translate_synth" / "data"


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
    "utf16": ("--parallel", "u16.tsv", "Hello.\tOlá.\nGood day.\tBom dia.\n".encode("utf-16"),
              "this is UTF-16 text (little-endian, with a byte-order mark), not UTF-8; convert it, "
              "e.g. `iconv -f UTF-16 -t UTF-8 u16.tsv > u16.utf8.tsv`"),
    "utf16_no_bom": ("--target-mono", "u16be.txt", "Olá mundo.\nBom dia.\n".encode("utf-16-be"),
                     "`iconv -f UTF-16BE -t UTF-8 u16be.txt > u16be.utf8.txt`"),
    "utf32": ("--target-mono", "u32.txt", "Olá mundo.\n".encode("utf-32"), "iconv -f UTF-32"),
    "jsonl_deep": ("--parallel", "deep.jsonl",
                   b'{"en": "a", "pt": "b"}\n' + b"[" * 100_000 + b"]" * 100_000 + b"\n",
                   ":2: JSON nested too deeply"),
}


def _run(args, out):
    return CliRunner().invoke(main, ["run", "--lang", "pt", "--out", str(out), *args])


def _one_clean_line(res, *needles):
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and "internal error" not in res.output
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


def test_a_5mb_line_is_skipped_or_truncated_and_says_so_on_stderr(tmp_path):
    p = _write(tmp_path / "long.txt", ("palavra " * 650_000 + "\nUma frase curta.\n").encode())
    res = _run(["--target-mono", str(p), "--set", "synthesis.paraphrase.enabled=false"],
               tmp_path / "o")
    assert res.exit_code == 0, res.output
    st = json.loads((tmp_path / "o" / "pt" / "stats.json").read_text())
    assert st["inputs"]["target_mono"][0]["skipped"] == {"too_long": 1}
    assert (f"[translate-synth] data: {p}: 1 line skipped (over data.max_chars=1000; "
            "data.long_lines: truncate keeps it)\n[translate-synth] bt: 1 rows synthesised"
            ) in res.stderr
    res = _run(["--target-mono", str(p), "--set", "synthesis.paraphrase.enabled=false",
                "--set", "data.long_lines=truncate", "--set", "data.max_chars=200"],
               tmp_path / "t")
    assert res.exit_code == 0, res.output
    cands = (tmp_path / "t" / "pt" / "candidates.jsonl").read_text().splitlines()
    assert len(cands) == 2 and all(len(json.loads(c)["target"]) <= 200 for c in cands)
    assert (f"data: {p}: 1 line truncated to data.max_chars=200 (data.long_lines: truncate)"
            in res.stderr)


def _data_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("[translate-synth] data: ")]


def _pairs(n):
    return [ln.split("\t") for ln in (REPO_DATA / "udhr.en-pt.tsv").read_text(
        encoding="utf-8").splitlines()[:n]]


def test_duplicates_and_heldout_sentences_dropped_from_mono_text_are_one_line(tmp_path):
    pairs = _pairs(3)
    par = _write(tmp_path / "p.tsv", "".join(f"{s}\t{t}\n" for s, t in pairs).encode())
    mono = _write(tmp_path / "m.txt", "".join(f"{t}\n" for _, t in pairs).encode()
                  + "Uma frase nova.\nUma frase nova.\numa frase NOVA!\n".encode())
    res = _run(["--parallel", str(par), "--target-mono", str(mono), "--set", "split.valid=1",
                "--set", "split.test=1", "--set", "synthesis.paraphrase.enabled=false"],
               tmp_path / "o")
    assert res.exit_code == 0, res.output
    assert _data_lines(res.stderr) == [
        f"[translate-synth] data: {mono}: 2 duplicate lines dropped (the first occurrence is "
        "kept), 2 lines dropped: the same as a valid/test sentence"]
    st = json.loads((tmp_path / "o" / "pt" / "stats.json").read_text())
    assert st["synthesis"]["bt"]["inputs"] == 2


def test_one_bad_row_in_41_fails_by_default_and_on_error_skip_skips_it(tmp_path):
    rows = ["\t".join(p) for p in _pairs(40)]
    rows.insert(20, "a row without its translation")
    rows.append(rows[3])  # and a duplicate pair
    p = _write(tmp_path / "p41.tsv", ("\n".join(rows) + "\n").encode())
    last = _one_clean_line(_run(["--parallel", str(p)], tmp_path / "o"))
    assert last == (f"error: {p}:21: 1 tab-separated column(s), expected at least 2; fix the row "
                    "or set `columns:` for this file; or skip such rows: --set data.on_error=skip")
    assert not (tmp_path / "o").exists()
    res = _run(["--parallel", str(p), "--set", "data.on_error=skip"], tmp_path / "o")
    assert res.exit_code == 0, res.output
    st = json.loads((tmp_path / "o" / "pt" / "stats.json").read_text())
    assert st["inputs"]["parallel"][0]["skipped"] == {"invalid": 1}
    assert st["real"]["read"] == 41 and st["real"]["duplicates"] == 1
    assert _data_lines(res.stderr) == [
        f"[translate-synth] data: {p}: 1 bad line skipped (data.on_error: skip): {p}:21: 1 "
        "tab-separated column(s), expected at least 2",
        "[translate-synth] data: real pairs: 1 duplicate pair dropped (the first occurrence is "
        "kept)"]
    assert "real pairs: 24 train, 8 valid, 8 test" in res.stderr


def test_deeply_nested_jsonl_line_is_skippable(tmp_path):
    good = [json.dumps({"en": s, "pt": t}, ensure_ascii=False) for s, t in _pairs(10)]
    p = _write(tmp_path / "deep.jsonl", ("\n".join(good[:3] + ["[" * 100_000 + "]" * 100_000]
                                                   + good[3:]) + "\n").encode())
    res = _run(["--parallel", str(p), "--set", "data.on_error=skip"], tmp_path / "o")
    assert res.exit_code == 0, res.output
    st = json.loads((tmp_path / "o" / "pt" / "stats.json").read_text())
    assert st["inputs"]["parallel"][0]["skipped"] == {"invalid": 1}
    assert _data_lines(res.stderr) == [
        f"[translate-synth] data: {p}: 1 bad line skipped (data.on_error: skip): {p}:4: JSON "
        "nested too deeply to read"]


def test_both_executors_print_the_same_data_lines(tmp_path):
    pytest.importorskip("ray", reason="the Ray extra is not installed")
    import ray

    from translate_synth.executors.ray_exec import init_ray

    rows = ["\t".join(p) for p in _pairs(40)]
    for k in (5, 12, 19, 26, 33):
        rows.insert(k, f"bad row {k}")
    rows.append(rows[3])
    par = _write(tmp_path / "p.tsv", ("\n".join(rows) + "\n").encode())
    targets = [t for _, t in _pairs(40)]
    m1 = _write(tmp_path / "m1.txt", ("\n".join(["palavra " * 200, *targets[:20], "Uma frase.",
                                                 "Uma frase."]) + "\n").encode())
    m2 = _write(tmp_path / "m2.txt", ("\n".join(["Uma frase.", "Outra frase.", "x" * 1500])
                                      + "\n").encode())
    started = not ray.is_initialized()
    init_ray(None, num_cpus=2)
    try:
        lines, inputs = {}, {}
        for ex in ("local", "ray"):
            res = _run(["--parallel", str(par), "--target-mono", str(m1), "--target-mono", str(m2),
                        "--set", "data.on_error=skip",
                        "--set", "synthesis.paraphrase.enabled=false",
                        "--executor", ex, "--set", "executor.cpus_per_actor=0.5", "--no-report"],
                       tmp_path / ex)
            assert res.exit_code == 0, res.output
            lines[ex] = _data_lines(res.stderr)
            inputs[ex] = json.loads((tmp_path / ex / "pt" / "stats.json").read_text())["inputs"]
    finally:
        if started:
            ray.shutdown()
    assert lines["ray"] == lines["local"] and inputs["ray"] == inputs["local"]
    assert [ln.split(": ")[1] for ln in lines["local"]] == [str(par), "real pairs", str(m1),
                                                           str(m2)]
    assert "5 bad lines skipped" in lines["local"][0] and "; 2 more" in lines["local"][0]
    assert "1 line skipped (over data.max_chars=1000" in lines["local"][2]
    assert "1 duplicate line dropped" in lines["local"][3]


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

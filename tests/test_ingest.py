"""Readers: every supported format, cleaning, counts, limits, and one-line errors."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from translate_synth.config import DataConfig, DataFile
from translate_synth.errors import UserError
from translate_synth.ingest import InputStats, read_mono, read_parallel


def _par(path, **kw):
    st = InputStats(str(path), "parallel")
    data = DataConfig(**{k: v for k, v in kw.items() if k in DataConfig.model_fields})
    f = DataFile(path=str(path), **{k: v for k, v in kw.items() if k in DataFile.model_fields})
    return list(read_parallel(f, "en", "sw", data, st)), st


def test_tsv_cleans_whitespace_and_counts_empty(tmp_path):
    p = tmp_path / "a.tsv"
    p.write_bytes("\ufeffHello  world\tHabari\u00a0dunia\r\n\t\n  \tx\nOne\tMoja\n".encode())
    rows, st = _par(p)
    assert rows == [("Hello world", "Habari dunia"), ("One", "Moja")]
    assert (st.read, st.kept, dict(st.skipped)) == (4, 2, {"empty": 2})


def test_tsv_columns_and_header(tmp_path):
    p = tmp_path / "a.tsv"
    p.write_text("id\tsw\ten\n1\tMoja\tOne\n2\tMbili\tTwo\n", encoding="utf-8")
    rows, _ = _par(p, columns=[2, 1], header=True)
    assert rows == [("One", "Moja"), ("Two", "Mbili")]


def test_tsv_with_too_few_columns_names_the_line(tmp_path):
    p = tmp_path / "a.tsv"
    p.write_text("a\tb\nonly one\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"a\.tsv:2: 1 tab-separated column"):
        _par(p)


def test_jsonl_plain_and_hf_style(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_text(json.dumps({"en": "One", "sw": "Moja"}) + "\n" +
                 json.dumps({"translation": {"en": "Two", "sw": "Mbili"}}) + "\n", encoding="utf-8")
    rows, _ = _par(p)
    assert rows == [("One", "Moja"), ("Two", "Mbili")]


def test_jsonl_errors_name_line_and_field(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_text('{"en": "One", "sw": "Moja"}\n{"en": "Two"}\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"a\.jsonl:2: no field 'sw'.*keys"):
        _par(p)
    p.write_text('{"en": "One", "sw": "Moja"}\nnot json\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"a\.jsonl:2: not valid JSON"):
        _par(p)


def test_parquet_columns_and_missing_column(tmp_path):
    p = tmp_path / "a.parquet"
    pq.write_table(pa.table({"en": ["One", "Two", ""], "sw": ["Moja", "Mbili", "Tatu"]}), p)
    rows, st = _par(p)
    assert rows == [("One", "Moja"), ("Two", "Mbili")] and st.skipped["empty"] == 1
    with pytest.raises(UserError, match="no column 'sw'.*keys"):
        q = tmp_path / "b.parquet"
        pq.write_table(pa.table({"en": ["One"], "fr": ["Un"]}), q)
        _par(q)


def test_hf_dataset_through_datasets(tmp_path):
    d = tmp_path / "ds"
    d.mkdir()
    (d / "train.jsonl").write_text(
        "".join(json.dumps({"translation": {"en": e, "sw": s}}) + "\n"
                for e, s in [("One", "Moja"), ("Two", "Mbili")]), encoding="utf-8")
    rows, st = _par(f"hf:{d}")
    assert rows == [("One", "Moja"), ("Two", "Mbili")] and st.kept == 2


def test_hf_dataset_unavailable_offline_is_one_line():
    with pytest.raises(UserError, match=r"hf:nobody/no-such-dataset: cannot load"):
        _par("hf:nobody/no-such-dataset")


def test_mono_limit_and_long_lines(tmp_path):
    p = tmp_path / "m.txt"
    p.write_text("a b c\n" + "x" * 50 + "\nd e\nf g\n", encoding="utf-8")
    st = InputStats(str(p), "mono")
    got = list(read_mono(DataFile(path=str(p)), "sw", DataConfig(max_chars=20, limit=3), st))
    assert got == ["a b c", "d e"] and st.read == 3 and st.skipped["too_long"] == 1
    st = InputStats(str(p), "mono")
    got = list(read_mono(DataFile(path=str(p)), "sw",
                         DataConfig(max_chars=20, long_lines="truncate"), st))
    assert got[1] == "x" * 20 and len(got) == 4


def test_text_passes_rtl_cjk_emoji_and_combining_marks_intact(tmp_path):
    lines = ["مرحبا بالعالم", "你好，世界", "👩🏽‍💻 ok", "e\u0301te\u0301"]
    p = tmp_path / "m.txt"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    got = list(read_mono(DataFile(path=str(p)), "sw", DataConfig(), InputStats(str(p), "m")))
    assert got == lines


@pytest.mark.parametrize("content,match", [
    (b"", "the file is empty"),
    (b"abc\x00def\n", r":1: NUL byte"),
    ("caf\u00e9\n".encode("latin-1"), r":1: not UTF-8 .*iconv"),
])
def test_bad_files(tmp_path, content, match):
    p = tmp_path / "bad.txt"
    p.write_bytes(content)
    with pytest.raises(UserError, match=match):
        list(read_mono(DataFile(path=str(p)), "sw", DataConfig(), InputStats(str(p), "m")))


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        _par(tmp_path / "nope.tsv")
    with pytest.raises(UserError, match="is a directory"):
        _par(tmp_path)


def test_plain_text_cannot_be_parallel(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text("one\n", encoding="utf-8")
    with pytest.raises(UserError, match="parallel data needs two sides"):
        _par(p)

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


# ------------------------------------------------------------------ UTF-16/32, bad rows, summary
import gzip  # noqa: E402

from translate_synth.ingest import input_summary  # noqa: E402
from translate_synth.ingest_lines import wide_encoding  # noqa: E402

TEXT = "Hello world.\tOlá mundo.\nGood day.\tBom dia.\n"


@pytest.mark.parametrize("encoding,iconv,how", [
    ("utf-16", "UTF-16", "with a byte-order mark"),
    ("utf-16-le", "UTF-16LE", "NUL bytes in every other byte"),
    ("utf-16-be", "UTF-16BE", "NUL bytes in every other byte"),
    ("utf-32", "UTF-32", "with a byte-order mark"),
    ("utf-32-le", "UTF-32LE", "three of every four"),
    ("utf-32-be", "UTF-32BE", "three of every four"),
])
def test_utf16_and_utf32_are_named_with_the_iconv_line(tmp_path, encoding, iconv, how):
    p = tmp_path / "wide.tsv"
    p.write_bytes(TEXT.encode(encoding))
    with pytest.raises(UserError) as e:
        _par(p)
    msg = str(e.value)
    assert msg.startswith(f"{p}: this is {iconv[:6]} text") and how in msg
    assert f"`iconv -f {iconv} -t UTF-8 wide.tsv > wide.utf8.tsv`" in msg
    assert "NUL" not in msg.split("(")[0] and "binary" not in msg


def test_utf16_inside_gzip_says_how_to_convert(tmp_path):
    p = tmp_path / "wide.txt.gz"
    p.write_bytes(gzip.compress("Olá mundo.\n".encode("utf-16")))
    with pytest.raises(UserError, match=r"wide\.txt\.gz: this is UTF-16 .*`zcat wide\.txt\.gz \| "
                       r"iconv -f UTF-16 -t UTF-8 > wide\.utf8\.txt`"):
        list(read_mono(DataFile(path=str(p)), "pt", DataConfig(), InputStats(str(p), "m")))


def test_wide_encoding_leaves_utf8_binary_and_latin1_alone():
    assert wide_encoding("Olá mundo, ação\n".encode()) is None
    assert wide_encoding("Olá".encode("latin-1")) is None
    assert wide_encoding(bytes(range(256)) * 8) is None  # binary: the NUL byte error
    assert wide_encoding(b"\x00\x01") is None
    # UTF-16 without a BOM and without NUL high bytes (Amharic) is not guessed: it is not UTF-8
    assert wide_encoding("ሰላም ዓለም".encode("utf-16-le")) is None


def test_truncated_gzip_is_one_line(tmp_path):
    p = tmp_path / "cut.txt.gz"
    full = gzip.compress("".join(f"Frase {i * 7919 % 10007}.\n" for i in range(3000)).encode())
    p.write_bytes(full[: len(full) // 2])
    with pytest.raises(UserError, match=r"cut\.txt\.gz: cannot decompress"):
        list(read_mono(DataFile(path=str(p)), "pt", DataConfig(), InputStats(str(p), "m")))


def _bad_tsv(tmp_path, n_bad=5):
    rows = [f"Sentence {i}.\tSentensi {i}." for i in range(40)]
    for k in range(n_bad):
        rows.insert(5 + 7 * k, f"broken row {k}")
    p = tmp_path / "bad.tsv"
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return p


def test_a_bad_row_fails_by_default_naming_the_line_and_the_skip_option(tmp_path):
    p = _bad_tsv(tmp_path)
    with pytest.raises(UserError) as e:
        _par(p)
    assert str(e.value).startswith(f"{p}:6: 1 tab-separated column(s), expected at least 2")
    assert "data.on_error=skip" in str(e.value)


def test_on_error_skip_counts_bad_rows_and_names_the_first_three(tmp_path):
    p = _bad_tsv(tmp_path)
    rows, st = _par(p, on_error="skip")
    assert len(rows) == 40 and st.read == 45 and st.kept == 40
    assert st.as_dict()["skipped"] == {"invalid": 5}
    assert [n for n, _ in st.examples] == [6, 13, 20]
    line = input_summary(st, DataConfig())
    assert line.startswith(f"data: {p}: 5 bad lines skipped (data.on_error: skip): {p}:6: 1 tab")
    assert f"{p}:13:" in line and f"{p}:20:" in line and "; 2 more" in line
    assert f"{p}:27:" not in line and "\n" not in line


@pytest.mark.parametrize("line,needle", [
    ("[" * 100_000 + "]" * 100_000, "JSON nested too deeply"),
    ('{"en": ' * 5000 + '"x"' + "}" * 5000, "JSON nested too deeply"),
    ("1" * 5000, "not readable as JSON"),
    ('{"en": "a\\ud800", "sw": "b"}', "lone surrogate"),
    ('["en", "sw"]', "a JSON array, expected an object"),
    ('{"en": {"x": 1}, "sw": "b"}', "field 'en' is dict, not text"),
    ("{nope", "not valid JSON"),
])
def test_jsonl_row_problems_name_the_line_and_are_skippable(tmp_path, line, needle):
    p = tmp_path / "x.jsonl"
    good = json.dumps({"en": "One", "sw": "Moja"})
    p.write_text(f"{good}\n{line}\n{good.replace('One', 'Two')}\n", encoding="utf-8")
    with pytest.raises(UserError) as e:
        _par(p)
    assert str(e.value).startswith(f"{p}:2: ") and needle in str(e.value)
    assert "\n" not in str(e.value)
    rows, st = _par(p, on_error="skip")
    assert rows == [("One", "Moja"), ("Two", "Moja")] and st.as_dict()["skipped"] == {"invalid": 1}


def test_latin1_and_nul_lines_inside_a_utf8_file_are_bad_rows(tmp_path):
    p = tmp_path / "m.txt"
    p.write_bytes("Uma frase.\n".encode() * 500 + "ação\n".encode("latin-1") + b"a\x00b\n"
                  + "Outra frase.\n".encode())
    st = InputStats(str(p), "m")
    got = list(read_mono(DataFile(path=str(p)), "pt", DataConfig(on_error="skip"), st))
    assert got[-1] == "Outra frase." and len(got) == 501 and st.as_dict()["skipped"] == {
        "invalid": 2}
    assert [n for n, _ in st.examples] == [501, 502]
    assert "not UTF-8" in st.examples[0][1] and "NUL byte" in st.examples[1][1]
    with pytest.raises(UserError, match=r"m\.txt:501: not UTF-8"):
        list(read_mono(DataFile(path=str(p)), "pt", DataConfig(), InputStats(str(p), "m")))


def test_parquet_rows_of_the_wrong_type_are_bad_rows(tmp_path):
    p = tmp_path / "a.parquet"
    pq.write_table(pa.table({"en": ["One", "Two"], "sw": [{"x": "Moja"}, {"x": "Mbili"}]}), p)
    with pytest.raises(UserError, match=r"a\.parquet: row 1: field 'sw' is dict"):
        _par(p)
    # skipped under on_error: skip, which leaves no usable row: the file is refused
    with pytest.raises(UserError, match=r"a\.parquet: no usable row \(2 bad rows skipped by "
                       r"data\.on_error: skip\); give a file"):
        _par(p, on_error="skip")


def test_summary_line_for_long_truncated_and_dropped_lines(tmp_path):
    data = DataConfig(max_chars=20)
    st = InputStats("/d/x.txt", "target_mono", read=9, kept=5)
    assert input_summary(st, data) is None
    st.skipped.update({"empty": 3, "too_long": 1})
    assert input_summary(st, data) == ("data: /d/x.txt: 1 line skipped (over data.max_chars=20; "
                                       "data.long_lines: truncate keeps it)")
    st = InputStats("/d/x.parquet", "target_mono", read=9, kept=9)
    st.skipped["truncated (kept)"] = 2
    st.dropped.update(duplicate=3, heldout_overlap=1)
    assert input_summary(st, data) == (
        "data: /d/x.parquet: 2 rows truncated to data.max_chars=20 (data.long_lines: truncate), "
        "3 duplicate rows dropped (the first occurrence is kept), 1 row dropped: the same as a "
        "valid/test sentence")


def test_a_stray_nul_in_utf8_text_is_a_bad_line_but_binary_data_is_a_bad_file(tmp_path):
    p = tmp_path / "m.txt"
    p.write_bytes(b"Uma frase.\nUma\x00 frase.\n" + "Outra frase.\n".encode() * 300)
    st = InputStats(str(p), "m")
    got = list(read_mono(DataFile(path=str(p)), "pt", DataConfig(on_error="skip"), st))
    assert len(got) == 301 and st.as_dict()["skipped"] == {"invalid": 1}
    with pytest.raises(UserError, match=r"m\.txt:2: NUL byte in the line"):
        list(read_mono(DataFile(path=str(p)), "pt", DataConfig(), InputStats(str(p), "m")))
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(UserError, match=r"m\.txt:3: NUL byte: this looks like a binary file"):
        list(read_mono(DataFile(path=str(p)), "pt", DataConfig(on_error="skip"),
                       InputStats(str(p), "m")))


# ------------------------------------------------------------------ header words, line ends
from translate_synth.layout import language_of, looks_like_header  # noqa: E402


@pytest.mark.parametrize("fields,names,want", [
    (["English", "Português"], None, True), (["en", "pt-BR"], None, True),
    (["eng_Latn", "swh_Latn"], None, True), (["SOURCE", "target"], None, True),
    (["kiswahili"], None, True), (['"english"', " portuguese "], None, True),
    (["Xish", "en"], {"xx": "Xish"}, True), (["Xish"], None, False),
    (["id", "en", "pt"], None, False), (["The cat sleeps.", "O gato dorme."], None, False),
    (["Amen."], None, False), ([""], None, False), (["english text"], None, False),
])
def test_header_words_are_language_codes_names_or_sides(fields, names, want):
    assert looks_like_header(fields, names) is want


def test_language_of_reads_codes_names_and_regions():
    assert [language_of(w) for w in ("pt_PT", "por", "Portuguese", "sw", "swa", "zz", "en-GB",
                                     "english-ish")] == ["pt", "pt", "pt", "sw", "sw", None,
                                                         "en", None]


def test_cr_only_file_reads_as_lines_with_the_right_line_numbers(tmp_path):
    p = tmp_path / "mac.tsv"
    p.write_bytes(b"One\tUm\rTwo\tDois\r\rthree only\rFour\tQuatro\r")
    with pytest.raises(UserError, match=r"mac\.tsv:4: 1 tab-separated column"):
        _par(p)
    rows, st = _par(p, on_error="skip")
    assert rows == [("One", "Um"), ("Two", "Dois"), ("Four", "Quatro")]
    assert st.read == 5 and st.as_dict()["skipped"] == {"empty": 1, "invalid": 1}

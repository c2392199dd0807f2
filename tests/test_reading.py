"""A user's files read as they meant them, or refused in one line, through the CLI.

Multi-column TSV files, headers, CR/CRLF/LF line ends, blank files, `keys:` on a TSV file and
`hf:` directories written by `save_to_disk`. Every refusal exits 2 before a model is loaded (a
tripwire replaces the model loader) and leaves no output directory; `validate` gives the same
line as `run`. Reads run the real offline pt model (bergamot) or a tiny random NLLB, on a few lines.
"""

import json

import pytest
import yaml
from click.testing import CliRunner

from translate_synth.cli import main

ROWS = [("The child is reading.", "A criança está a ler.", "Mtoto anasoma.", "Ọmọ náà ń kàwé."),
        ("We eat rice.", "Nós comemos arroz.", "Tunakula wali.", "A jẹ ìrẹsì."),
        ("The sun is hot.", "O sol está quente.", "Jua ni kali.", "Oòrùn gbóná."),
        ("Good morning.", "Bom dia.", "Habari za asubuhi.", "E kaaro.")]
HEAD = "English\tPortuguese\tSwahili\tYoruba"


@pytest.fixture()
def no_model(monkeypatch):
    """Loading a model fails the test: a refused input must be refused before any model work."""
    def tripwire(cfg):
        raise AssertionError("a model was loaded for an input that should be refused")
    monkeypatch.setattr("translate_synth.pipeline.make_translator", tripwire)


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _refused(res) -> str:
    """The one error line of a refused command (exit 2, no traceback)."""
    assert res.exit_code == 2, (res.exit_code, res.output)
    assert "Traceback" not in res.output and "internal error" not in res.output, res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    return lines[0][len("error: "):]


def _config(tmp_path, lang, data: dict) -> str:
    p = tmp_path / f"{lang}.yaml"
    p.write_text(yaml.safe_dump({"lang": lang, "data": data}), encoding="utf-8")
    return str(p)


def _same_on_validate_and_run(tmp_path, lang, data, out) -> str:
    cfg = _config(tmp_path, lang, data)
    line = _refused(_cli("validate", cfg))
    assert _refused(_cli("run", "--config", cfg, "--out", out)) == line
    assert not out.exists()
    return line


def _real(out):
    return [(r["source"], r["target"]) for f in ("train", "valid", "test")
            for r in map(json.loads, (out / f"{f}.jsonl").read_text().splitlines())
            if r["origin"] == "real"]


def _data_lines(res):
    return [ln.split("] ", 1)[1] for ln in res.stderr.splitlines() if "] data: " in ln]


# ------------------------------------------------------------ more columns than needed
def test_a_4_column_tsv_is_refused_with_its_columns_and_the_fix(tmp_path, no_model):
    p = tmp_path / "four.tsv"
    p.write_text("\n".join([HEAD] + ["\t".join(r) for r in ROWS]) + "\n", encoding="utf-8")
    out = tmp_path / "o"
    line = _refused(_cli("run", "--lang", "sw", "--parallel", p, "--out", out))
    assert line == (f"{p}: 4 tab-separated columns (header line 1: 'English', 'Portuguese', "
                    "'Swahili', 'Yoruba') where 2 are needed, en (English) and sw (Swahili); "
                    "pick them with columns:, by 0-based number or by header name, e.g. "
                    "--set 'data.parallel.0.columns=[English, Swahili]'")
    assert not out.exists()
    # the same file without its header: the first row's fields, and numbers to pick by
    p.write_text("\n".join("\t".join(r) for r in ROWS) + "\n", encoding="utf-8")
    line = _refused(_cli("run", "--lang", "sw", "--parallel", p, "--out", out))
    assert line.startswith(f"{p}: 4 tab-separated columns (line 1: 'The child is reading.', "
                           "'A criança está a ler.', 'Mtoto anasoma.', 'Ọmọ náà ń kàwé.') where "
                           "2 are needed")
    assert line.endswith("e.g. --set 'data.parallel.0.columns=[0, 1]'")
    # validate says the same as run
    assert _same_on_validate_and_run(tmp_path, "sw", {"parallel": [str(p)]}, out) == line
    # and a parallel file given as monolingual text: 2 columns where 1 is needed
    line = _refused(_cli("run", "--lang", "sw", "--target-mono", p, "--out", out))
    assert line.startswith(f"{p}: 4 tab-separated columns (line 1: ") and "where 1 is needed, " \
        "sw (Swahili)" in line and "--set 'data.target_mono.0.columns=[0]'" in line


def test_a_4_column_tsv_with_columns_by_name_reads_english_and_swahili(tmp_path, tiny_nllb):
    p = tmp_path / "four.tsv"
    p.write_text("\n".join([HEAD] + ["\t".join(r) for r in ROWS]) + "\n", encoding="utf-8")
    out = tmp_path / "o"
    res = _cli("run", "--lang", "sw", "--model", tiny_nllb, "--parallel", p, "--out", out,
               "--set", "data.parallel.0.columns=[English, Swahili]", "--set", "split.valid=1",
               "--set", "split.test=1", "--set", "synthesis.paraphrase.max_rows=1",
               "--set", "synthesis.paraphrase.methods=[pivot]",
               "--set", "synthesis.decoding.max_new_tokens=4", "--set", "quality.calibrate=false",
               "--no-report", "--no-cache")
    assert res.exit_code == 0, res.output
    assert sorted(_real(out / "sw")) == sorted((r[0], r[2]) for r in ROWS)  # never Portuguese
    assert _data_lines(res) == [f"data: {p}: line 1 is a header, not data: en = 'English' "
                                "(column 0), sw = 'Swahili' (column 2)"]
    # by number: the same columns (validate reads the file as run does)
    cfg = _config(tmp_path, "sw", {"parallel": [{"path": str(p), "columns": [0, 2]}]})
    assert _cli("validate", cfg).exit_code == 0
    # a column whose header names another language is refused, even when picked by number
    cfg = _config(tmp_path, "sw", {"parallel": [{"path": str(p), "columns": [0, 1]}]})
    assert _refused(_cli("validate", cfg)) == (
        f"{p}: columns [0, 1] read 'Portuguese' (column 1 of the header, line 1) as sw "
        "(Swahili); pick the column of that language")


# ------------------------------------------------------------ line ends and header rows
def test_cr_only_lines_and_header_rows_read_as_the_user_meant(tmp_path):
    """An old-Mac (CR) file with an `english/portuguese` header, and an LF file whose header
    puts Portuguese first: every row a pair, in the right order, and the headers never data."""
    cr = tmp_path / "mac.tsv"
    cr.write_bytes(("english\tportuguese\r" + "".join(f"{r[0]}\t{r[1]}\r" for r in ROWS[:3]))
                   .encode())
    swapped = tmp_path / "pt-en.tsv"
    swapped.write_text("Português\tEnglish\n" + "".join(f"{r[1]}\t{r[0]}\n" for r in ROWS[3:]),
                       encoding="utf-8")
    out = tmp_path / "o"
    res = _cli("run", "--lang", "pt", "--parallel", cr, "--parallel", swapped, "--out", out,
               "--set", "split.valid=1", "--set", "split.test=1",
               "--set", "synthesis.paraphrase.max_rows=1", "--no-report", "--no-cache")
    assert res.exit_code == 0, res.output
    assert sorted(_real(out / "pt")) == sorted((r[0], r[1]) for r in ROWS)
    assert _data_lines(res) == [
        f"data: {cr}: line 1 is a header, not data: en = 'english' (column 0), pt = "
        "'portuguese' (column 1)",
        f"data: {swapped}: line 1 is a header, not data: en = 'English' (column 1), pt = "
        "'Português' (column 0)"]
    st = json.loads((out / "pt" / "stats.json").read_text())["inputs"]["parallel"]
    assert [(s["read"], s["kept"], s["skipped"]) for s in st] == [
        (4, 3, {"header": 1}), (2, 1, {"header": 1})]
    assert "real pairs: 2 train, 1 valid, 1 test" in res.stderr


def test_a_header_naming_other_languages_is_refused(tmp_path, no_model):
    p = tmp_path / "en-pt.tsv"
    p.write_text("english\tportuguese\n" + "".join(f"{r[0]}\t{r[1]}\n" for r in ROWS),
                 encoding="utf-8")
    line = _same_on_validate_and_run(tmp_path, "sw", {"parallel": [str(p)]}, tmp_path / "o")
    assert line == (f"{p}: the header row (line 1: 'english', 'portuguese') does not name en "
                    "(English) and sw (Swahili), which this input should hold; check that this "
                    "is the right file, or pick them with columns:, by 0-based number or by "
                    "header name (header: false reads line 1 as data)")


# ------------------------------------------------------------ files with no usable line
@pytest.mark.parametrize("name,content,why", [
    ("blank.txt", b"\n\n   \n", "3 blank lines"),
    ("blank-cr.txt", b"\r\r\r\r", "4 blank lines"),
    ("header-only.txt", "Português\n".encode(), "a header line"),
    ("header-only.tsv", b"en\tpt\r\n\r\n", "a header line, 1 blank line"),
])
def test_a_file_with_no_usable_line_is_refused(tmp_path, no_model, name, content, why):
    p = tmp_path / name
    p.write_bytes(content)
    flag = "--parallel" if name.endswith(".tsv") else "--target-mono"
    out = tmp_path / "o"
    line = _refused(_cli("run", "--lang", "pt", flag, p, "--out", out))
    assert line == (f"{p}: no usable line ({why}); give a file with text in it, or remove it "
                    "from the inputs")
    assert not out.exists()
    kind = "parallel" if flag == "--parallel" else "target_mono"
    assert _same_on_validate_and_run(tmp_path, "pt", {kind: [str(p)]}, out) == line


# ------------------------------------------------------------ options for the wrong format
def test_keys_on_a_tsv_file_and_columns_on_jsonl_are_refused(tmp_path, no_model):
    p = tmp_path / "p.tsv"
    p.write_text("".join(f"{r[0]}\t{r[1]}\n" for r in ROWS), encoding="utf-8")
    line = _same_on_validate_and_run(
        tmp_path, "pt", {"parallel": [{"path": str(p), "keys": ["english", "portuguese"]}]},
        tmp_path / "o")
    assert line == (f"{p}: `keys:` is for JSONL, Parquet and hf: inputs, and this input is read "
                    "as tsv; pick TSV columns with `columns:` (0-based numbers, or names from a "
                    "header row)")
    j = tmp_path / "p.jsonl"
    j.write_text("".join(json.dumps({"en": r[0], "pt": r[1]}) + "\n" for r in ROWS))
    line = _same_on_validate_and_run(
        tmp_path, "pt", {"parallel": [{"path": str(j), "columns": [0, 1]}]}, tmp_path / "o")
    assert line == f"{j}: `columns:` is for TSV files, and this input is read as jsonl; use `keys:`"


# ------------------------------------------------------------ hf:DIR from save_to_disk
def test_hf_dir_written_by_save_to_disk_is_read(tmp_path):
    import datasets

    def rows(rs):
        return datasets.Dataset.from_dict({"translation": [{"en": r[0], "pt": r[1]} for r in rs]})
    d = tmp_path / "dd"
    datasets.DatasetDict({"train": rows(ROWS[:3]), "test": rows(ROWS[3:])}).save_to_disk(str(d))
    out = tmp_path / "o"
    res = _cli("run", "--lang", "pt", "--parallel", f"hf:{d}", "--out", out, "--set",
               "split.valid=1", "--set", "split.test=1", "--set",
               "synthesis.paraphrase.max_rows=1", "--no-report", "--no-cache")
    assert res.exit_code == 0, res.output
    assert sorted(_real(out / "pt")) == sorted((r[0], r[1]) for r in ROWS[:3])  # the train split
    # another split by name; a single Dataset; a DatasetDict without `train`: one line
    assert _cli("validate", _config(tmp_path, "pt", {"parallel": [f"hf:{d}:test"]})).exit_code == 0
    rows(ROWS).save_to_disk(str(tmp_path / "ds"))
    assert _cli("validate", _config(tmp_path, "pt", {"parallel": [f"hf:{tmp_path / 'ds'}"]})
                ).exit_code == 0
    datasets.DatasetDict({"a": rows(ROWS), "b": rows(ROWS)}).save_to_disk(str(tmp_path / "ab"))
    line = _same_on_validate_and_run(tmp_path, "pt", {"parallel": [f"hf:{tmp_path / 'ab'}"]},
                                     tmp_path / "o2")
    assert line == (f"hf:{tmp_path / 'ab'}: no split 'train' in this DatasetDict (has a, b); "
                    f"name one: hf:{tmp_path / 'ab'}:SPLIT")

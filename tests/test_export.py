"""`translate-synth export`: a real run's splits and curriculum stages as a datasets DatasetDict,
line-aligned plain text and TSV; tagged back-translation exactly on the bt sources, never
twice; line breaks inside text never break the alignment; bad input is one line."""

import json
import shutil

import pytest
from click.testing import CliRunner

from test_evaluate import run_dir  # noqa: F401  (fixture: a small real bergamot run)
from translate_synth.cli import main

PARTS = {"train": "train.jsonl", "valid": "valid.jsonl", "test": "test.jsonl",
         "valid_synthetic": "valid_synthetic.jsonl", "mixed": "train.mixed.jsonl",
         "real": "train.real.jsonl"}  # the demo config's curriculum: stages mixed, real


def _invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _rows(path):
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _lines(path):
    return path.read_text(encoding="utf-8").split("\n")[:-1]


def _one_error(res) -> str:
    assert res.exit_code == 2, res.output
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.output
    return lines[0]


@pytest.fixture(scope="module")
def tagged_run(run_dir, tmp_path_factory):  # noqa: F811
    """The same run re-decided with curriculum.tag_bt (no model call): its bt sources in
    train.jsonl and the stages start with '<BT> '."""
    out = tmp_path_factory.mktemp("tagged") / "pt"
    res = _invoke("refilter", run_dir, "--set", "curriculum.tag_bt=true", "--out", out)
    assert res.exit_code == 0, res.output
    bt = [r for r in _rows(out / "train.jsonl") if r["origin"] == "bt"]
    assert bt and all(r["source"].startswith("<BT> ") for r in bt)
    return out


def test_hf_loads_with_load_from_disk_one_split_per_file(run_dir, tmp_path):  # noqa: F811
    from datasets import load_from_disk

    res = _invoke("export", run_dir, "--format", "hf", "--out", tmp_path / "hf", "--quiet")
    assert res.exit_code == 0, res.output
    dd = load_from_disk(str(tmp_path / "hf"))
    assert list(dd) == list(PARTS)
    for split, file in PARTS.items():
        rows = _rows(run_dir / file)
        ds = dd[split]
        assert ds.num_rows == len(rows) > 0
        assert set(ds.column_names) == {"id", "origin", "translation"}
        assert all(set(t) == {"en", "pt"} for t in ds["translation"])
        assert [t["en"] for t in ds["translation"]] == [r["source"] for r in rows]
        assert [t["pt"] for t in ds["translation"]] == [r["target"] for r in rows]
        assert ds["origin"] == [r["origin"] for r in rows] and ds["id"] == [r["id"] for r in rows]
    assert {"bt", "ft", "real"} <= set(dd["train"]["origin"])
    info = json.loads((tmp_path / "hf" / "export.json").read_text())
    assert info["splits"]["mixed"]["file"] == "train.mixed.jsonl"
    assert info["bt_tag"] is None and info["run"]["lang"] == "pt"


def test_text_and_tsv_are_line_aligned_pairs(run_dir, tmp_path):  # noqa: F811
    assert _invoke("export", run_dir, "--format", "text", "--out", tmp_path / "t").exit_code == 0
    assert _invoke("export", run_dir, "--format", "tsv", "--out", tmp_path / "v").exit_code == 0
    for file in PARTS.values():
        stem = file.removesuffix(".jsonl")
        rows = _rows(run_dir / file)
        en, pt = _lines(tmp_path / "t" / f"{stem}.en"), _lines(tmp_path / "t" / f"{stem}.pt")
        origin = _lines(tmp_path / "t" / f"{stem}.origin")
        assert len(en) == len(pt) == len(origin) == len(rows)
        assert en == [r["source"] for r in rows] and pt == [r["target"] for r in rows]
        assert origin == [r["origin"] for r in rows]
        tsv = [x.split("\t") for x in _lines(tmp_path / "v" / f"{stem}.tsv")]
        assert tsv == [[r["source"], r["target"]] for r in rows]
        assert _lines(tmp_path / "v" / f"{stem}.origin") == origin


def _sources(export_dir, split="train"):
    return (_lines(export_dir / f"{split}.en"), _lines(export_dir / f"{split}.origin"))


@pytest.mark.parametrize("args, tag", [(["--tag-bt"], "<BT>"),
                                       (["--bt-tag", "__bt__"], "__bt__")])
def test_tag_bt_prefixes_exactly_the_bt_sources(run_dir, tmp_path, args, tag):  # noqa: F811
    res = _invoke("export", run_dir, "--format", "text", "--out", tmp_path / "x", *args)
    assert res.exit_code == 0, res.output
    info = json.loads((tmp_path / "x" / "export.json").read_text())
    for split, file in PARTS.items():
        rows = _rows(run_dir / file)
        en, origin = _sources(tmp_path / "x", file.removesuffix(".jsonl"))
        for line, r in zip(en, rows, strict=True):
            want = f"{tag} {r['source']}" if r["origin"] == "bt" else r["source"]
            assert line == want
        n_bt = sum(r["origin"] == "bt" for r in rows)
        assert info["splits"][split]["bt_tagged"] == n_bt
    assert info["splits"]["train"]["bt_tagged"] > 0 and info["bt_tag"] == tag


def test_a_run_that_tagged_is_never_tagged_twice(tagged_run, run_dir, tmp_path):  # noqa: F811
    plain = {r["id"]: r["source"] for f in PARTS.values() for r in _rows(run_dir / f)}
    cases = {"default": ([], "<BT>"), "tag": (["--tag-bt"], "<BT>"),
             "other": (["--bt-tag", "[bt]"], "[bt]"), "none": (["--no-tag-bt"], None)}
    for name, (args, tag) in cases.items():
        out = tmp_path / name
        res = _invoke("export", tagged_run, "--format", "tsv", "--out", out, *args)
        assert res.exit_code == 0, res.output
        for file in PARTS.values():
            stem = file.removesuffix(".jsonl")
            ids = [r["id"] for r in _rows(tagged_run / file)]
            src = [x.split("\t")[0] for x in _lines(out / f"{stem}.tsv")]
            origin = _lines(out / f"{stem}.origin")
            for i, s, o in zip(ids, src, origin, strict=True):
                base = plain[i.split("#")[0]] if i.split("#")[0] in plain else None
                if o == "bt" and tag:
                    assert s == f"{tag} {base}", (name, file, s)
                else:
                    assert s == base and "<BT>" not in s, (name, file, s)
    assert "curriculum.tag_bt" in _invoke("export", tagged_run, "--format", "tsv", "--out",
                                          tmp_path / "said").output


def test_line_breaks_inside_text_never_break_alignment(run_dir, tmp_path):  # noqa: F811
    from datasets import load_from_disk

    broken = tmp_path / "run"
    shutil.copytree(run_dir, broken)
    rows = _rows(broken / "train.jsonl")
    rows[-1]["target"] = "uma linha\nduas\r\ntrês\u2028quatro"
    rows[-2]["source"] = "one\ttwo\x85three"
    (broken / "train.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                                                for r in rows), encoding="utf-8")
    for fmt in ("text", "tsv", "hf"):
        res = _invoke("export", broken, "--format", fmt, "--out", tmp_path / fmt)
        assert res.exit_code == 0, res.output
    en, pt = _lines(tmp_path / "text" / "train.en"), _lines(tmp_path / "text" / "train.pt")
    assert len(en) == len(pt) == len(rows)
    assert pt[-1] == "uma linha duas três quatro" and en[-2] == "one two three"
    tsv = [x.split("\t") for x in _lines(tmp_path / "tsv" / "train.tsv")]
    assert len(tsv) == len(rows) and all(len(x) == 2 for x in tsv)
    info = json.loads((tmp_path / "text" / "export.json").read_text())
    assert info["splits"]["train"]["whitespace_collapsed"] == 2
    assert "2 text(s) held a line break or tab" in _invoke(
        "export", broken, "--format", "text", "--out", tmp_path / "text").output
    ds = load_from_disk(str(tmp_path / "hf"))["train"]  # hf keeps the text as it is
    assert ds["translation"][-1]["pt"] == rows[-1]["target"]


def test_an_export_replaces_an_earlier_one_whole(run_dir, tmp_path):  # noqa: F811
    out = tmp_path / "e"
    assert _invoke("export", run_dir, "--format", "text", "--out", out).exit_code == 0
    assert _invoke("export", run_dir, "--format", "tsv", "--out", out).exit_code == 0
    assert not list(out.glob("*.en")) and (out / "train.tsv").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e"]  # no temporary directory left


def test_bad_input_is_one_line_and_writes_nothing(run_dir, tmp_path):  # noqa: F811
    out = tmp_path / "out"
    assert "no such run directory" in _one_error(
        _invoke("export", tmp_path / "nope", "--format", "hf", "--out", out))
    unfinished = tmp_path / "unfinished"
    shutil.copytree(run_dir, unfinished)
    (unfinished / "manifest.json").unlink()
    assert "not a finished run" in _one_error(
        _invoke("export", unfinished, "--format", "hf", "--out", out))
    assert "inside the run directory" in _one_error(
        _invoke("export", run_dir, "--format", "text", "--out", run_dir / "export"))
    assert "holds the run directory" in _one_error(
        _invoke("export", run_dir, "--format", "text", "--out", run_dir.parent))
    other = tmp_path / "other"
    other.mkdir()
    (other / "mine.txt").write_text("keep me")
    assert "not an earlier export" in _one_error(
        _invoke("export", run_dir, "--format", "text", "--out", other))
    assert (other / "mine.txt").read_text() == "keep me"
    assert "--bt-tag" in _one_error(
        _invoke("export", run_dir, "--format", "text", "--out", out, "--bt-tag", "<B T>"))
    assert "drop one" in _one_error(_invoke("export", run_dir, "--format", "text", "--out",
                                            out, "--bt-tag", "x", "--no-tag-bt"))
    assert "--format" in _one_error(
        _invoke("export", run_dir, "--format", "csv", "--out", out))
    edited = tmp_path / "edited"
    shutil.copytree(run_dir, edited)
    with open(edited / "valid.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "x", "source": "a", "target": "b", "origin": "real"}) + "\n")
    assert "changed since" in _one_error(
        _invoke("export", edited, "--format", "hf", "--out", out))
    missing = tmp_path / "missing"
    shutil.copytree(run_dir, missing)
    (missing / "train.mixed.jsonl").unlink()
    assert "train.mixed.jsonl: missing" in _one_error(
        _invoke("export", missing, "--format", "tsv", "--out", out))
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_stage_names_that_are_not_split_names_and_stage_weights(run_dir, tmp_path):  # noqa: F811
    from datasets import load_from_disk

    run = tmp_path / "run"
    res = _invoke("refilter", run_dir, "--out", run, "--set",
                  "curriculum.stages=[{name: train, real: 1, synthetic: 1, weights: {bt: 0.5}}, "
                  "{name: tail-end, real: 1, synthetic: 0}]")
    assert res.exit_code == 0, res.output
    res = _invoke("export", run, "--format", "hf", "--out", tmp_path / "hf")
    assert res.exit_code == 0, res.output
    assert "stage 'tail-end' is split 'train_tail_end'" in res.output
    dd = load_from_disk(str(tmp_path / "hf"))
    assert list(dd) == ["train", "valid", "test", "valid_synthetic", "train_train",
                        "train_tail_end"]
    rows = _rows(run / "train.train.jsonl")
    assert dd["train_train"]["weight"] == [r["weight"] for r in rows]
    assert {r["weight"] for r in rows if r["origin"] == "bt"} == {0.5}
    assert "weight" not in dd["train"].column_names
    assert dd["train_tail_end"].num_rows == len(_rows(run / "train.tail-end.jsonl"))
    res = _invoke("export", run, "--format", "text", "--out", tmp_path / "t")
    assert _lines(tmp_path / "t" / "train.train.weight") == [str(float(r["weight"]))
                                                             for r in rows]
    assert len(_lines(tmp_path / "t" / "train.tail-end.pt")) == dd["train_tail_end"].num_rows

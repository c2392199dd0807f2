"""Reports: numbers equal stats.json, every plot present, the page loads in a real browser."""

import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from translate_synth.cli import main


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

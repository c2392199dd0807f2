"""Progress: every long step says how far it is, with a total (and an ETA) where one is known,
on stderr; --quiet prints none; a warning is said once."""

import json
import logging
import re

import pytest
from click.testing import CliRunner

from test_evaluate import run_dir  # noqa: F401  (fixture: a small real bergamot run)
from translate_synth import progress
from translate_synth.cli import main


@pytest.fixture()
def every_update(monkeypatch):
    """A progress line at every update (not every 30 s), and no first line on a timer."""
    monkeypatch.setenv(progress.EVERY_ENV, "0")
    monkeypatch.setattr(progress, "FIRST_LINE_AFTER", 3600.0)
    progress.set_quiet(False)


@pytest.fixture()
def lines():
    """The messages the package logs while the test runs (each without its prefix)."""
    got: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: got.append(record.getMessage())
    logging.getLogger("translate_synth").addHandler(handler)
    yield got
    logging.getLogger("translate_synth").removeHandler(handler)


def test_a_counted_step_says_count_total_and_eta_and_its_time(every_update, lines):
    with progress.bar("thing", total=10, unit="texts") as bar:
        for _ in range(4):
            bar.update(2)
        assert bar.eta() is not None and bar.eta() >= 0
    assert [re.match(r"thing: (\d+)/10 texts \((\d+) %\), .* texts/s, ETA ", x).groups()
            for x in lines[:4]] == [("2", "20"), ("4", "40"), ("6", "60"), ("8", "80")]
    assert re.fullmatch(r"thing: 8/10 texts in \d+\.\d s", lines[4])  # stopped short: says so
    assert len(lines) == 5


def test_the_first_line_timer_repeats_no_line_an_update_printed(monkeypatch, lines):
    monkeypatch.setenv(progress.EVERY_ENV, "0")  # a line at every update
    monkeypatch.setattr(progress, "FIRST_LINE_AFTER", 0.3)  # fires after the first update
    progress.set_quiet(False)
    bar = progress.bar("step", total=3, unit="steps")
    bar.update(1)
    bar._timer.join(5)  # the first-line timer has fired (or was a no-op) by now
    bar.update(1)
    bar.close()
    assert [x.split(",")[0] for x in lines] == ["step: 1/3 steps (33 %)",
                                                "step: 2/3 steps (67 %)"] + lines[2:]
    assert len(lines) == 3 and lines[2].startswith("step: 2/3 steps in ")


def test_a_resumed_step_counts_its_rate_from_where_it_resumed(every_update, lines):
    bar = progress.bar("train", total=100, unit="steps", initial=90)
    assert bar.eta() is None  # nothing done yet in this process: no rate, no ETA
    bar.update(5)
    assert bar.n == 95 and "95/100 steps" in lines[0]
    bar.close()
    assert "95/100 steps in" in lines[-1]


def test_work_a_resume_replays_counts_but_not_in_the_rate(every_update, monkeypatch, lines):
    clock = [1000.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    bar = progress.bar("bt", total=100, unit="texts")
    clock[0] += 5  # reading the journal
    bar.skip(50)  # chunks from the journal: no model call
    assert bar.n == 50 and bar.eta() is None
    clock[0] += 20
    bar.update(10)  # 10 texts computed in 20 s: the 40 left take 80 s
    assert bar.n == 60 and bar.eta() == 80.0
    assert lines[-1].startswith("bt: 60/100 texts (60 %), 0.5 texts/s, ETA 1 min 20 s")


def test_progress_goes_to_stderr_and_quiet_prints_nothing(every_update, monkeypatch, capsys):
    def steps():
        with progress.bar("thing", total=3) as bar:
            bar.update(3)
        with progress.step("a step", after=0):
            pass
    steps()
    got = capsys.readouterr()
    assert got.out == "" and "thing: 3/3 rows" in got.err and "a step: done in" in got.err
    progress.set_quiet(True)
    try:
        steps()
    finally:
        progress.set_quiet(False)
    assert capsys.readouterr() == ("", "")
    with progress.silenced():  # a block: nothing, and the level it found is back after it
        steps()
    assert capsys.readouterr() == ("", "") and not progress.is_quiet()
    steps()
    assert "thing: 3/3 rows" in capsys.readouterr().err


def test_translate_in_chunks_keeps_the_order_and_counts_every_text(every_update, lines):
    class Echo:
        calls = []

        def translate(self, texts, src, tgt, decoding, n=1, seed=0):
            self.calls.append(len(texts))
            return [[t.upper()] for t in texts]

    texts = [f"text {'x' * (i % 7)} {i}" for i in range(150)]
    with progress.bar("t", total=len(texts)) as bar:
        got = progress.translate(Echo(), texts, "en", "pt", None, bar, chunk=64)
    assert got == [[t.upper()] for t in texts]
    assert Echo.calls == [64, 64, 22] and bar.n == 150


def _progress_lines(text: str) -> list[str]:
    return [x for x in text.splitlines() if x.startswith("[translate-synth]")]


def test_run_shows_synthesis_totals_on_stderr_and_quiet_shows_none(every_update, tmp_path):
    res = CliRunner().invoke(main, ["run", "--lang", "pt", "--limit", "30", "--no-report",
                                    "--out", str(tmp_path / "a"),
                                    "--set", "filters.rt_chrf.min=99.5"])
    assert res.exit_code == 0, res.output
    st = json.loads((tmp_path / "a" / "pt" / "stats.json").read_text())
    for origin in ("bt", "ft", "paraphrase"):
        m = re.findall(rf"\] {origin} \(synthesise \+ round trip\): (\d+)/(\d+) texts .*ETA",
                       res.stderr)
        assert m, res.stderr
        assert int(m[-1][0]) == int(m[-1][1]) == st["synthesis"][origin]["inputs"]
    assert re.search(r"quality calibration \(translate real pairs\): \d+/\d+ sentences",
                     res.stderr)
    assert "model: loading bergamot" in res.stderr
    # the filters kept almost nothing: that warning, like every other, said once
    assert any("synthetic candidates kept" in w for w in st["warnings"])
    assert res.stderr.count("WARNING:") == len(st["warnings"])
    assert all(res.stderr.count(w) == 1 for w in st["warnings"])
    # --quiet, the same run again (finished: nothing to synthesise, the cache answers):
    # no progress line, the warning still once
    res = CliRunner().invoke(main, ["run", "--lang", "pt", "--limit", "30", "--no-report",
                                    "--out", str(tmp_path / "a"), "--quiet",
                                    "--set", "filters.rt_chrf.min=99.5"])
    assert res.exit_code == 0, res.output
    assert _progress_lines(res.stderr) == []
    assert res.stderr.count("WARNING:") == len(st["warnings"])
    assert all(res.stderr.count(w) == 1 for w in st["warnings"])


def test_evaluate_shows_rows_translated_of_the_total(every_update, run_dir, tmp_path):  # noqa: F811
    res = CliRunner().invoke(main, ["evaluate", "bergamot", str(run_dir), "--out",
                                    str(tmp_path / "e")])
    assert res.exit_code == 0, res.output
    n = sum(1 for x in (run_dir / "test.jsonl").read_text().splitlines() if x.strip())
    assert re.search(rf"evaluate: model bergamot: test en->pt: {n}/{n} rows \(100 %\)",
                     res.stderr), res.stderr
    res = CliRunner().invoke(main, ["evaluate", "bergamot", str(run_dir), "--out",
                                    str(tmp_path / "q"), "--quiet"])
    assert res.exit_code == 0 and _progress_lines(res.stderr) == []

"""Batch: two languages, one failing on purpose; the run goes on and the summary says why."""

import json

from click.testing import CliRunner

from translate_synth.cli import main


def test_batch_continues_past_a_failed_language_and_names_it(tmp_path):
    # pt runs on the offline bergamot model; sw cannot (bergamot has no sw model): it must fail
    res = CliRunner().invoke(main, ["batch", "--langs", "pt,sw", "--out", str(tmp_path),
                                    "--limit", "30", "--set", "model.backend=bergamot",
                                    "--set", "synthesis.paraphrase.methods=[pivot]"])
    assert res.exit_code == 1
    assert "sw (" in res.stderr and "bergamot has no sw-en model" in res.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    status = {r["lang"]: r["status"] for r in summary["languages"]}
    assert status == {"pt": "ok", "sw": "failed"} and summary["failed"] == ["sw"]
    assert (tmp_path / "pt" / "train.jsonl").is_file() and not (tmp_path / "sw").exists()
    md = (tmp_path / "summary.md").read_text()
    assert "| pt | ok |" in md and "| sw | failed |" in md
    rep = json.loads((tmp_path / "report.json").read_text())
    assert [r["lang"] for r in rep["summary"]] == ["pt"]

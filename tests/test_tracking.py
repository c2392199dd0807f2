"""Comet ML: without an API key a run writes an offline archive with its metrics, offline."""

import json
import zipfile

from click.testing import CliRunner

from test_network import no_network  # noqa: F401  (fixture)
from translate_synth.cli import main


def test_track_comet_writes_an_offline_archive_with_the_metrics(tmp_path, monkeypatch,
                                                                no_network):  # noqa: F811
    monkeypatch.delenv("COMET_API_KEY", raising=False)
    res = CliRunner().invoke(main, ["run", "--lang", "pt", "--limit", "40", "--out",
                                    str(tmp_path), "--track", "comet"])
    assert res.exit_code == 0, res.output
    assert "offline archive in" in res.stderr
    archives = list((tmp_path / "pt" / "comet").glob("*.zip"))
    assert len(archives) == 1
    with zipfile.ZipFile(archives[0]) as z:
        msgs = [json.loads(x) for x in z.read("messages.json").decode().splitlines()]
    metrics = {m["payload"]["metric"]["metricName"]: m["payload"]["metric"]["metricValue"]
               for m in msgs if m["type"] == "metric_msg"}
    params = {m["payload"]["param"]["paramName"] for m in msgs if m["type"] == "parameter_msg"}
    assets = {m["payload"]["additional_params"].get("fileName") for m in msgs
              if m["type"] == "file_upload"}
    st = json.loads((tmp_path / "pt" / "stats.json").read_text())
    rt = next(f for f in st["filters"] if f["name"] == "rt_chrf")
    assert float(metrics["filter.rt_chrf.kept"]) == rt["kept"]
    assert float(metrics["emitted.train.real"]) == st["emitted"]["train"]["real"]
    assert "collapse.alarms" in metrics and "model.backend" in params
    assert {"report.html", "manifest.json"} <= assets
    assert no_network == []

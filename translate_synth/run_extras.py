"""The report and the Comet ML archive of a finished run: written after its data files, listed
in its manifest (`run`, `refilter` and `batch` call ``write_extras``)."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from translate_synth.emit import publish, write_json

log = logging.getLogger(__name__)


def write_extras(out: Path, stats: dict, manifest: dict, report: bool, comet: bool) -> dict:
    """The report (report.json/.html/.md, report_plots/) and the Comet ML offline archive
    (comet/) of a finished run in ``out``: staged, moved in, and listed in ``manifest.json``
    (rewritten with them; the report embeds the manifest of the data files). Returns the
    manifest. Neither asked for: nothing to do (the data files' publish removed old ones)."""
    if not (report or comet):
        return manifest
    stage = Path(out) / ".staging"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    try:
        if report:
            from translate_synth.report import write_report

            write_report([out], stage)
        if comet:
            from translate_synth.tracking import log_to_comet

            col = out / "collapse.json"
            disabled = logging.root.manager.disable
            logging.disable(logging.INFO)  # Comet's notes name the staging path: ours below
            try:
                got = log_to_comet(stage, stats, manifest,
                                   json.loads(col.read_text()) if col.exists() else None,
                                   [stage / "report.html", stage / "report.md",
                                    out / "manifest.json", out / "stats.json", col]
                                   + sorted((stage / "report_plots").glob("*.png")))
            finally:
                logging.disable(disabled)
            log.info(f"comet: logged {got['mode']}" + ("" if got["mode"] == "online" else
                     f"; offline archive in {out / 'comet'} (upload: `comet upload`)"))
        extra = publish(stage, out, keep=set(manifest["outputs"]), unfinish=False)
        manifest = {**manifest, "outputs": dict(sorted({**manifest["outputs"],
                                                        **extra}.items()))}
        write_json(out / "manifest.json", manifest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return manifest

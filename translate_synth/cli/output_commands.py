"""The commands over finished runs and many languages: report, export, batch, langs."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from translate_synth.cli.flags import resolve_config
from translate_synth.errors import UserError


@click.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path())
@click.option("--out", type=click.Path(), help="where to write report.* (default: the run dir, "
              "or the current dir for several runs)")
def report(run_dirs, out):
    """Write report.html/.md/.json for one run (OUT/<lang>) or compare several.

    Evaluation directories (`translate-synth evaluate --out DIR`) may be given beside run
    directories: their models are compared in one table."""
    from translate_synth.report import write_report

    dest = Path(out) if out else (Path(run_dirs[0]) if len(run_dirs) == 1 else Path("."))
    write_report([Path(d) for d in run_dirs], dest)
    click.echo(f"report: {dest / 'report.html'}")

EXPORT_EPILOG = """\b
Examples (run `translate-synth run --lang pt --out out` first):
  translate-synth export out/pt --format hf --out export/pt-hf
  translate-synth export out/pt --format text --out export/pt-text --tag-bt
  translate-synth export out/pt --format tsv --out export/pt-tsv
"""


@click.command(epilog=EXPORT_EPILOG)
@click.argument("run_dir", type=click.Path())
@click.option("--format", "fmt", required=True, type=click.Choice(["hf", "text", "tsv"]),
              help="hf: a datasets DatasetDict (save_to_disk); text: <split>.<lang> files, "
                   "line-aligned; tsv: <split>.tsv, source<TAB>target")
@click.option("--out", required=True, type=click.Path(), metavar="DIR",
              help="where the export goes (never inside RUN_DIR; an earlier export there is "
                   "replaced)")
@click.option("--tag-bt/--no-tag-bt", "tag_bt", default=None,
              help="prefix every back-translated (bt) source with --bt-tag, once (tagged "
                   "back-translation); --no-tag-bt: no tag, the run's removed (default: as "
                   "the run did, curriculum.tag_bt)")
@click.option("--bt-tag", metavar="TAG", help="the tag (default '<BT>'); implies --tag-bt")
@click.option("--quiet", is_flag=True, help="no progress lines")
def export(run_dir, fmt, out, tag_bt, bt_tag, quiet):
    """Write a finished run's training files (OUT/<lang>) as trainers read them.

    Every split (train, valid, test, valid_synthetic) and curriculum stage (train.<stage>.jsonl):
    hf a DatasetDict with a `translation` column ({source_lang: .., lang: ..}) and `origin`;
    text and tsv one pair a line, with <stem>.origin beside. RUN_DIR is only read.
    """
    from translate_synth import progress
    from translate_synth.export import DEFAULT_TAG, export_run, summary_line

    progress.set_quiet(quiet)
    if bt_tag is not None and tag_bt is False:
        raise UserError("--bt-tag with --no-tag-bt: drop one of them")
    tag = None if tag_bt is None and bt_tag is None else \
        ("" if tag_bt is False else (bt_tag or DEFAULT_TAG))
    info = export_run(Path(run_dir), fmt, Path(out), tag=tag)
    click.echo(summary_line(info, Path(out)))


@click.command()
@click.option("--langs", "langs_", required=True, help="comma-separated, e.g. sw,yo,ha")
@click.option("--config-dir", type=click.Path(), help="configs <lang>.yaml (default: shipped)")
@click.option("--out", default="out", show_default=True, help="output root")
@click.option("--jobs", type=int, default=1, show_default=True, help="languages at a time")
@click.option("--set", "sets", multiple=True, metavar="KEY.PATH=VALUE",
              help="override for every language")
@click.option("--limit", type=int, help="read at most N lines from each input")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local",
              show_default=True, help="ray: one task per language on the Ray cluster")
@click.option("--ray-address", help="join this Ray cluster")
@click.option("--model", metavar="ID_OR_PATH",
              help="hub id or local model directory for every language, as `run --model` "
                   "(model.id; clears model.ids; without a ctranslate2 config, the "
                   "transformers backend)")
@click.option("--no-report", is_flag=True,
              help="do not write each language's OUT/<lang>/report.html (the cross-language "
                   "OUT/report.html is still written)")
def batch(langs_, config_dir, out, jobs, sets, limit, executor, ray_address, model, no_report):
    """Run several languages; continue past failures; write OUT/summary.{json,md} + report.

    Each language gets what `run` writes, its OUT/<lang>/report.html included."""
    from translate_synth.batch import run_batch

    extra = [a for s in sets for a in ("--set", s)]
    if limit is not None:
        extra += ["--limit", str(limit)]
    if model:
        extra += ["--model", model]
    if no_report:
        extra += ["--no-report"]
    langs_list = [x.strip() for x in langs_.split(",") if x.strip()]
    def resolve(path):  # on Ray: each language's config with run's flag rules (--model...)
        return resolve_config(None, str(path), None, model, None, (), (), (), limit, None,
                              list(sets))

    summary = run_batch(langs_list, Path(out), Path(config_dir) if config_dir else None, jobs,
                        extra, echo=click.echo, executor=executor, sets=list(sets),
                        limit=limit, ray_address=ray_address, resolve=resolve,
                        report=not no_report)
    if summary["failed"]:
        click.echo("error: failed: " + "; ".join(
            f"{r['lang']} ({r['error']})" for r in summary["languages"] if r["status"] != "ok"),
            err=True)
        sys.exit(1)


@click.command()
def langs():
    """List the shipped language configs and their codes per model family."""
    from translate_synth.summary import print_langs

    print_langs()


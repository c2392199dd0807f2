"""The commands that make or re-decide a run: run, refilter, validate."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from translate_synth.cli.flags import BackendChoice, resolve_config, run_flag_sets
from translate_synth.errors import UserError

log = logging.getLogger(__name__)


RUN_EPILOG = """\b
Inputs (--parallel, --source-mono, --target-mono; giving any of them replaces
the config's data lists):
  text      one sentence a line (.txt)
  TSV       source<TAB>target (.tsv)
  JSONL     {"en": .., "sw": ..} or {"translation": {"en": .., "sw": ..}}
  Parquet   columns named by the language codes (or a `translation` column)
  .gz       any of the text formats, gzipped
  hf:name[:config][:split]   a `datasets` dataset (split default train),
            or hf:/local/dir (also one save_to_disk wrote)
Other fields or columns: --set 'data.parallel.0.keys=[english, swahili]',
--set 'data.parallel.0.columns=[2, 3]' (TSV: 0-based, or header names).

\b
Examples:
  translate-synth run --lang pt --out out     # the offline demo (bergamot)
  translate-synth run --lang sw --parallel my.en-sw.tsv --model ID_OR_PATH
"""


@click.command(epilog=RUN_EPILOG)
@click.option("--lang", help="target language: picks lang_configs/<lang>.yaml")
@click.option("--config", "config", type=click.Path(), help="a config file instead of the shipped one")
@click.option("--out", help="output root: files go to OUT/<lang>/ (default: output.dir, 'out')")
@click.option("--model", metavar="ID_OR_PATH",
              help="hub id or local model directory (model.id; clears model.ids); without "
                   "--backend it runs on the transformers backend")
@click.option("--backend", type=BackendChoice(),
              help="translation engine (model.backend); bergamot: the built-in en<->pt model")
@click.option("--parallel", multiple=True, metavar="FILE",
              help="real parallel data: TSV, JSONL, Parquet, .gz or hf:name[:config][:split] "
                   "(repeatable)")
@click.option("--source-mono", multiple=True, metavar="FILE",
              help="source-language text: text, JSONL, Parquet, .gz or hf:... (repeatable)")
@click.option("--target-mono", multiple=True, metavar="FILE",
              help="target-language text: text, JSONL, Parquet, .gz or hf:... (repeatable)")
@click.option("--limit", type=int, help="read at most N lines from each input")
@click.option("--seed", type=int, help="seed for splits and sampling")
@click.option("--set", "sets", multiple=True, metavar="KEY.PATH=VALUE", help="override any config key")
@click.option("--restart", is_flag=True, help="discard an unfinished run in OUT/<lang> and start over")
@click.option("--fail-on-collapse", is_flag=True,
              help="exit 3 when a collapse alarm fires (outputs are still written)")
@click.option("--no-report", is_flag=True, help="do not write OUT/<lang>/report.html")
@click.option("--track", type=click.Choice(["none", "comet"]), default=None,
              help="log the run to Comet ML (offline archive when COMET_API_KEY is unset)")
@click.option("--quiet", is_flag=True, help="no progress bars or progress lines")
@click.option("--no-cache", is_flag=True, help="do not read or write the translation cache")
@click.option("--cache-dir", type=click.Path(), help="translation cache location (cache.dir)")
@click.option("--executor", type=click.Choice(["local", "ray"]), default=None,
              help="where stages run: this process (default) or Ray Data")
@click.option("--ray-address", help="join this Ray cluster (executor ray)")
def run(lang, config, out, model, backend, parallel, source_mono, target_mono, limit, seed, sets,
        restart, fail_on_collapse, no_report, track, quiet, no_cache, cache_dir, executor,
        ray_address):
    """Synthesise, score, filter and emit a training set for one language."""
    if not lang and not config:
        raise UserError("give --lang L (a shipped config) or --config FILE")
    flag_sets = run_flag_sets(fail_on_collapse, track, no_cache, executor, ray_address)
    cfg = resolve_config(lang, config, out, model, backend, parallel, source_mono, target_mono,
                         limit, seed, sets, cache_dir, flag_sets)
    from translate_synth import progress
    from translate_synth.summary import print_summary


    progress.set_quiet(quiet)
    from translate_synth.executors import run as run_executor

    result = run_executor(cfg, Path(cfg.output.dir), restart=restart)
    print_summary(result)
    from translate_synth.run_extras import write_extras

    # the report and the Comet archive are outputs of the run: listed in its manifest
    result.manifest = write_extras(result.out_dir, result.stats, result.manifest,
                                   report=not no_report, comet=cfg.tracking == "comet")
    if not no_report:
        log.info(f"report: {result.out_dir / 'report.html'}")
    _collapse_exit(cfg, result)


def _collapse_exit(cfg, result) -> None:
    alarms = (result.stats.get("collapse") or {}).get("alarms", 0)
    if alarms and cfg.collapse.fail:
        click.echo(f"error: {alarms} collapse alarm(s) (see {result.out_dir / 'collapse.json'}); "
                   "outputs are written; raise collapse.alarms thresholds or fix the data",
                   err=True)
        sys.exit(3)




REFILTER_EXAMPLES = (
    "translate-synth refilter out/pt --set filters.rt_chrf.min=40",
    "translate-synth refilter out/pt --set filters.duplicate.mode=exact "
    "--set curriculum.valid_synthetic=50",
    "translate-synth refilter out/pt --set filters.quality.keep_top=0.7 --out out-strict/pt",
)


@click.command(epilog="\b\nExamples (run `translate-synth run --lang pt --out out` first):\n"
              + "\n".join(f"  {e}" for e in REFILTER_EXAMPLES))
@click.argument("run_dir", type=click.Path())
@click.option("--set", "sets", multiple=True, metavar="KEY.PATH=VALUE",
              help="override filters/curriculum/collapse keys, e.g. --set "
                   "filters.rt_chrf.min=40 (a filter by name, type or index)")
@click.option("--out", "out", type=click.Path(),
              help="write the re-decided run into this directory itself, a run directory such as "
                   "out-strict/pt (not a parent of one), and leave RUN_DIR untouched (default: "
                   "rewrite RUN_DIR)")
def refilter(run_dir, sets, out):
    """Re-decide a finished run (OUT/<lang>) from its stored scores: no model call.

    Rewrites every output file (splits, curriculum stages, candidates, stats, collapse, report,
    manifest) as a full run with those settings would, and removes the files they no longer
    produce. Settings that need the model (model, data, synthesis, scoring, split, quality...)
    are refused: use `translate-synth run`.
    """
    from translate_synth import progress
    from translate_synth.pipeline import RunResult
    from translate_synth.refilter import refilter as do_refilter
    from translate_synth.summary import print_summary

    progress.set_quiet(False)  # refilter has no --quiet: its lines always show
    got = do_refilter(Path(run_dir), list(sets), dest=Path(out) if out else None)
    print_summary(RunResult(got["out_dir"], got["stats"], got["manifest"],
                            got["stats"]["filters"]))


@click.command()
@click.argument("config_file", type=click.Path())
@click.option("--set", "sets", multiple=True, metavar="KEY.PATH=VALUE",
              help="override a key before checking, as `run --set` does (repeatable), e.g. "
                   "--set filters.rt_chrf.min=40")
def validate(config_file, sets):
    """Check a config file as `run` does before any work; exit 0 when valid, 2 with the first
    problem otherwise: keys and value ranges, languages against the backend and model, model
    paths, input files present and readable. No model is loaded."""
    from translate_synth.config import load_config
    from translate_synth.filters import build_filters
    from translate_synth.preflight import check_run

    cfg = load_config(Path(config_file), list(sets))
    check_run(cfg)
    n = len(build_filters(cfg.filters))  # the funnel's rows, as `run` prints them
    click.echo(f"ok: {config_file} (lang {cfg.lang}, backend {cfg.model.backend}, {n} filters: "
               f"{len(cfg.filters)} configured, {n - len(cfg.filters)} always added)")
    if not any(getattr(cfg.data, k) for k in ("parallel", "source_mono", "target_mono")):
        click.echo("note: no input in data.*: give `run` --parallel, --source-mono or "
                   "--target-mono", err=True)


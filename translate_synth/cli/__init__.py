"""The command line: parse, call the pipeline, map errors to exit codes. Nothing else.

    __init__.py        the `translate-synth` group (entry point ``translate_synth.cli:main``)
    exits.py           errors -> one line on stderr and an exit code (every command)
    flags.py           flags -> the run's config (resolve_config), the backend choice
    run_commands.py    run, refilter, validate
    model_commands.py  train, ablate, generations, evaluate
    output_commands.py report, export, batch, langs

Exit codes: 0 success, 2 bad input/config/missing resource (one line on stderr), 1 internal error.
"""

from __future__ import annotations

import click

from translate_synth import __version__
from translate_synth.cli.exits import Group
from translate_synth.cli.flags import resolve_config
from translate_synth.cli.model_commands import ablate, evaluate, generations, train
from translate_synth.cli.output_commands import batch, export, langs, report
from translate_synth.cli.run_commands import REFILTER_EXAMPLES, refilter, run, validate

__all__ = ["REFILTER_EXAMPLES", "main", "resolve_config"]


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="translate-synth")
def main():
    """Synthetic parallel data for low-resource languages: synthesise, score, filter, emit."""


for _command in (run, refilter, train, ablate, generations, report, evaluate, export, batch,
                 langs, validate):  # the order they were written in (`--help` sorts them)
    main.add_command(_command)

"""Errors -> one line on stderr and an exit code, for every command (the one place).

Exit codes: 0 success, 2 bad input/config/missing resource (one line on stderr), 1 internal error,
130 interrupted. Commands exit 3 themselves for results that are not errors (collapse, divergence).
"""

from __future__ import annotations

import os
import sys
import traceback

import click

from translate_synth.errors import Interrupted, UserError


def _fail(e: Exception) -> None:
    if isinstance(e, UserError):
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    if isinstance(e, Interrupted):
        click.echo(f"interrupted: {e}", err=True)
        sys.exit(130)
    if isinstance(e, KeyboardInterrupt):
        click.echo("interrupted: finished synthesis chunks are saved; run the same command again "
                   "to resume (--restart to start over)", err=True)
        sys.exit(130)
    if os.environ.get("TRANSLATE_SYNTH_DEBUG"):
        traceback.print_exc()
    click.echo(f"internal error: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''} "
               "(set TRANSLATE_SYNTH_DEBUG=1 for a traceback, and please report it)", err=True)
    sys.exit(1)


class Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.UsageError as e:  # a bad flag or value: one line too, exit 2
            sub = e.ctx.command.name if e.ctx is not None and e.ctx.parent is not None else ""
            cmd = f"translate-synth {sub}".strip()
            click.echo(f"error: {' '.join(e.format_message().split())} (see `{cmd} --help`)",
                       err=True)
            sys.exit(2)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except BaseException as e:  # noqa: BLE001 - every error becomes one line, never a traceback
            _fail(e)


"""Executors: where a run's stages execute. ``local`` (default: this process) or ``ray``.

The local executor never imports Ray; ``ray`` needs ``pip install "translate-synth[ray]"``.
"""

from __future__ import annotations

from pathlib import Path

from translate_synth.errors import UserError

__all__ = ["run"]


def run(cfg, out_root: Path, restart: bool = False):
    """Check the run (``preflight.check_run``), then run it on ``executor.name``."""
    from translate_synth.preflight import check_run

    check_run(cfg)  # what `validate` checks, before any work: one line, nothing written
    if cfg.executor.name == "local":
        from translate_synth.pipeline import run as run_local

        return run_local(cfg, out_root, restart=restart)
    try:
        from translate_synth.executors import ray_exec
    except ImportError:
        from translate_synth.preflight import RAY_MISSING

        raise UserError(RAY_MISSING) from None
    return ray_exec.run(cfg, out_root, restart=restart)

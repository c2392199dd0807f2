"""Progress lines and bars, and the package's log: on stderr, nothing with --quiet.

Every module logs through ``logging.getLogger(__name__)``, under the ``translate_synth`` logger
set up here: one handler that prints ``[translate-synth] <message>`` on the current
``sys.stderr``, level INFO (``set_quiet(True)``, ``--quiet``: WARNING, so nothing; ``silenced()``
for a block).

A counted step (``bar``) is a tqdm bar on a terminal (count, total, rate and ETA); elsewhere (a
log file, CI, a pipe) it is a line once it has run a second (count and total), one every
``TRANSLATE_SYNTH_PROGRESS_SECONDS`` (default 30) with count, total, rate and ETA, and one when
it ends with its time (a quick step: that line only). A step with no count (``step``: loading
a model...) is a line once it has run a second and one with its time when it ends.
``translate`` runs a translator over many texts in chunks of similar length so that a bar can
count them.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from contextlib import contextmanager

EVERY_ENV = "TRANSLATE_SYNTH_PROGRESS_SECONDS"
FIRST_LINE_AFTER = 1.0  # seconds
PACKAGE_LOGGER = "translate_synth"


class StderrHandler(logging.Handler):
    """``[translate-synth] <message>`` on the ``sys.stderr`` of the moment (so that pytest's
    capsys and click's CliRunner capture it), flushed."""

    prefix = "[translate-synth] "

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(f"{self.prefix}{record.getMessage()}", file=sys.stderr, flush=True)
        except Exception:  # noqa: BLE001  (logging's own rule: a failed line never raises)
            self.handleError(record)


def _install() -> StderrHandler:
    root = logging.getLogger(PACKAGE_LOGGER)
    for h in root.handlers:
        if isinstance(h, StderrHandler):
            return h
    h = StderrHandler()
    root.addHandler(h)
    root.setLevel(logging.INFO)
    root.propagate = False
    return h


HANDLER = _install()
log = logging.getLogger(__name__)


def set_quiet(quiet: bool = True) -> None:
    """``--quiet``: no log line, no progress bar (the package's logger at WARNING; else INFO)."""
    logging.getLogger(PACKAGE_LOGGER).setLevel(logging.WARNING if quiet else logging.INFO)


def is_quiet() -> bool:
    """True when the package's log lines are not shown (``set_quiet``, ``silenced``)."""
    return not logging.getLogger(PACKAGE_LOGGER).isEnabledFor(logging.INFO)


@contextmanager
def silenced():
    """No log line and no progress bar in this block (e.g. a run inside a batch worker)."""
    root = logging.getLogger(PACKAGE_LOGGER)
    level = root.level
    root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.setLevel(level)


def duration(seconds: float) -> str:
    """42.0 s, 3 min 05 s, 2 h 07 min."""
    s = max(0.0, float(seconds))
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(s % 60):02d} s"
    return f"{int(s // 3600)} h {int(s % 3600 // 60):02d} min"


def _every() -> float:
    try:
        return max(0.0, float(os.environ.get(EVERY_ENV, "30")))
    except ValueError:
        return 30.0


class Progress:
    """``update``/``set_postfix``/``close`` like a tqdm bar; lines when stderr is no terminal."""

    def __init__(self, desc: str, total: int | None = None, unit: str = "rows", initial: int = 0):
        self.desc, self.total, self.unit = desc, total, unit
        self.n = self._n0 = initial
        self._t0 = self._last = time.monotonic()
        self._post: dict = {}
        self._closed = False
        self._said = False  # a progress line was printed (the first-line timer then says nothing)
        self._lock = threading.Lock()  # the timer's thread and update() print the same lines
        self._bar = self._timer = None
        if is_quiet():
            return
        if sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(desc=desc, total=total, unit=unit, initial=initial, leave=False,
                             dynamic_ncols=True)
        else:  # the first line once the step has run a second: a quick step gets one line
            self._timer = threading.Timer(FIRST_LINE_AFTER, self._first_line)
            self._timer.daemon = True
            self._timer.start()

    def _first_line(self) -> None:
        self._say(first=True)

    def _say(self, first: bool = False) -> None:
        """One progress line; the first-line timer's only if no line was printed before."""
        with self._lock:
            if self._closed or (first and self._said):
                return
            self._said = True
            self._last = time.monotonic()
            log.info(self.line())

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(done=exc_type is None)
        return False

    def set_total(self, total: int | None) -> None:
        self.total = total
        if self._bar is not None:
            self._bar.total = total
            self._bar.refresh()

    def set_postfix(self, **kw) -> None:
        self._post = kw
        if self._bar is not None:
            self._bar.set_postfix(**kw)

    def update(self, k: int = 1) -> None:
        self.n += k
        if self._bar is not None:
            self._bar.update(k)
        elif not is_quiet():
            if time.monotonic() - self._last >= _every():
                self._say()

    def skip(self, k: int) -> None:
        """Count ``k`` done before (e.g. chunks a resume replays from its journal): shown, but
        not in the rate, so the ETA is that of the work still to do."""
        if self.n == self._n0:  # nothing done in this process yet: the rate starts now
            self._t0 = time.monotonic()
        self.n += k
        self._n0 += k
        if self._bar is not None:
            self._bar.update(k)

    def eta(self) -> float | None:
        """Seconds left at the rate since the start (None: no total or no rate yet)."""
        done = self.n - self._n0
        spent = time.monotonic() - self._t0
        if self.total is None or done <= 0 or spent <= 0:
            return None
        return max(0, self.total - self.n) * spent / done

    def line(self) -> str:
        spent = time.monotonic() - self._t0
        rate = (self.n - self._n0) / spent if spent > 0 else 0.0
        if self.total:
            text = f"{self.desc}: {self.n:,}/{self.total:,} {self.unit} " \
                   f"({100 * self.n / self.total:.0f} %)"
        else:
            text = f"{self.desc}: {self.n:,} {self.unit}"
        text += f", {rate:.3g} {self.unit}/s"
        eta = self.eta()
        if eta is not None:
            text += f", ETA {duration(eta)}"
        if self._post:
            text += " (" + ", ".join(f"{k} {v}" for k, v in self._post.items()) + ")"
        return text

    def close(self, done: bool = True) -> None:
        with self._lock:  # after a line the timer is printing, never before it
            if self._closed:
                return
            self._closed = True
        if self._timer is not None:
            self._timer.cancel()
        if self._bar is not None:
            self._bar.close()
        if not is_quiet() and done:
            of = f"/{self.total:,}" if self.total is not None and self.total != self.n else ""
            log.info(f"{self.desc}: {self.n:,}{of} {self.unit} in "
                     f"{duration(time.monotonic() - self._t0)}")


def bar(desc: str, total: int | None = None, unit: str = "rows", initial: int = 0) -> Progress:
    """A counted step: a bar on a terminal, progress lines elsewhere, nothing when quiet."""
    return Progress(desc, total, unit, initial)


@contextmanager
def step(desc: str, after: float = 1.0):
    """A step with no count: a line once it has run ``after`` seconds (a step that fails at
    once, e.g. a model that does not exist, prints only its error), one with its time when it
    ends."""
    timer = threading.Timer(after, log.info, (f"{desc} ...",))
    timer.daemon = True
    t0 = time.monotonic()
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
    log.info(f"{desc}: done in {duration(time.monotonic() - t0)}")


def translate(translator, texts: list[str], src: str, tgt: str, decoding, pbar: Progress,
              n: int = 1, seed: int = 0, chunk: int | None = None) -> list:
    """``translator.translate(texts, ...)`` in chunks, ``pbar`` counting the texts done.

    The texts go longest first in chunks of ``chunk`` (default: 8 batches of
    ``decoding.batch_size``, at least 64), so the backend's length-bucketed batches are
    nearly the ones one call would make; the results come back in the input order."""
    if not texts:
        return []
    size = chunk or max(64, 8 * int(getattr(decoding, "batch_size", 8) or 8))
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    out: list = [None] * len(texts)
    for k in range(0, len(order), size):
        idx = order[k:k + size]
        got = translator.translate([texts[i] for i in idx], src, tgt, decoding, n=n, seed=seed)
        for i, h in zip(idx, got):
            out[i] = h
        pbar.update(len(idx))
    return out


class Counted:
    """A translator whose ``translate`` calls go through ``translate`` above, counted on one
    bar (for code that calls a translator several times, e.g. the quality calibration)."""

    def __init__(self, translator, pbar: Progress):
        self._tr, self._bar = translator, pbar

    def translate(self, texts, src, tgt, decoding, n=1, seed=0):
        return translate(self._tr, list(texts), src, tgt, decoding, self._bar, n=n, seed=seed)

    def __getattr__(self, name):
        return getattr(self._tr, name)

"""Named checkpoints where a test can kill the process, to prove that runs resume.

``TRANSLATE_SYNTH_FAULT=<point>`` (e.g. ``chunk:ft:2`` or ``after_filter``) makes the process
SIGKILL itself when it reaches that point: no cleanup, no flush, like a pre-empted machine.
``sigint@<point>`` sends SIGINT instead (a user's Ctrl-C at that moment). With the variable unset,
``checkpoint()`` costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "TRANSLATE_SYNTH_FAULT"

# The points a run passes, in order (``chunk:<origin>:<k>``: after synthesising and scoring chunk
# k of that origin, before it is journaled).
POINTS = ("after_split", "chunk:<origin>:<k>", "after_synthesis", "after_filter", "after_emit",
          "mid_finish")


def checkpoint(point: str) -> None:
    want = os.environ.get(ENV)
    if want is None:
        return
    if want == point:
        os.kill(os.getpid(), signal.SIGKILL)
    elif want == "sigint@" + point:
        os.kill(os.getpid(), signal.SIGINT)

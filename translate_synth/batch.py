"""``translate-synth batch``: run many languages, keep going past failures, summarise.

Each language runs as its own ``translate-synth run`` process (a crash or an out-of-memory in
one language cannot take the others down), ``--jobs`` at a time; with ``--executor ray``, as one
Ray task each, whose results are collected one by one (a task that raises or whose worker dies
fails its language only). Every language gets what ``run`` writes into ``OUT/<lang>/``, its
report included; the batch adds ``OUT/summary.json``, ``OUT/summary.md`` and the cross-language
report ``OUT/report.html``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from translate_synth.emit import write_json


def _run_one(lang: str, config_dir: Path | None, out: Path, extra: list[str]) -> dict:
    cmd = [sys.executable, "-m", "translate_synth", "run", "--out", str(out), "--quiet"]
    if config_dir is not None:
        cfg = Path(config_dir) / f"{lang}.yaml"
        cmd += ["--config", str(cfg)] if cfg.is_file() else ["--lang", lang]
    else:
        cmd += ["--lang", lang]
    cmd += extra
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    lines = [x for x in p.stderr.strip().splitlines() if x.strip()]
    reason = lines[-1] if lines else f"exit code {p.returncode}"
    return {"lang": lang, "ok": p.returncode == 0, "exit_code": p.returncode,
            "seconds": round(time.perf_counter() - t0, 1),
            "error": None if p.returncode == 0 else reason.removeprefix("error: ")}


def _ray_language(cfg_json: str, out: str, report: bool = True) -> dict:
    """One language, inside its Ray task. A user error (bad input, a language the model lacks)
    is a result; anything else raises, and the driver records it for this language only.
    Writes what `run` writes, the language's report included (unless ``report`` is off)."""
    from translate_synth import progress
    from translate_synth.config import Config
    from translate_synth.errors import UserError
    from translate_synth.pipeline import run as run_local
    from translate_synth.run_extras import write_extras

    cfg = Config.model_validate_json(cfg_json)
    t0 = time.perf_counter()
    try:
        from translate_synth.preflight import check_run

        check_run(cfg)  # what `run` checks first (executors.run), before any work
        with progress.silenced():  # the run's log lines: none, as `run --quiet` in a process
            res = run_local(cfg, Path(out))
            write_extras(res.out_dir, res.stats, res.manifest, report=report,
                         comet=cfg.tracking == "comet")
        return {"lang": cfg.lang, "ok": True, "exit_code": 0, "error": None,
                "seconds": round(time.perf_counter() - t0, 1)}
    except UserError as e:
        return {"lang": cfg.lang, "ok": False, "exit_code": 2, "error": str(e),
                "seconds": round(time.perf_counter() - t0, 1)}


def _crash_reason(e: BaseException) -> str:
    """One line for a task that raised (RayTaskError: its cause) or whose worker died."""
    cause = getattr(e, "cause", None) or e
    text = next((x.strip() for x in str(cause).splitlines() if x.strip()), "")
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__


def _on_ray(langs, config_dir, out, sets, limit, address, echo, resolve=None,
            report=True) -> list[dict]:
    """One Ray task per language (configs resolved here, on the driver: ``resolve(path)``,
    the command line's flag rules, else the file with ``sets`` and ``limit``). Each task's
    result is collected on its own as it finishes, so a crash or a bug in one language (a
    worker killed, an exception that is not a user error) fails that language and the others
    go on."""
    from translate_synth.config import find_lang_config, load_config
    from translate_synth.errors import UserError
    from translate_synth.executors.ray_exec import init_ray

    cfgs, results = [], []
    for lang in langs:
        try:
            path = find_lang_config(lang, Path(config_dir) if config_dir else None)
            overrides = list(sets) + ([f"data.limit={limit}"] if limit is not None else [])
            cfgs.append((lang, resolve(path) if resolve else load_config(path, overrides)))
        except UserError as e:
            results.append({"lang": lang, "ok": False, "exit_code": 2, "seconds": None,
                            "error": str(e)})
    if cfgs:
        ray = init_ray(address)
        task = ray.remote(num_cpus=1)(_ray_language)
        t0 = time.perf_counter()
        pending = {task.remote(cfg.model_dump_json(exclude={"output"}), str(out), report): lang
                   for lang, cfg in cfgs}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                lang = pending.pop(ref)
                try:
                    r = {**ray.get(ref), "lang": lang}
                except Exception as e:  # this language's task crashed: record it, go on
                    r = {"lang": lang, "ok": False, "exit_code": 1, "error": _crash_reason(e),
                         "seconds": round(time.perf_counter() - t0, 1)}
                results.append(r)
                echo(f"[batch] {lang}: " + ("ok" if r["ok"] else f"FAILED: {r['error']}")
                     + f" ({r['seconds']} s)")
    order = {lang: i for i, lang in enumerate(langs)}
    return sorted(results, key=lambda r: order[r["lang"]])


def run_batch(langs: list[str], out: Path, config_dir: Path | None = None, jobs: int = 1,
              extra: list[str] = (), echo=print, executor: str = "local",
              sets: list[str] = (), limit: int | None = None,
              ray_address: str | None = None, resolve=None, report: bool = True) -> dict:
    """``extra``: the `run` flags of each language's process; ``resolve(config_path)``: its
    config on Ray (the same flags applied; default: ``sets`` and ``limit`` only)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    if executor == "ray":
        results = _on_ray(langs, config_dir, out, sets, limit, ray_address, echo, resolve,
                          report)
        for r in results:
            if r["seconds"] is None:  # its config failed before any task started
                echo(f"[batch] {r['lang']}: FAILED: {r['error']}")
    else:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [pool.submit(_run_one, lang, config_dir, out, list(extra))
                       for lang in langs]
            for f in futures:
                r = f.result()
                results.append(r)
                echo(f"[batch] {r['lang']}: " + ("ok" if r["ok"] else f"FAILED: {r['error']}")
                     + f" ({r['seconds']} s)")
    done = [out / r["lang"] for r in results if r["ok"]]
    rows = []
    if done:
        from translate_synth.report import write_report

        report = write_report(done, out)
        rows = report["summary"]
    by_lang = {r["lang"]: r for r in rows}
    table = [{**by_lang.get(r["lang"], {"lang": r["lang"]}), "status": "ok" if r["ok"] else
              "failed", "error": r["error"], "seconds": r["seconds"]} for r in results]
    summary = {"languages": table, "failed": [r["lang"] for r in results if not r["ok"]]}
    write_json(out / "summary.json", summary)
    from translate_synth.report.wording import num

    cols = {"lang": "lang", "status": "status", "real_train": "real train pairs",
            "kept": "synthetic kept", "acceptance": "kept %",
            "rt_chrf_mean": "chrF (kept, mean)", "quality_mean": "quality (kept, mean)",
            "alarms": "collapse alarms", "seconds": "seconds", "error": "error"}

    def cell(r, c):
        v = r.get(c)
        if v is None:
            return ""
        v = round(100 * v, 1) if c == "acceptance" else v
        if c in ("lang", "status", "error"):
            return " ".join(str(v).split()).replace("|", "\\|")
        return num(v)

    md = ["| " + " | ".join(cols.values()) + " |", "|" + "---|" * len(cols)]
    md += ["| " + " | ".join(cell(r, c) for c in cols) + " |" for r in table]
    (out / "summary.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    echo("\n".join(md))
    return summary

"""``translate-synth batch``: run many languages, keep going past failures, summarise.

Each language runs as its own ``translate-synth run`` process (a crash or an out-of-memory in
one language cannot take the others down), ``--jobs`` at a time. Writes ``OUT/summary.json``,
``OUT/summary.md`` and the cross-language report ``OUT/report.html``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from translate_synth.emit import write_json


def _run_one(lang: str, config_dir: Path | None, out: Path, extra: list[str]) -> dict:
    cmd = [sys.executable, "-m", "translate_synth", "run", "--out", str(out), "--no-report"]
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


def _on_ray(langs, config_dir, out, sets, limit, address) -> list[dict]:
    """One Ray task per language on the cluster (configs resolved here, on the driver)."""
    from translate_synth.config import find_lang_config, load_config
    from translate_synth.errors import UserError
    from translate_synth.executors.ray_exec import run_languages

    cfgs, results = [], []
    for lang in langs:
        try:
            path = find_lang_config(lang, Path(config_dir) if config_dir else None)
            overrides = list(sets) + ([f"data.limit={limit}"] if limit is not None else [])
            cfgs.append(load_config(path, overrides))
        except UserError as e:
            results.append({"lang": lang, "ok": False, "exit_code": 2, "seconds": None,
                            "error": str(e)})
    t0 = time.perf_counter()
    for r in run_languages(cfgs, out, address):
        results.append({**r, "exit_code": 0 if r["ok"] else 2,
                        "seconds": round(time.perf_counter() - t0, 1)})
    order = {lang: i for i, lang in enumerate(langs)}
    return sorted(results, key=lambda r: order[r["lang"]])


def run_batch(langs: list[str], out: Path, config_dir: Path | None = None, jobs: int = 1,
              extra: list[str] = (), echo=print, executor: str = "local",
              sets: list[str] = (), limit: int | None = None,
              ray_address: str | None = None) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    if executor == "ray":
        results = _on_ray(langs, config_dir, out, sets, limit, ray_address)
        for r in results:
            echo(f"[batch] {r['lang']}: " + ("ok" if r["ok"] else f"FAILED: {r['error']}"))
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
    cols = ["lang", "status", "real_train", "synthetic_kept", "acceptance", "rt_chrf_mean",
            "quality_mean", "alarms", "seconds", "error"]
    md = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    md += ["| " + " | ".join("" if r.get(c) is None else str(r.get(c)) for c in cols) + " |"
           for r in table]
    (out / "summary.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    echo("\n".join(md))
    return summary

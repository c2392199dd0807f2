"""Experiment logging to Comet ML: online with COMET_API_KEY, else an offline archive. The one
module that imports ``comet_ml``: ``log_to_comet`` (a run) and ``TrainingExperiment``
(``translate-synth train``) both open their experiment with ``open_experiment``.

A run logs the resolved config as parameters, the funnel, scores and collapse metrics as
metrics, and the report, plots and manifest as assets. Offline (no key),
``comet_ml.OfflineExperiment`` writes a zip archive into ``OUT/<lang>/comet/`` (upload it later
with ``comet upload``); nothing touches the network. Automatic logging of environment, code and
git is off: the manifest says what ran.
"""

from __future__ import annotations

import os
from pathlib import Path

# COMET_AUTO_LOG_DISABLE=1 would disable the whole experiment (comet-ml 3.58): never set here
COMET_QUIET_ENV = {"COMET_DISABLE_AUTO_LOGGING": "1",
         "COMET_ERROR_TRACKING_ENABLE": "false", "COMET_AUTO_LOG_ENV_HOST": "false",
         "COMET_AUTO_LOG_GIT_METADATA": "false", "COMET_AUTO_LOG_GIT_PATCH": "false"}
OFF = dict(log_code=False, log_graph=False, auto_param_logging=False, auto_metric_logging=False,
           parse_args=False, auto_output_logging=False, log_env_details=False,
           log_git_metadata=False, log_git_patch=False, log_env_gpu=False, log_env_host=False,
           log_env_cpu=False, log_env_network=False, log_env_disk=False, display_summary_level=0)


def flatten(d: dict, prefix: str = "") -> dict:
    """Nested dicts as one level of dotted keys (lists as their text)."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        elif isinstance(v, list):
            out[key] = str(v)
        else:
            out[key] = v
    return out


def open_experiment(project: str, name: str, params: dict, offline_dir: Path):
    """A Comet experiment named ``name`` in ``project`` with ``params`` (flattened) logged:
    online with COMET_API_KEY, else an offline archive in ``offline_dir`` (made).
    Returns (experiment, "online" or "offline")."""
    for k, v in COMET_QUIET_ENV.items():
        os.environ.setdefault(k, v)
    os.environ.pop("COMET_AUTO_LOG_DISABLE", None)  # --track comet asked for logging
    import comet_ml

    if os.environ.get("COMET_API_KEY"):
        exp, mode = comet_ml.Experiment(project_name=project, **OFF), "online"
    else:
        offline_dir.mkdir(parents=True, exist_ok=True)
        exp = comet_ml.OfflineExperiment(project_name=project, offline_directory=str(offline_dir),
                                         **OFF)
        mode = "offline"
    exp.set_name(name)
    exp.log_parameters(flatten(params))
    return exp, mode


def metrics_of(stats: dict, collapse: dict | None) -> dict[str, float]:
    m = {}
    for f in stats.get("filters", []):
        for k in ("seen", "kept", "removed", "removed_share"):
            m[f"filter.{f['name']}.{k}"] = f[k]
    for score, parts in stats.get("scores", {}).items():
        for part, s in parts.items():
            for k in ("mean", "median", "n"):
                if s.get(k) is not None:
                    m[f"score.{score}.{part}.{k}"] = s[k]
    for split, origins in stats.get("emitted", {}).items():
        for origin, n in origins.items():
            m[f"emitted.{split}.{origin}"] = n
    if collapse:
        m["collapse.alarms"] = len(collapse.get("alarms", []))
        for side, metrics in collapse.get("sides", {}).items():
            for k, v in metrics.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    m[f"collapse.{side}.{k}"] = v
    return m


def log_to_comet(run_dir: Path, stats: dict, manifest: dict, collapse: dict | None,
                 assets: list[Path]) -> dict:
    """Log one run; returns {"mode": "online"|"offline", "where": url or archive dir} (the
    caller says where in the log)."""
    exp, mode = open_experiment(f"translate-synth-{stats.get('lang')}",
                                f"{stats.get('lang')}-seed{manifest.get('seed')}",
                                manifest.get("config", {}), Path(run_dir) / "comet")
    exp.log_metrics(metrics_of(stats, collapse))
    for p in assets:
        if Path(p).exists():
            exp.log_asset(str(p))
    exp.log_asset_data(manifest, name="manifest.json")
    where = exp.url if mode == "online" else str(Path(run_dir) / "comet")
    exp.end()
    return {"mode": mode, "where": where}


class TrainingExperiment:
    """``translate-synth train --track comet``: the settings, then the metrics of every
    evaluation, then the curves, to Comet (an offline archive in MODEL_DIR/comet/ without a
    key)."""

    def __init__(self, out: Path, params: dict, name: str):
        d = Path(out) / "comet"
        self.exp, self.mode = open_experiment(f"translate-synth-train-{params.get('lang')}", name,
                                              params, d)
        self.where = None if self.mode == "online" else str(d)

    def log(self, entry: dict) -> None:
        """One evaluation (a train_log.jsonl ``eval`` line) as metrics at its step."""
        m = {"train_loss": entry.get("train_loss"), "lr": entry.get("lr")}
        for part in ("real", "synthetic"):
            for k in ("loss", "bleu", "chrf"):
                m[f"{part}.{k}"] = entry[part].get(k)
        for cls, v in (entry["real"].get("rare_words") or {}).items():
            m[f"real.recall.{cls}"] = v.get("recall")
        self.exp.log_metrics({k: v for k, v in m.items() if v is not None}, step=entry["step"])

    def end(self, assets: list[Path]) -> None:
        """Log the files that exist among ``assets`` and close the experiment."""
        for p in assets:
            if Path(p).exists():
                self.exp.log_asset(str(p))
        self.exp.end()

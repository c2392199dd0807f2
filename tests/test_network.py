"""A run on local models opens no socket; config loading is safe."""

import socket

import pytest
from click.testing import CliRunner

from test_run import _config
from translate_synth.cli import main
from translate_synth.config import build_config, load_config


@pytest.fixture()
def no_network(monkeypatch):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access attempted in an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


def test_run_on_a_local_model_opens_no_socket(tmp_path, tiny_nllb, sw_corpus, no_network):
    cfg = _config(tmp_path, tiny_nllb, sw_corpus)
    res = CliRunner().invoke(main, ["run", "--config", str(cfg), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert no_network == []


def test_bergamot_demo_opens_no_socket(tmp_path, no_network):
    res = CliRunner().invoke(main, ["run", "--lang", "pt", "--limit", "10", "--out",
                                    str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert no_network == []


def test_yaml_is_loaded_safely_and_remote_code_stays_off(tmp_path):
    p = tmp_path / "evil.yaml"
    p.write_text("lang: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(Exception) as e:
        load_config(p)
    assert "pwned" not in str(e.value) and type(e.value).__name__ == "UserError"
    assert build_config({"lang": "sw"}).model.trust_remote_code is False


# ------------------------------------------------ a hub id with the hub out of reach (no network)


@pytest.fixture()
def dead_hub(tmp_path):
    """Env for a subprocess whose hub is a local port that refuses connections (bound, never
    listening), with an empty HF cache and HF_HUB_OFFLINE unset: nothing leaves the machine."""
    import os

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_CACHE",
                        "HUGGINGFACE_HUB_CACHE", "TRANSFORMERS_CACHE", "HF_ENDPOINT")}
    env.update(HF_ENDPOINT=f"http://127.0.0.1:{sock.getsockname()[1]}",
               HF_HOME=str(tmp_path / "hf-home"), HF_HUB_DISABLE_TELEMETRY="1")
    yield env
    sock.close()


def _cli_proc(args, env, cwd, timeout=120):
    import subprocess
    import sys
    import time

    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "translate_synth", *args], capture_output=True,
                       text=True, env=env, cwd=cwd, timeout=timeout)
    return p, time.monotonic() - t0


def test_a_hub_id_with_the_hub_unreachable_fails_at_once(tmp_path, dead_hub):
    """Before: about 49 s of `Retrying in Ns` lines (huggingface_hub retries 5 times with
    backoff, for the tokenizer and again for the model), then the one-line error."""
    p, took = _cli_proc(["run", "--lang", "sw", "--limit", "20", "--quiet", "--no-report",
                         "--out", str(tmp_path / "o")], dead_hub, tmp_path)
    assert p.returncode == 2, p.stderr[-2000:]
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, p.stderr[-2000:]
    assert lines[0].startswith("error: model 'facebook/nllb-200-distilled-600M' is not "
                               "available offline")
    assert "cannot be reached" in lines[0] and dead_hub["HF_ENDPOINT"] in lines[0]
    assert "Retrying" not in p.stderr
    assert took < 30, took  # start-up and one refused connection (before: ~50 s)
    assert not (tmp_path / "o" / "sw" / "manifest.json").exists()


def test_batch_spends_no_minute_on_a_language_whose_model_is_unreachable(tmp_path, dead_hub):
    p, took = _cli_proc(["batch", "--langs", "sw", "--limit", "20", "--out", str(tmp_path / "o")],
                        dead_hub, tmp_path)
    assert p.returncode == 1, p.stderr[-2000:]
    assert "Retrying" not in p.stdout + p.stderr
    import json

    (sw,) = json.loads((tmp_path / "o" / "summary.json").read_text())["languages"]
    assert sw["status"] != "ok" and "cannot be reached" in sw["error"]
    assert took < 45, took


def test_a_hub_id_in_the_local_cache_needs_no_hub(tmp_path, dead_hub, tiny_nllb, sw_corpus):
    """The local cache is read first: a cached hub id runs with the hub out of reach."""
    import shutil

    repo = tmp_path / "hf-home" / "hub" / "models--tiny-org--tiny-nllb"
    commit = "0" * 40
    shutil.copytree(tiny_nllb, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    p, _ = _cli_proc(["run", "--lang", "sw", "--model", "tiny-org/tiny-nllb", "--limit", "5",
                      "--parallel", str(sw_corpus["parallel"]),
                      "--target-mono", str(sw_corpus["target_mono"]), "--quiet", "--no-report",
                      "--no-cache", "--out", str(tmp_path / "o"),
                      "--set", "split.valid=1", "--set", "split.test=1",
                      "--set", "synthesis.decoding.max_new_tokens=6",
                      "--set", "synthesis.paraphrase.enabled=false"], dead_hub, tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    import json

    man = json.loads((tmp_path / "o" / "sw" / "manifest.json").read_text())
    assert man["model"]["model"] == "tiny-org/tiny-nllb"
    assert "Retrying" not in p.stderr

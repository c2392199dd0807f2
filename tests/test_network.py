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

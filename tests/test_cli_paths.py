"""A new user's first hour, through the CLI: every flag is honoured or refused in one line, and
every error names what the user typed (a flag or ``--set KEY=VALUE``), not a shipped config line.

Each test checks the command's output and exit code.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from translate_synth.cli import main

REPO = Path(__file__).resolve().parents[1]
PT = str(REPO / "lang_configs" / "pt.yaml")


def _error_line(res) -> str:
    """The one stderr line of a refused command (exit 2), no traceback, no other output."""
    assert res.exit_code == 2, (res.exit_code, res.output)
    assert "Traceback" not in res.output and "internal error" not in res.output, res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    return lines[0]


def _cli(*args):
    return CliRunner().invoke(main, list(args))


# ------------------------------------------------------------ 1. --model is never ignored


def test_model_without_backend_runs_that_model_on_transformers(tmp_path, tiny_nllb):
    """pt.yaml says bergamot; --model used to run bergamot anyway and record it. Now --model
    alone selects the transformers backend, and replaces model.ids from the config too."""
    cfg = tmp_path / "pt.yaml"
    cfg.write_text(Path(PT).read_text(encoding="utf-8").replace(
        "  id: null", "  id: null\n  ids: {en-pt: nobody/opus-mt-en-pt, pt-en: nobody/opus-mt-pt-en}"),
        encoding="utf-8")
    res = _cli("run", "--config", str(cfg), "--model", str(tiny_nllb), "--limit", "5",
               "--out", str(tmp_path / "o"), "--no-report", "--quiet", "--no-cache",
               "--set", "split.valid=1", "--set", "split.test=1",
               "--set", "synthesis.decoding.max_new_tokens=6",
               "--set", "synthesis.paraphrase.enabled=false")
    assert res.exit_code == 0, res.output
    man = json.loads((tmp_path / "o" / "pt" / "manifest.json").read_text())
    assert man["model"]["backend"] == "transformers"
    assert man["model"]["model"] == str(tiny_nllb) and man["model"]["ids"] == {}
    assert man["model"]["family"] == {str(tiny_nllb): "nllb"}
    st = json.loads((tmp_path / "o" / "pt" / "stats.json").read_text())
    assert st["model_sentences_translated"] > 0


def test_a_hub_model_on_pt_is_not_silently_replaced_by_bergamot(tmp_path):
    # offline (HF_HUB_OFFLINE=1): the asked model is tried, and its absence is the error
    line = _error_line(_cli("run", "--lang", "pt", "--model", "Helsinki-NLP/opus-mt-en-ROMANCE",
                            "--out", str(tmp_path / "o")))
    assert "'Helsinki-NLP/opus-mt-en-ROMANCE' is not available offline" in line
    assert not (tmp_path / "o" / "pt" / "manifest.json").exists()


@pytest.mark.parametrize("how,named", [
    (["--backend", "bergamot"], "--backend bergamot"),
    (["--set", "model.backend=bergamot"], "--set model.backend=bergamot"),
])
def test_model_with_the_bergamot_backend_is_refused(tmp_path, how, named):
    line = _error_line(_cli("run", "--lang", "pt", "--model", "facebook/nllb-200-distilled-600M",
                            *how, "--out", str(tmp_path / "o")))
    assert "--model facebook/nllb-200-distilled-600M" in line and named in line
    assert "bergamot backend" in line and "takes no model id" in line
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------ 2. no model: say --model


def test_ctranslate2_on_pt_without_a_model_says_give_model(tmp_path):
    line = _error_line(_cli("run", "--lang", "pt", "--backend", "ctranslate2",
                            "--out", str(tmp_path / "o")))
    assert line.startswith("error: no model for en-pt: backend ctranslate2 needs one")
    assert "--model ID_OR_PATH" in line and "model.id" in line
    assert not (tmp_path / "o" / "pt" / "manifest.json").exists()


# ------------------------------------------------------------ 4. data file keys


def test_set_keys_on_a_data_file_given_as_a_bare_path():
    # was: internal error: TypeError: 'str' object does not support item assignment
    line = _error_line(_cli("validate", PT, "--set",
                            "data.parallel.0.keys={source: en, target: pt}"))
    assert line.startswith("error: --set data.parallel.0.keys={source: en, target: pt}: "
                           "data.parallel[0].keys: must be a list of field names, not a mapping")
    assert "keys: [SOURCE_FIELD, TARGET_FIELD]" in line
    res = _cli("validate", PT, "--set", "data.parallel.0.columns=[0, 1]")
    assert res.exit_code == 0 and res.output.startswith("ok:"), res.output
    # keys: names JSONL/Parquet fields; on a TSV file it is refused, never ignored
    line = _error_line(_cli("validate", PT, "--set", "data.parallel.0.keys=[en, pt]"))
    assert line.endswith("udhr.en-pt.tsv: `keys:` is for JSONL, Parquet and hf: inputs, and this "
                         "input is read as tsv; pick TSV columns with `columns:` (0-based "
                         "numbers, or names from a header row)")
    line = _error_line(_cli("validate", PT, "--set", "data.parallel.0.path.x=1"))
    assert "'data.parallel.0.path' is a value" in line


def test_keys_as_a_mapping_in_a_config_names_the_key_not_a_string_error(tmp_path):
    # was: c.yaml:4: data.parallel[0]: Input should be a valid string [+1 more problem]
    cfg = tmp_path / "c.yaml"
    cfg.write_text("lang: pt\ndata:\n  parallel:\n    - path: x.jsonl\n"
                   "      keys: {source: english, target: portuguese}\n", encoding="utf-8")
    line = _error_line(_cli("validate", str(cfg)))
    assert line.startswith(f"error: {cfg}:5: data.parallel[0].keys: must be a list of field "
                           "names, not a mapping")
    assert "valid string" not in line and "more problem" not in line
    cfg.write_text("lang: pt\ndata:\n  parallel:\n    - {path: x.jsonl, keyz: [a, b]}\n",
                   encoding="utf-8")
    line = _error_line(_cli("validate", str(cfg)))
    assert "data.parallel[0].keyz: unknown key 'keyz'; did you mean 'keys'?" in line


def test_keys_set_on_my_own_jsonl_file_reads_it(tmp_path):
    data = tmp_path / "my.jsonl"
    rows = [("Everyone has the right to life.", "Todos têm direito à vida."),
            ("The children are playing.", "As crianças estão a brincar."),
            ("Good morning.", "Bom dia."), ("Thank you very much.", "Muito obrigado.")]
    data.write_text("".join(json.dumps({"english": e, "portuguese": p}, ensure_ascii=False) + "\n"
                            for e, p in rows), encoding="utf-8")
    res = _cli("run", "--lang", "pt", "--parallel", str(data), "--out", str(tmp_path / "o"),
               "--set", "data.parallel.0.keys=[english, portuguese]", "--set", "split.valid=1",
               "--set", "split.test=1", "--no-report", "--quiet")
    assert res.exit_code == 0, res.output
    st = json.loads((tmp_path / "o" / "pt" / "stats.json").read_text())
    assert st["inputs"]["parallel"][0]["kept"] == 4


# ------------------------------------------------------------ 5. errors name the override


def test_set_typo_names_the_set_not_the_shipped_config():
    # was: error: .../lang_configs/pt.yaml:17: synthesis.decodng: unknown key 'decodng'...
    line = _error_line(_cli("validate", PT, "--set", "synthesis.decodng.beam_size=3"))
    assert line == ("error: --set synthesis.decodng.beam_size=3: synthesis.decodng: unknown "
                    "key 'decodng'; did you mean 'decoding'?")
    line = _error_line(_cli("run", "--lang", "pt", "--set", "split.valid=abc"))
    assert line.startswith("error: --set split.valid=abc: split.valid:") and "pt.yaml" not in line


def test_flag_errors_name_the_flag(tmp_path):
    # was: error: .../pt.yaml:11: model.backend: Input should be ... (got 'bergamott')
    line = _error_line(_cli("run", "--lang", "pt", "--backend", "bergamott",
                            "--out", str(tmp_path)))
    assert "'--backend'" in line and "'bergamott' is not a backend" in line
    assert "transformers, ctranslate2 or bergamot" in line and "pt.yaml" not in line
    line = _error_line(_cli("run", "--lang", "pt", "--limit", "0", "--out", str(tmp_path)))
    assert line.startswith("error: --limit 0: data.limit:") and "pt.yaml" not in line
    line = _error_line(_cli("run", "--lang", "pt", "--nope", "--out", str(tmp_path)))
    assert "No such option" in line and "translate-synth run --help" in line


def test_a_mistake_in_the_file_still_names_its_line(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("lang: sw\nsynthesis:\n  decoding:\n    beam_sise: 4\n", encoding="utf-8")
    line = _error_line(_cli("validate", str(cfg), "--set", "split.valid=3"))
    assert line.startswith(f"error: {cfg}:4: synthesis.decoding.beam_sise: unknown key")


# ------------------------------------------------------------ 6. help


def test_run_help_lists_input_formats_and_backends():
    res = _cli("run", "--help")
    assert res.exit_code == 0
    out = " ".join(res.output.split())  # help text is wrapped to the terminal
    for needle in ("TSV", "JSONL", "Parquet", ".gz", "hf:name[:config][:split]",
                   "hf:/local/dir", "[transformers|ctranslate2|bergamot]", "--model ID_OR_PATH",
                   "without --backend it runs on the transformers backend"):
        assert needle in out, needle
    res = _cli("validate", "--help")
    assert res.exit_code == 0 and "override a key before checking" in res.output


# ------------------------------------------------------------ 8. YAML alias bombs


def _bomb(levels=8, width=10) -> list[str]:
    lines = [f"a0: &a0 [{', '.join(['x'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return lines  # width ** levels values once expanded: 10^8 here


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path):
    """9 lines that expand to 10^8 values: validate ran past 60 s and 8.8 GB before."""
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(["lang: pt", *_bomb()]) + "\n", encoding="utf-8")
    for args in (["validate", str(bomb)],
                 ["run", "--config", str(bomb), "--out", str(tmp_path / "o")],
                 ["validate", PT, "--set", "x=[" + ", ".join(
                     s.split(": ", 1)[1] for s in _bomb()) + "]"]):
        t0 = time.monotonic()
        p = subprocess.run([sys.executable, "-m", "translate_synth", *args], capture_output=True,
                           text=True, timeout=60, cwd=tmp_path)
        took = time.monotonic() - t0
        assert p.returncode == 2, p.stderr[-2000:]
        lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and "expand to more than 100,000 values" in lines[0], p.stderr
        assert lines[0].startswith(f"error: {bomb}:3: " if "--set" not in args
                                   else "error: --set x=["), lines[0]
        assert took < 30, took  # the interpreter's start-up; the check itself is milliseconds
    assert not (tmp_path / "o").exists()


def test_a_few_aliases_are_still_fine(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("lang: pt\nsynthesis:\n  decoding: &d {beam_size: 2, max_new_tokens: 64}\n"
                   "  roundtrip_decoding: *d\n", encoding="utf-8")
    res = _cli("validate", str(cfg))
    assert res.exit_code == 0, res.output
    cfg.write_text("lang: pt\nsynthesis: &s {decoding: *s}\n", encoding="utf-8")
    line = _error_line(_cli("validate", str(cfg)))
    assert "refers to a value that contains it" in line


# ------------------------------------------------------------ 10. random weights, default chain


def test_tiny_random_nllb_with_the_default_filters_ends_cleanly(tmp_path, tiny_nllb):
    """Random weights, the shipped sw config's filters and quality calibration (>= 100 real
    pairs, so a quality model is fitted): this ended in `internal error: ZeroDivisionError`."""
    import tiny_models

    pairs = tiny_models.toy_parallel(n=180, seed=2)
    par, sw, en = tmp_path / "par.tsv", tmp_path / "sw.txt", tmp_path / "en.txt"
    par.write_text("".join(f"{e}\t{s}\n" for e, s in pairs[:150]), encoding="utf-8")
    sw.write_text("".join(f"{s}\n" for _, s in pairs[150:165]), encoding="utf-8")
    en.write_text("".join(f"{e}\n" for e, _ in pairs[165:180]), encoding="utf-8")
    res = _cli("run", "--lang", "sw", "--model", str(tiny_nllb), "--backend", "transformers",
               "--parallel", str(par), "--target-mono", str(sw), "--source-mono", str(en),
               "--out", str(tmp_path / "o"), "--no-report", "--quiet",
               "--set", "synthesis.decoding.max_new_tokens=8",
               "--set", "synthesis.decoding.beam_size=1")
    assert "internal error" not in res.output and "Traceback" not in res.output, res.output
    if res.exit_code == 2:
        _error_line(res)
    else:
        assert res.exit_code == 0, res.output
        st = json.loads((tmp_path / "o" / "sw" / "stats.json").read_text())
        assert st["quality"]["n"] >= 100 and st["emitted"]["train"]["real"] > 0

"""README "Using a trained model": its Python block, as written there, runs on models `train`
wrote (a tiny from-scratch Marian, a tiny fine-tuned NLLB) with transformers' generate and
with CTranslate2, and both engines give the same translations. (Training them also shows
train's progress lines.)"""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from test_train import TINY, make_run
from translate_synth.cli import main

REPO = Path(__file__).resolve().parents[1]
MODEL_LINE = 'model_dir = "models/sw-nllb"'
CODES_LINE = 'src_code, tgt_code = "eng_Latn", "swh_Latn"'

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # conftest.py


def readme_block() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("\n### Using a trained model\n")
    code = text.index("```python\n", start) + len("```python\n")
    return text[code:text.index("```\n", code)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_nllb):
    root = tmp_path_factory.mktemp("trained")
    run = make_run(root / "run", n_real=60, n_syn=60, n_valid=8, n_vsyn=8)
    sets = [a for s in TINY for a in ("--set", s)]
    # (and train's progress: a line per step here, with the total and an ETA)
    res = CliRunner(env={"TRANSLATE_SYNTH_PROGRESS_SECONDS": "0"}).invoke(
        main, ["train", str(run), "--model", "scratch", "--out", str(root / "scratch"),
               "--max-steps", "3", *sets])
    assert res.exit_code == 0, res.output
    assert re.findall(r"\] train: (\d)/3 steps \(\d+ %\), .*ETA", res.stderr) == ["1", "2", "3"]
    assert re.search(r"\] train: 3 steps in ", res.stderr)
    res = CliRunner().invoke(main, ["train", str(run), "--model", str(tiny_nllb), "--out",
                                    str(root / "nllb"), "--max-steps", "2", "--quiet",
                                    "--set", "train.eval_max_new_tokens=8",
                                    "--set", "train.max_tokens=300"])
    assert res.exit_code == 0, res.output
    return root


def test_the_readme_snippet_runs_on_trained_models(trained, tmp_path):
    code = readme_block()
    assert MODEL_LINE in code and CODES_LINE in code  # else update this test with the README
    # one process runs the block for each model (Python starts, imports, once)
    runs = []
    for model, codes in (("nllb", CODES_LINE.split(" = ")[1]), ("scratch", "None, None")):
        runs.append(code.replace(MODEL_LINE, f"model_dir = {str(trained / model)!r}")
                    .replace(CODES_LINE, f"src_code, tgt_code = {codes}"))
    driver = "".join(f"print('== {m}')\nexec(compile({c!r}, 'README.md', 'exec'))\n"
                     for m, c in zip(("nllb", "scratch"), runs))
    (tmp_path / "driver.py").write_text(driver, encoding="utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    p = subprocess.run([sys.executable, str(tmp_path / "driver.py")], capture_output=True,
                       text=True, env=env, cwd=tmp_path, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    printed, model = {}, None
    for line in p.stdout.splitlines():
        if line.startswith("== "):
            model = line[3:]
        elif line.startswith("["):
            printed.setdefault(model, []).append(ast.literal_eval(line))
    assert set(printed) == {"nllb", "scratch"}, p.stdout
    for model, got in printed.items():
        assert len(got) == 2, p.stdout
        hf, ct2 = got  # transformers' generate, then CTranslate2
        assert len(hf) == 2 and all(isinstance(h, str) and h.strip() for h in hf)
        assert hf == ct2, (model, hf, ct2)
        assert (trained / f"{model}-ct2" / "model.bin").is_file()

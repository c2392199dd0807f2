"""Shared fixtures: offline environment, tiny random models built once per session, small data.

Shared across test files (use these rather than building your own; the suite has a 5-minute
budget on 2 cores, README "Test"):
- tiny_marian, tiny_m2m100, tiny_nllb, tiny_mbart50, tiny_t5 (session): tiny random-weight
  models of each family (tests/tiny_models.py), built once.
- toy_pairs (session), sw_corpus (per test): toy en-sw text, and a small corpus on disk.
- small_pt_run (session): a finished real bergamot pt run (20 lines per input), read-only.
- one_torch_thread: kept for the training tests; the whole session already runs torch on one
  thread (OMP_NUM_THREADS=1 below, inherited by the subprocesses tests start).
The translation cache (TRANSLATE_SYNTH_CACHE) is one fresh directory per session: a second
run of the same bergamot inputs in the session (without --no-cache) translates nothing.
"""

import os
import tempfile

for _v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ[_v] = "1"  # before anything imports transformers / datasets / huggingface_hub
os.environ.setdefault("COMET_DISABLE_AUTO_LOGGING", "1")
# a translation cache for this test session only: never the user's, never shared between sessions
os.environ["TRANSLATE_SYNTH_CACHE"] = tempfile.mkdtemp(prefix="translate-synth-test-cache.")
os.environ.setdefault("COMET_ERROR_TRACKING_ENABLE", "false")
os.environ.setdefault("COMET_AUTO_LOG_ENV_HOST", "false")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# torch (and the subprocesses the tests start) on one thread: the models here are tiny, and on
# 2 cores two threads spin against each other (a tiny NLLB run took 8x longer on a loaded machine)
os.environ.setdefault("OMP_NUM_THREADS", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

import tiny_models  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory):
    return tmp_path_factory.mktemp("tiny_models")


@pytest.fixture(scope="session")
def tiny_marian(tiny_root):
    return tiny_models.make_tiny_marian(tiny_root / "marian")


@pytest.fixture(scope="session")
def tiny_m2m100(tiny_root):
    return tiny_models.make_tiny_m2m100(tiny_root / "m2m100")


@pytest.fixture(scope="session")
def tiny_nllb(tiny_root):
    return tiny_models.make_tiny_nllb(tiny_root / "nllb")


@pytest.fixture(scope="session")
def tiny_mbart50(tiny_root):
    return tiny_models.make_tiny_mbart50(tiny_root / "mbart50")


@pytest.fixture(scope="session")
def tiny_t5(tiny_root):
    return tiny_models.make_tiny_t5(tiny_root / "t5")


@pytest.fixture()
def one_torch_thread():
    """Training tests run torch on one thread (two threads on 2 shared cores are slower)."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(autouse=True)
def log_lines_shown():
    """Every test starts with the package's log lines shown (a command run with --quiet in an
    earlier test leaves them off in this process)."""
    from translate_synth import progress

    progress.set_quiet(False)
    yield


@pytest.fixture(scope="session")
def toy_pairs():
    """Generated English/Swahili pairs in the tiny models' vocabulary."""
    return tiny_models.toy_parallel(n=120, seed=1)


@pytest.fixture()
def sw_corpus(tmp_path, toy_pairs):
    """A small en-sw corpus on disk: parallel TSV plus monolingual text on each side."""
    par = tmp_path / "par.tsv"
    par.write_text("".join(f"{e}\t{s}\n" for e, s in toy_pairs[:40]), encoding="utf-8")
    en = tmp_path / "en.txt"
    en.write_text("".join(f"{e}\n" for e, _ in toy_pairs[40:60]), encoding="utf-8")
    sw = tmp_path / "sw.txt"
    sw.write_text("".join(f"{s}\n" for _, s in toy_pairs[60:80]), encoding="utf-8")
    return {"parallel": par, "source_mono": en, "target_mono": sw}


@pytest.fixture(scope="session")
def small_pt_run(tmp_path_factory):
    """A finished run directory (OUT/pt) of the resume tests' command, uninterrupted: the pt demo
    on the real bergamot model, 20 lines per input (8-row chunks: 3 of bt, 3 of ft, 2 of
    paraphrase), 4 valid / 4 test, no cache, no report, in a subprocess (`test_resume.ARGS`).
    Built once per session and shared as the reference by test_resume.py and test_ray.py: read
    it, never write it (copy it first)."""
    from test_resume import _run

    out = tmp_path_factory.mktemp("small_pt_run")
    p = _run(out)
    assert p.returncode == 0, p.stderr
    return out / "pt"

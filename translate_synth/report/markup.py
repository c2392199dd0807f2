"""HTML and Markdown building blocks every report part uses: escaping, tables, embedded PNGs."""

from __future__ import annotations

import html


def esc(x) -> str:
    """``x`` as HTML text (None as empty)."""
    return html.escape("" if x is None else str(x))


def html_table(header, rows, num_cols=()) -> str:
    """An HTML table: ``header`` escaped here, ``rows`` already HTML; ``num_cols`` right-aligned."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(
        f"<td class='n'>{c}</td>" if i in num_cols else f"<td>{c}</td>"
        for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def img_tag(b64: dict, name: str, alt: str) -> str:
    """The PNG ``b64[name]`` (base64 text) embedded in an ``<img>``; empty when there is none."""
    if name not in b64:
        return ""
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{b64[name]}">'


def md_cell(x) -> str:
    """``x`` as one Markdown table cell (pipes escaped, on one line)."""
    return str(x).replace("|", "\\|").replace("\n", " ")


def md_table(header, rows) -> list[str]:
    """A Markdown table as lines."""
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(md_cell(c) for c in r) + " |" for r in rows]

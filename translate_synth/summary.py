"""What the CLI prints: the end-of-run summary and the language table."""

from __future__ import annotations

import click

from translate_synth.langs import FAMILIES, family_code


def _table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(c) for c in headers]] + [[("" if c is None else str(c)) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _rare(r: dict | None) -> str:
    return f"{100 * r['before']:.1f} -> {100 * r['after']:.1f}" if r else ""


def print_summary(result) -> None:
    st = result.stats
    click.echo(f"\nfilter funnel ({st['lang']}):")
    sides = [s for s in ("target", "source") if any(s in f.get("rare_types", {})
                                                    for f in result.funnel)]
    click.echo(_table(["filter", "seen", "kept", "removed", "removed %"] +
                      [f"rare {s} types %" for s in sides] + ["kept/seen per origin"],
                      [[f["name"], f["seen"], f["kept"], f["removed"],
                        f"{100 * f['removed_share']:.1f}"] +
                       [_rare(f.get("rare_types", {}).get(s)) for s in sides] +
                       [" ".join(f"{o} {v['kept']}/{v['seen']}"
                                 for o, v in (f.get("by_origin") or {}).items())]
                       for f in result.funnel]))
    if sides:
        click.echo("(rare types: real training words seen <= collapse.rare_k times; the share "
                   "the rows reaching a filter carry -> the share its kept rows carry)")
    click.echo("\nemitted rows:")
    origins = sorted({o for s in st["emitted"].values() for o in s})
    click.echo(_table(["split"] + origins,
                      [[s] + [st["emitted"][s].get(o, 0) for o in origins] for s in st["emitted"]]))
    sc = st["scores"]
    for part in ("all", "accepted"):
        b, c = sc["rt_bleu"][part], sc["rt_chrf"][part]
        if b["n"]:
            click.echo(f"round trip ({part}, n={b['n']}): BLEU mean {b['mean']:.1f} "
                       f"median {b['median']:.1f}; chrF mean {c['mean']:.1f} median {c['median']:.1f}")
    click.echo(f"signatures: {result.manifest['signatures']['rt_bleu']} | "
               f"{result.manifest['signatures']['rt_chrf']}")
    from translate_synth import progress

    if progress.is_quiet():  # else the run logged them as they came: each warning once
        for w in st.get("warnings", []):
            click.echo(f"WARNING: {w}", err=True)
    refiltered = (st["timings_s"].get("refilter") or {}).get("total")
    if refiltered is not None:  # a refilter's summary: its own time, not the run's
        click.echo(f"refiltered in {refiltered:.1f}s, no model call (the run took "
                   f"{st['timings_s']['total']:.1f}s) -> {result.out_dir}")
    else:
        click.echo(f"done in {st['timings_s']['total']:.1f}s -> {result.out_dir}")


def print_langs() -> None:
    from translate_synth.config import config_dirs, load_config

    rows = []
    for d in config_dirs()[:1]:
        for p in sorted(d.glob("*.yaml")):
            cfg = load_config(p)
            codes = []
            for fam in FAMILIES:
                try:
                    codes.append(family_code(cfg.lang, fam, cfg.codes))
                except Exception:
                    codes.append("-")
            rows.append([cfg.lang, cfg.name or "", cfg.model.backend, cfg.model.id or ""] + codes)
    click.echo(_table(["lang", "name", "backend", "model"] + list(FAMILIES), rows))

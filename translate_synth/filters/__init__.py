"""Filters: a registry of small classes, each scoring rows apart from accepting them.

Config lists filters in order, e.g. ``- {type: rt_chrf, min: 30}``; ``heldout_overlap``,
``duplicate`` and ``real_target_overlap`` always run first, in that order, whatever the config
says (a config entry of one of them only sets its options).
"""

from __future__ import annotations

import difflib

from pydantic import ValidationError

# importing the filter modules registers their filters, in this order (the order of REGISTRY)
from translate_synth.filters import basic, surface  # noqa: F401  isort: skip
from translate_synth.filters import fluency_filter, langid_filter  # noqa: F401  isort: skip
from translate_synth.filters import logprob, quality_filter  # noqa: F401  isort: skip
from translate_synth.filters import overlap, select  # noqa: F401  isort: skip
from translate_synth.filters.base import REGISTRY, Filter, FilterContext, register

__all__ = ["REGISTRY", "Filter", "FilterContext", "register", "validate_specs", "build_filters",
           "score_ranks", "ALWAYS_ON", "ALWAYS_LAST"]

ALWAYS_ON = ("heldout_overlap", "duplicate", "real_target_overlap")  # first, in this order
ALWAYS_LAST = ("fluency", "quality")  # always scored (no threshold unless configured)


def validate_specs(specs: list[dict]) -> list[dict]:
    """Check each ``{type: ..., name: ..., **params}``; raise ValueError naming the entry."""
    if len(specs) > 60:
        raise ValueError(f"filters: {len(specs)} filters; at most 60 are supported")
    out, names, keys = [], set(), {}
    for i, spec in enumerate(specs):
        spec = dict(spec)
        ftype = spec.pop("type", None)
        name = spec.pop("name", None) or ftype
        if ftype not in REGISTRY:
            close = difflib.get_close_matches(str(ftype), list(REGISTRY), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"one of {', '.join(sorted(REGISTRY))}"
            raise ValueError(f"filters[{i}]: unknown filter type {ftype!r}; {hint}")
        try:
            params = REGISTRY[ftype].Params.model_validate(spec)
        except ValidationError as err:
            e = err.errors()[0]
            key = ".".join(str(p) for p in e["loc"]) or "(params)"
            msg = e["msg"].removeprefix("Value error, ")
            if e["type"] == "extra_forbidden":
                allowed = list(REGISTRY[ftype].Params.model_fields)
                msg = f"unknown option; {ftype} takes {', '.join(allowed) or 'no options'}"
            raise ValueError(f"filters[{i}] ({ftype}).{key}: {msg}") from None
        _check_range(i, ftype, params)
        if name in names:
            raise ValueError(f"filters[{i}]: two filters named '{name}'; give one a `name:`")
        inst = REGISTRY[ftype](params)
        key = inst.score_key
        if key in keys:
            raise ValueError(f"filters[{i}]: {ftype} scores '{key}' like filters[{keys[key]}]; "
                             "give it another `side:` or drop one")
        keys[key] = i
        names.add(name)
        out.append({"type": ftype, "name": name, **params.model_dump(exclude_none=True)})
    return out


def _span(lo, hi) -> str:
    return (f"in [{lo:g}, {hi:g}]" if lo is not None and hi is not None else
            f">= {lo:g}" if lo is not None else f"<= {hi:g}")


def _check_range(i: int, ftype: str, params) -> None:
    """A min/max the filter's score can never reach keeps every row or none: refused."""
    lo, hi = REGISTRY[ftype].score_range
    for key in ("min", "max"):
        v = getattr(params, key, None)
        if v is None:
            continue
        too_low, too_high = lo is not None and v < lo, hi is not None and v > hi
        if too_low or too_high or v != v:
            keeps = "no row" if (too_high if key == "min" else too_low) else "every row"
            raise ValueError(f"filters[{i}] ({ftype}).{key}: {v:g} is out of range: {ftype} "
                             f"scores are {_span(lo, hi)}, so this {key} keeps {keeps}; "
                             f"choose a value {_span(lo, hi)}")


def build_filters(specs: list[dict], context: FilterContext | None = None
                  ) -> list[tuple[str, Filter]]:
    """(name, filter) pairs in run order: the always-on filters (configured options or
    defaults), then the other configured ones, then each of ``ALWAYS_LAST`` not configured.

    A filter that reads other scores (``needs``: quality reads fluency; select reads quality,
    fluency and, with a novelty weight, novelty) gets those not configured right before it, so
    every score is computed once, in chain order."""

    def make(spec):
        spec = dict(spec)
        ftype, name = spec.pop("type"), spec.pop("name")
        cls = REGISTRY[ftype]
        return name, cls(cls.Params.model_validate(spec), context)

    chain = []
    configured = {s["type"] for s in specs}
    added: set[str] = set()

    def add_needs(f):
        for t in f.needs():
            if t not in configured and t not in added:
                dep = REGISTRY[t](REGISTRY[t].Params(), context)
                add_needs(dep)
                added.add(t)
                chain.append((t, dep))

    for ftype in ALWAYS_ON:
        spec = next((s for s in specs if s["type"] == ftype), None)
        chain.append(make(spec) if spec else
                     (ftype, REGISTRY[ftype](REGISTRY[ftype].Params(), context)))
    for spec in specs:
        if spec["type"] not in ALWAYS_ON:
            name, f = make(spec)
            add_needs(f)
            chain.append((name, f))
    for ftype in ALWAYS_LAST:
        if ftype not in configured and ftype not in added:
            f = REGISTRY[ftype](REGISTRY[ftype].Params(), context)
            add_needs(f)
            added.add(ftype)
            chain.append((ftype, f))
    return chain


def score_ranks() -> dict:
    """score key -> a function giving a larger number for a better row, for every score a
    filter can store (side variants included): what ``curriculum.sort_by`` may name."""
    out = {}
    for cls in REGISTRY.values():
        sides = cls.Params.model_fields.get("side")
        options = [{}] if sides is None else [
            {"side": v} for v in getattr(sides.annotation, "__args__", ())]
        for opt in options or [{}]:
            f = cls(cls.Params(**opt))
            out[f.score_key] = f.rank
    out["rt_bleu"] = out["rt_chrf"] = lambda v: v
    return out


"""``hf:`` inputs: a `datasets` dataset from the hub (or its cache), a local dataset directory,
or a directory written by ``Dataset.save_to_disk``/``DatasetDict.save_to_disk``.

``hf:NAME[:CONFIG[:SPLIT]]``; for a ``save_to_disk`` directory ``hf:DIR[:SPLIT]`` (or
``hf:DIR::SPLIT``) names the split of a ``DatasetDict``: default ``train``, or its only split.
Both executors load through ``load`` and so fail with the same one-line error.
"""

from __future__ import annotations

from pathlib import Path

from translate_synth.config import HF_PREFIX, DataFile
from translate_synth.errors import UserError


def hf_spec(f: DataFile) -> tuple[str, str, str | None, str]:
    """``hf:NAME[:CONFIG[:SPLIT]]`` -> (spec, name, config or None, split: default train)."""
    spec = f.path[len(HF_PREFIX):] if f.path.startswith(HF_PREFIX) else f.path
    parts = spec.split(":")
    name = parts[0]
    config = parts[1] if len(parts) > 1 and parts[1] else None
    split = parts[2] if len(parts) > 2 and parts[2] else "train"
    return spec, name, config, split


def saved_to_disk(name: str) -> bool:
    """A directory that ``save_to_disk`` wrote (a Dataset or a DatasetDict)."""
    d = Path(name)
    return (d / "dataset_dict.json").is_file() or (
        (d / "state.json").is_file() and (d / "dataset_info.json").is_file())


def _first_line(e: Exception) -> str:
    return f"{type(e).__name__}: {str(e).splitlines()[0]}" if str(e) else type(e).__name__


def _from_disk(spec: str, name: str, config: str | None, split: str, explicit: bool):
    import datasets

    try:
        ds = datasets.load_from_disk(name)
    except Exception as e:
        raise UserError(f"hf:{spec}: cannot load the dataset that save_to_disk wrote there "
                        f"({_first_line(e)}); check that the directory is complete") from None
    if isinstance(ds, datasets.Dataset):
        if explicit or config:
            raise UserError(f"hf:{spec}: this directory holds one Dataset, not a DatasetDict "
                            f"of splits; give it as hf:{name}")
        return ds
    splits = list(ds)
    want = split if explicit else config or ("train" if "train" in splits or len(splits) != 1
                                             else splits[0])
    if want not in ds:
        raise UserError(f"hf:{spec}: no split '{want}' in this DatasetDict (has "
                        f"{', '.join(splits) or 'none'}); name one: hf:{name}:SPLIT")
    return ds[want]


def load(f: DataFile, streaming: bool):
    """(spec, the split as a ``datasets`` Dataset, or an IterableDataset when ``streaming``)."""
    spec, name, config, split = hf_spec(f)
    explicit = len(spec.split(":")) > 2 and bool(spec.split(":")[2])
    try:
        import datasets

        datasets.logging.set_verbosity_error()
        datasets.disable_progress_bars()
        if saved_to_disk(name):
            return spec, _from_disk(spec, name, config, split, explicit)
        return spec, datasets.load_dataset(name, config, split=split, streaming=streaming)
    except UserError:
        raise
    except Exception as e:
        raise UserError(f"hf:{spec}: cannot load the dataset ({_first_line(e)}); if it is on the "
                        "hub, run once online to cache it, or give a local path or file") from None


def empty(spec: str) -> UserError:
    return UserError(f"hf:{spec}: the dataset split is empty (no rows)")


def rows(f: DataFile):
    """(spec, an iterator over the split's rows as dicts), streaming: nothing is read whole."""
    from itertools import chain

    spec, ds = load(f, streaming=True)
    try:
        it = iter(ds)
        first = next(it, None)
    except Exception as e:
        raise UserError(f"hf:{spec}: cannot load the dataset ({_first_line(e)}); if it is on the "
                        "hub, run once online to cache it, or give a local path or file") from None
    if first is None:
        raise empty(spec)
    return spec, chain([first], it)

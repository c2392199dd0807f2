"""What every section of the config schema shares: ``Strict`` (unknown keys are errors), the
seed range and the device check."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

MAX_SEED = 2**32 - 1  # seeds are non-negative 32-bit integers (numpy, torch, random)


def check_device(v: str) -> str:
    """auto, cpu, cuda or cuda:N (model.device and train.device)."""
    if v not in ("auto", "cpu", "cuda") and not (v.startswith("cuda:") and v[5:].isdigit()):
        raise ValueError("device is auto, cpu, cuda or cuda:N")
    return v


class Strict(BaseModel):
    """A config section: unknown keys are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

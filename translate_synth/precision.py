"""Which floating-point type a model runs in: one table for inference (``model.dtype``) and
training (``train.precision``), pure (no torch import), so it is tested without a GPU.

| device | asked | T5 family (T5, mT5, umT5, MADLAD) | other models |
|---|---|---|---|
| CPU | auto | float32 | float32 |
| CUDA with bf16 | auto | bfloat16 | bfloat16 |
| CUDA without bf16 | auto | float32 | float16 |
| any | float16 / fp16 | refused (one line) | float16 |
| CPU | bf16/fp16 training | refused (autocast is CUDA-only here) | refused |
| CUDA without bf16 | bfloat16 / bf16 | refused | refused |

Why never float16 for the T5 family: T5 checkpoints were trained in bfloat16 and their
feed-forward activations exceed float16's range (65,504), so float16 gives inf/NaN outputs
(the known T5 fp16 overflow; transformers keeps ``wo`` in float32 for T5 for that reason, not
for every T5-derived model). bfloat16 has float32's range; float32 is the safe fallback.
"""

from __future__ import annotations

from translate_synth.errors import UserError

T5_TYPES = frozenset({"t5", "mt5", "umt5", "longt5", "madlad"})  # model_type or family


def is_t5(model_type: str | None, family: str | None = None) -> bool:
    return (model_type or "").lower() in T5_TYPES or (family or "").lower() == "madlad"


def inference_dtype(asked: str, device: str, model_type: str | None, bf16_ok: bool,
                    family: str | None = None) -> str:
    """``model.dtype`` resolved: float32, bfloat16 or float16 (see the table above)."""
    cuda = str(device).startswith("cuda")
    t5 = is_t5(model_type, family)
    if asked == "auto":
        if not cuda:
            return "float32"
        return "bfloat16" if bf16_ok else ("float32" if t5 else "float16")
    if asked == "float16" and t5:
        raise UserError(f"model.dtype=float16 with a {model_type or family} model: T5-family "
                        "weights overflow in float16; use bfloat16, float32 or auto")
    if asked == "bfloat16" and cuda and not bf16_ok:
        raise UserError("model.dtype=bfloat16 but this GPU has no bfloat16 support; use auto "
                        "or float32")
    return asked


def train_precision(asked: str, device: str, model_type: str | None, bf16_ok: bool,
                    family: str | None = None) -> str:
    """``train.precision`` resolved: fp32, bf16 (autocast) or fp16 (autocast and a gradient
    scaler)."""
    cuda = str(device).startswith("cuda")
    t5 = is_t5(model_type, family)
    if not cuda:
        if asked in ("bf16", "fp16"):
            raise UserError(f"train.precision={asked} needs a CUDA device (this one trains on "
                            f"{device}): use auto or fp32")
        return "fp32"
    if asked == "auto":
        return "bf16" if bf16_ok else ("fp32" if t5 else "fp16")
    if asked == "fp16" and t5:
        raise UserError(f"train.precision=fp16 with a {model_type or family} model: T5-family "
                        "weights overflow in float16; use bf16, fp32 or auto")
    if asked == "bf16" and not bf16_ok:
        raise UserError("train.precision=bf16 but this GPU has no bfloat16 support; use auto "
                        "or fp32")
    return asked

"""One optimisation step: a batch of token ids as tensors, the label-smoothed loss, AdamW.

The learning rate is a pure function of the step (``lr_at``), so a resumed training takes the
same steps as an uninterrupted one.
"""

from __future__ import annotations

import math
from contextlib import nullcontext

BETAS, EPS = (0.9, 0.98), 1e-8


def lr_at(step: int, base: float, warmup: int) -> float:
    """Linear warm-up to ``base`` over ``warmup`` steps, then inverse square root decay
    (``base`` at the end of warm-up); constant without warm-up. ``step`` counts from 1."""
    if warmup <= 0:
        return base
    return base * min(step / warmup, math.sqrt(warmup / max(step, 1)))


class Stepper:
    """The model's batches, forward passes and optimizer steps (``opt`` set by ``optimizer``).
    ``amp_dtype``: CUDA autocast's dtype, None for float32; ``scaler``: fp16's gradient scaler;
    ``frozen_rows``: (weight, row) pairs whose gradient is zeroed."""

    def __init__(self, torch, model, pad_id: int, device: str, amp_dtype, scaler,
                 frozen_rows: list, t, lr: float, warmup: int):
        self.torch, self.model, self.pad_id, self.device = torch, model, pad_id, device
        self.amp_dtype, self.scaler, self.frozen_rows = amp_dtype, scaler, frozen_rows
        self.t, self.lr, self.warmup = t, lr, warmup
        self.opt = None

    def optimizer(self):
        """AdamW, decoupled weight decay on matrices only (not on biases and norms)."""
        torch, t = self.torch, self.t
        decay = [p for p in self.model.parameters() if p.requires_grad and p.ndim >= 2]
        no_decay = [p for p in self.model.parameters() if p.requires_grad and p.ndim < 2]
        self.opt = torch.optim.AdamW([{"params": decay, "weight_decay": t.weight_decay},
                                      {"params": no_decay, "weight_decay": 0.0}],
                                     lr=self.lr, betas=BETAS, eps=EPS)
        return self.opt

    def autocast(self):
        """CUDA autocast in the training precision, or nothing (float32)."""
        if self.amp_dtype is not None:
            return self.torch.autocast("cuda", dtype=self.amp_dtype)
        return nullcontext()

    def batch(self, s_ids, t_ids, idx):
        """(input ids, attention mask, labels) of rows ``idx``, padded, on the device."""
        torch = self.torch
        pad = self.pad_id
        S = max(len(s_ids[i]) for i in idx)
        T = max(len(t_ids[i]) for i in idx)
        inp = torch.full((len(idx), S), pad, dtype=torch.long)
        att = torch.zeros((len(idx), S), dtype=torch.long)
        lab = torch.full((len(idx), T), -100, dtype=torch.long)
        for r, i in enumerate(idx):
            a, b = s_ids[i], t_ids[i]
            inp[r, :len(a)] = torch.tensor(a)
            att[r, :len(a)] = 1
            lab[r, :len(b)] = torch.tensor(b)
        return inp.to(self.device), att.to(self.device), lab.to(self.device)

    def forward(self, inp, att, lab, smoothing: float):
        """(summed loss, target tokens)."""
        F = self.torch.nn.functional
        with self.autocast():
            logits = self.model(input_ids=inp, attention_mask=att, labels=lab).logits
        logits = logits.float()
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), lab.reshape(-1),
                               ignore_index=-100, label_smoothing=smoothing, reduction="sum")
        return loss, int((lab != -100).sum())

    def step(self, step: int, s_ids, t_ids, idx: list[int]) -> tuple[float, int]:
        """Train on rows ``idx`` at ``step``: (mean loss per target token, target tokens)."""
        torch, opt = self.torch, self.opt
        inp, att, lab = self.batch(s_ids, t_ids, idx)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, self.lr, self.warmup)
        loss_sum, n_tok = self.forward(inp, att, lab, self.t.label_smoothing)
        loss = loss_sum / max(n_tok, 1)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(opt)
        else:
            loss.backward()
        for w, row in self.frozen_rows:
            if w.grad is not None:
                w.grad[row].zero_()
        if self.t.clip_norm:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.t.clip_norm)
        if self.scaler is not None:
            self.scaler.step(opt)
            self.scaler.update()
        else:
            opt.step()
        opt.zero_grad(set_to_none=True)
        return float(loss.detach()), n_tok

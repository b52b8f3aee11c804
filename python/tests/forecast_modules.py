# SPDX-License-Identifier: Apache-2.0
"""forecast_modules.py: the forecasting models' modules in PyTorch, for the tests.

Neither RTSF (plumprc/RTSF) nor PatchTST is installed here, so these are
their RevIN classes (RTSF's layers/Invertible.py; PatchTST's layers/RevIN.py,
with subtract_last) and RTSF's models/RLinear.py as SPEC.md section 8 gives
them: the same formulas in the same PyTorch calls, the same state_dict names.
RLinear takes its configs' fields as arguments, runs in eval mode (its
dropout is the identity, left out) and returns the forecast alone (RTSF's
forward(x, y) also returns the MSE loss against y).
"""
import torch
import torch.nn as nn


class RevIN(nn.Module):
    """RTSF's layers/Invertible.py."""

    def __init__(self, num_features, eps=1e-5, affine=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.affine = affine
        if self.affine:
            self.affine_weight = nn.Parameter(torch.ones(self.num_features))
            self.affine_bias = nn.Parameter(torch.zeros(self.num_features))

    def forward(self, x, mode):
        if mode == "norm":
            self._get_statistics(x)
            x = self._normalize(x)
        elif mode == "denorm":
            x = self._denormalize(x)
        else:
            raise NotImplementedError
        return x

    def _get_statistics(self, x):
        dim2reduce = tuple(range(1, x.ndim - 1))
        self._centre = self._centre_of(x, dim2reduce)
        self.stdev = torch.sqrt(
            torch.var(x, dim=dim2reduce, keepdim=True, unbiased=False) + self.eps
        ).detach()

    def _centre_of(self, x, dim2reduce):
        self.mean = torch.mean(x, dim=dim2reduce, keepdim=True).detach()
        return self.mean

    def _normalize(self, x):
        x = x - self._centre
        x = x / self.stdev
        if self.affine:
            x = x * self.affine_weight
            x = x + self.affine_bias
        return x

    def _denormalize(self, x):
        if self.affine:
            x = x - self.affine_bias
            x = x / (self.affine_weight + self.eps * self.eps)
        x = x * self.stdev
        x = x + self._centre
        return x


class PatchTSTRevIN(RevIN):
    """PatchTST's layers/RevIN.py: RTSF's, plus subtract_last (the centre is
    the last value, kept as `last`; no `mean` then). The modules write the
    centre out in each method; here RTSF's methods take it from _centre_of."""

    def __init__(self, num_features, eps=1e-5, affine=True, subtract_last=False):
        super().__init__(num_features, eps, affine)
        self.subtract_last = subtract_last

    def _centre_of(self, x, dim2reduce):
        if not self.subtract_last:
            return super()._centre_of(x, dim2reduce)
        self.last = x[:, -1, :].unsqueeze(1)
        return self.last


class RLinear(nn.Module):
    """RTSF's models/RLinear.py (configs.seq_len, pred_len, channel,
    individual, rev as arguments)."""

    def __init__(self, seq_len, pred_len, enc_in, individual=False, rev=True):
        super().__init__()
        self.Linear = nn.ModuleList([
            nn.Linear(seq_len, pred_len) for _ in range(enc_in)
        ]) if individual else nn.Linear(seq_len, pred_len)
        self.rev = RevIN(enc_in) if rev else None
        self.individual = individual
        self.pred_len = pred_len

    def forward(self, x):
        # x: [B, L, D]
        x = self.rev(x, "norm") if self.rev else x
        if self.individual:
            # RTSF: torch.zeros_like(y), y being the target (B, H, D)
            pred = torch.zeros(x.shape[0], self.pred_len, x.shape[2], dtype=x.dtype)
            for idx, proj in enumerate(self.Linear):
                pred[:, :, idx] = proj(x[:, :, idx])
        else:
            pred = self.Linear(x.transpose(1, 2)).transpose(1, 2)
        pred = self.rev(pred, "denorm") if self.rev else pred
        return pred

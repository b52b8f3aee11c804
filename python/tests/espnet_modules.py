# SPDX-License-Identifier: Apache-2.0
"""espnet_modules.py: ESPnet's normalization modules in PyTorch, for the tests.

ESPnet is not installed here, so these are the classes of
espnet2/asr/state_spaces/components.py and
espnet2/enh/layers/ncsnpp_utils/normalization.py (Apache-2.0) as SPEC.md
sections 1-3, 7 and 8 (TransposedLinear) give them: the same formulas in the same PyTorch calls,
the same constructor arguments and state_dict names. The tests run them in
float64 as the reference and in float32 for PyTorch's own error.
"""
import torch
import torch.nn as nn


class ReversibleInstanceNorm1dInput(nn.Module):
    def __init__(self, d, transposed=False):
        super().__init__()
        self.transposed = transposed  # BLD when False, BDL when True
        self.norm = nn.InstanceNorm1d(d, affine=True, track_running_stats=False)

    def forward(self, x):
        if not self.transposed:
            x = x.transpose(-1, -2)
        self.s, self.m = torch.std_mean(x, dim=-1, unbiased=False, keepdim=True)
        self.s = self.s + 1e-4
        x = (x - self.m) / self.s
        # x = self.norm.weight.unsqueeze(-1) * x + self.norm.bias.unsqueeze(-1)  (unused in ESPnet)
        if not self.transposed:
            return x.transpose(-1, -2)
        return x


class ReversibleInstanceNorm1dOutput(nn.Module):
    def __init__(self, norm_input):
        super().__init__()
        self.transposed = norm_input.transposed
        self.weight = norm_input.norm.weight
        self.bias = norm_input.norm.bias
        self.norm_input = norm_input

    def forward(self, x):
        if not self.transposed:
            x = x.transpose(-1, -2)
        x = x * self.norm_input.s + self.norm_input.m
        if not self.transposed:
            return x.transpose(-1, -2)
        return x


class TransposedLinear(nn.Module):
    """Linear on the second axis of (B, U, ...); bias (V,) as ESPnet's (its
    kaiming / uniform initialisation is left out: the tests load their own)."""

    def __init__(self, d_input, d_output, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(d_output, d_input))
        if bias:
            self.bias = nn.Parameter(torch.empty(d_output))
        else:
            self.bias = 0.0

    def forward(self, x):
        num_axis = len(x.shape[2:])  # num_axis in L, for broadcasting bias
        # ESPnet's opt_einsum contract, in torch.einsum
        y = torch.einsum("b u ..., v u -> b v ...", x, self.weight) + self.bias.view(
            -1, *[1] * num_axis
        )
        return y


class TransposedLN(nn.Module):
    def __init__(self, d, scalar=True):
        super().__init__()
        self.scalar = scalar
        if self.scalar:
            self.m = nn.Parameter(torch.zeros(1))
            self.s = nn.Parameter(torch.ones(1))
        else:
            self.ln = nn.LayerNorm(d)

    def forward(self, x):
        if self.scalar:
            s, m = torch.std_mean(x, dim=1, unbiased=False, keepdim=True)
            return (self.s / s) * (x - m + self.m)
        return self.ln(x.movedim(1, -1)).movedim(-1, 1)


class VarianceNorm2d(nn.Module):
    def __init__(self, num_features, bias=False):
        super().__init__()
        self.num_features = num_features
        self.bias = bias
        self.alpha = nn.Parameter(torch.zeros(num_features))
        self.alpha.data.normal_(1, 0.02)

    def forward(self, x):
        vars = torch.var(x, dim=(2, 3), keepdim=True)
        h = x / torch.sqrt(vars + 1e-5)
        return self.alpha.view(-1, self.num_features, 1, 1) * h


class NoneNorm2d(nn.Module):
    def __init__(self, num_features, bias=True):
        super().__init__()

    def forward(self, x):
        return x


def _instance_norm(num_features):
    """ESPnet's InstanceNorm2d without affine or running statistics."""
    return nn.InstanceNorm2d(num_features, affine=False, track_running_stats=False)


class _ConditionalScale(nn.Module):
    """What ConditionalBatchNorm2d, ConditionalInstanceNorm2d and
    ConditionalNoneNorm2d share in ESPnet: the embedding of the class y
    (gamma uniform, and beta zero with bias) scaling (and shifting) the
    subclass's normalize(x)."""

    def __init__(self, num_features, num_classes, bias=True):
        super().__init__()
        self.num_features = num_features
        self.bias = bias
        self.embed = nn.Embedding(num_classes, num_features * 2 if bias else num_features)
        self.embed.weight.data[:, :num_features].uniform_()
        if bias:
            self.embed.weight.data[:, num_features:].zero_()

    def normalize(self, x):
        return x

    def forward(self, x, y):
        out = self.normalize(x)
        c = self.num_features
        if self.bias:
            gamma, beta = self.embed(y).chunk(2, dim=-1)
            return gamma.view(-1, c, 1, 1) * out + beta.view(-1, c, 1, 1)
        return self.embed(y).view(-1, c, 1, 1) * out


class ConditionalBatchNorm2d(_ConditionalScale):
    def __init__(self, num_features, num_classes, bias=True):
        super().__init__(num_features, num_classes, bias)
        self.bn = nn.BatchNorm2d(num_features, affine=False)

    def normalize(self, x):
        return self.bn(x)


class ConditionalInstanceNorm2d(_ConditionalScale):
    def __init__(self, num_features, num_classes, bias=True):
        super().__init__(num_features, num_classes, bias)
        self.instance_norm = _instance_norm(num_features)

    def normalize(self, x):
        return self.instance_norm(x)


class ConditionalVarianceNorm2d(nn.Module):
    def __init__(self, num_features, num_classes, bias=False):
        super().__init__()
        self.num_features = num_features
        self.bias = bias
        self.embed = nn.Embedding(num_classes, num_features)
        self.embed.weight.data.normal_(1, 0.02)

    def forward(self, x, y):
        vars = torch.var(x, dim=(2, 3), keepdim=True)
        h = x / torch.sqrt(vars + 1e-5)
        return self.embed(y).view(-1, self.num_features, 1, 1) * h


class ConditionalNoneNorm2d(_ConditionalScale):
    """The scale alone: normalize(x) is x."""


def _plus_means(x):
    means = torch.mean(x, dim=(2, 3))
    m = torch.mean(means, dim=-1, keepdim=True)
    v = torch.var(means, dim=-1, keepdim=True)
    return (means - m) / (torch.sqrt(v + 1e-5))


class InstanceNorm2dPlus(nn.Module):
    def __init__(self, num_features, bias=True):
        super().__init__()
        self.num_features = num_features
        self.bias = bias
        self.instance_norm = _instance_norm(num_features)
        self.alpha = nn.Parameter(torch.zeros(num_features))
        self.gamma = nn.Parameter(torch.zeros(num_features))
        self.alpha.data.normal_(1, 0.02)
        self.gamma.data.normal_(1, 0.02)
        if bias:
            self.beta = nn.Parameter(torch.zeros(num_features))

    def forward(self, x):
        means = _plus_means(x)
        h = self.instance_norm(x)
        h = h + means[..., None, None] * self.alpha[..., None, None]
        out = self.gamma.view(-1, self.num_features, 1, 1) * h
        if self.bias:
            out = out + self.beta.view(-1, self.num_features, 1, 1)
        return out


class ConditionalInstanceNorm2dPlus(nn.Module):
    def __init__(self, num_features, num_classes, bias=True):
        super().__init__()
        self.num_features = num_features
        self.bias = bias
        self.instance_norm = _instance_norm(num_features)
        if bias:
            self.embed = nn.Embedding(num_classes, num_features * 3)
            self.embed.weight.data[:, : 2 * num_features].normal_(1, 0.02)
            self.embed.weight.data[:, 2 * num_features:].zero_()
        else:
            self.embed = nn.Embedding(num_classes, 2 * num_features)
            self.embed.weight.data.normal_(1, 0.02)

    def forward(self, x, y):
        means = _plus_means(x)
        h = self.instance_norm(x)
        c = self.num_features
        if self.bias:
            gamma, alpha, beta = self.embed(y).chunk(3, dim=-1)
            h = h + means[..., None, None] * alpha[..., None, None]
            return gamma.view(-1, c, 1, 1) * h + beta.view(-1, c, 1, 1)
        gamma, alpha = self.embed(y).chunk(2, dim=-1)
        h = h + means[..., None, None] * alpha[..., None, None]
        return gamma.view(-1, c, 1, 1) * h


class Normalization(nn.Module):
    def __init__(self, d, transposed=False, _name_="layer", **kwargs):
        super().__init__()
        self.transposed = transposed
        self._name_ = _name_
        if _name_ == "layer":
            self.channel = True
            self.norm = TransposedLN(d, **kwargs) if transposed else nn.LayerNorm(d, **kwargs)
        elif _name_ == "instance":
            self.channel = False
            norm_args = {"affine": False, "track_running_stats": False}
            norm_args.update(kwargs)
            self.norm = nn.InstanceNorm1d(d, **norm_args)
        elif _name_ == "batch":
            self.channel = False
            norm_args = {"affine": True, "track_running_stats": True}
            norm_args.update(kwargs)
            self.norm = nn.BatchNorm1d(d, **norm_args)
        elif _name_ == "group":
            self.channel = False
            self.norm = nn.GroupNorm(1, d, *kwargs)
        elif _name_ == "none":
            self.channel = True
            self.norm = nn.Identity()
        else:
            raise NotImplementedError

    def forward(self, x):
        shape = x.shape
        # einops' "b d ... -> b d (...)" and "b ... d -> b (...) d"
        x = x.reshape(shape[0], shape[1], -1) if self.transposed else \
            x.reshape(shape[0], -1, shape[-1])
        if self.channel or self.transposed:
            x = self.norm(x)
        else:
            x = self.norm(x.transpose(-1, -2)).transpose(-1, -2)
        return x.reshape(shape)


class TSNormalization(nn.Module):
    def __init__(self, method, horizon):
        super().__init__()
        self.method = method
        self.horizon = horizon

    def forward(self, x):
        if self.method == "mean":
            self.scale = x.abs()[:, : -self.horizon].mean(dim=1)[:, None, :]
            return x / self.scale
        elif self.method == "last":
            self.scale = x.abs()[:, -self.horizon - 1][:, None, :]
            return x / self.scale
        return x


class TSInverseNormalization(nn.Module):
    def __init__(self, method, normalizer):
        super().__init__()
        self.method = method
        self.normalizer = normalizer

    def forward(self, x):
        if self.method == "mean" or self.method == "last":
            return x * self.normalizer.scale
        return x

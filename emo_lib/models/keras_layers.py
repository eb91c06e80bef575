"""Torch modules for the Keras layer types the HDF5 reader accepts: the whitelist.

What it holds: :data:`LAYER_BUILDERS` (Keras class name -> builder), :func:`build_layer`, and
the small modules that reproduce Keras semantics in torch. What it does not do: read files
(``keras_h5``) or wire layers into a graph (``keras_model``).

**Tensor layout.** Keras tensors here are channels-last. Inside the port every rank-4 tensor is
kept as torch's NCHW (the Keras NHWC tensor with its channel axis moved to position 1); tensors
of any other rank keep Keras's axis order. Each layer that depends on the layout translates:
convolutions and pooling run natively on NCHW; Flatten and Reshape go through NHWC so the
element order is Keras's; Dense on a rank-4 tensor acts on the channel axis; Concatenate,
Softmax and BatchNormalization map Keras's last axis to dim 1 of a rank-4 tensor.

**Keras conventions reproduced.** Kernels are HWIO (``Conv2D`` ``(kh, kw, in/groups, out)``,
depthwise ``(kh, kw, in, multiplier)``, ``Dense`` ``(in, out)``) and are transposed once at build
time. ``padding="same"`` is TensorFlow's: output ``ceil(in / stride)``, total padding
``max((out - 1) * stride + (k - 1) * dilation + 1 - in, 0)`` with the odd pixel **after**
(bottom/right), computed per input size; max pooling pads with -inf and average pooling averages
over the valid pixels only. BatchNormalization takes epsilon from the config and Keras momentum
``m`` becomes torch momentum ``1 - m``. Activations named inside a layer (``activation="relu"``)
are applied by that layer. Only ``data_format="channels_last"`` is supported.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .keras_h5 import KerasFileError, LayerSpec


@dataclass(frozen=True)
class BuildContext:
    """What a builder may need beyond the layer: the Keras major version (activation
    definitions changed between Keras 2 and 3, e.g. ``hard_sigmoid``)."""

    keras_major: int = 2


def _torch_dim(axis: int, ndim: int) -> int:
    """Keras axis of a logical channels-last tensor -> torch dim of the stored tensor."""
    axis = axis % ndim
    if ndim == 4:
        return {0: 0, 1: 2, 2: 3, 3: 1}[axis]
    return axis


def _to_keras_order(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 2, 3, 1) if x.ndim == 4 else x


def _from_keras_order(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 3, 1, 2) if x.ndim == 4 else x


# --- activations ----------------------------------------------------------------------------

def _hard_sigmoid_keras2(x: torch.Tensor) -> torch.Tensor:
    return torch.clamp(0.2 * x + 0.5, 0.0, 1.0)


def _hard_sigmoid_keras3(x: torch.Tensor) -> torch.Tensor:
    return F.relu6(x + 3.0) / 6.0


#: Element-wise activations by Keras name (softmax is handled by :class:`Softmax`).
ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": F.relu,
    "relu6": F.relu6,
    "elu": F.elu,
    "selu": F.selu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softplus": F.softplus,
    "softsign": F.softsign,
    "swish": F.silu,
    "silu": F.silu,
    "gelu": F.gelu,                 # exact (erf) form: Keras's default approximate=False
    "exponential": torch.exp,
    "mish": F.mish,
    "hard_swish": F.hardswish,      # x * relu6(x + 3) / 6
    "hard_silu": F.hardswish,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.2),  # Keras 3's default negative_slope
}


class Softmax(nn.Module):
    """Softmax over a Keras axis (default the last, i.e. channels)."""

    def __init__(self, axis: int = -1):
        super().__init__()
        self.axis = axis

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=_torch_dim(self.axis, x.ndim))

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class Activation(nn.Module):
    """A named element-wise activation."""

    def __init__(self, name: str, fn: Callable[[torch.Tensor], torch.Tensor]):
        super().__init__()
        self.name, self.fn = name, fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x)

    def extra_repr(self) -> str:
        return self.name


def activation_module(value: Any, ctx: BuildContext, where: str) -> nn.Module:
    """The module for an ``activation`` config entry (a name, or Keras 3's serialized form)."""
    if value is None:
        return nn.Identity()
    if isinstance(value, dict):  # {"module": "keras.activations", "config": "relu", ...}
        module = str(value.get("module") or "")
        if not module.startswith("keras") or not isinstance(value.get("config"), str):
            raise KerasFileError(f"{where}: custom activation {value!r} is not supported")
        value = value["config"]
    name = str(value)
    if name == "linear":
        return nn.Identity()
    if name == "softmax":
        return Softmax(-1)
    if name == "hard_sigmoid":
        fn = _hard_sigmoid_keras3 if ctx.keras_major >= 3 else _hard_sigmoid_keras2
        return Activation(name, fn)
    if name not in ACTIVATIONS:
        raise KerasFileError(f"{where}: activation {name!r} is not supported (supported: "
                             f"linear, softmax, hard_sigmoid, {', '.join(sorted(ACTIVATIONS))})")
    return Activation(name, ACTIVATIONS[name])


class KerasReLU(nn.Module):
    """Keras ``ReLU(max_value, negative_slope, threshold)``: ``x`` for ``threshold <= x``,
    ``negative_slope * (x - threshold)`` below, capped at ``max_value``."""

    def __init__(self, max_value: float | None, negative_slope: float, threshold: float):
        super().__init__()
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.threshold == 0.0 and self.negative_slope == 0.0:
            y = F.relu(x)
        else:
            y = torch.where(x >= self.threshold, x, self.negative_slope * (x - self.threshold))
        if self.max_value is not None:
            y = torch.clamp(y, max=self.max_value)
        return y

    def extra_repr(self) -> str:
        return (f"max_value={self.max_value}, negative_slope={self.negative_slope}, "
                f"threshold={self.threshold}")


# --- padding and convolutions ---------------------------------------------------------------

def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow ``"same"`` padding of one spatial axis: (before, after), odd pixel after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


class SamePad(nn.Module):
    """Pads NCHW input the way TensorFlow's ``"same"`` does for this input size."""

    def __init__(self, kernel: tuple[int, int], stride: tuple[int, int],
                 dilation: tuple[int, int] = (1, 1), value: float = 0.0):
        super().__init__()
        self.kernel, self.stride, self.dilation, self.value = kernel, stride, dilation, value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom = same_padding(x.shape[2], self.kernel[0], self.stride[0], self.dilation[0])
        left, right = same_padding(x.shape[3], self.kernel[1], self.stride[1], self.dilation[1])
        if top == bottom == left == right == 0:
            return x
        return F.pad(x, (left, right, top, bottom), value=self.value)

    def extra_repr(self) -> str:
        return f"kernel={self.kernel}, stride={self.stride}, dilation={self.dilation}"


def _pair(value: Any, where: str, what: str) -> tuple[int, int]:
    if isinstance(value, (int, float)):
        return int(value), int(value)
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return int(value[0]), int(value[1])
    raise KerasFileError(f"{where}: {what} {value!r} is not an int or a pair")


def _check_channels_last(config: dict[str, Any], where: str) -> None:
    fmt = config.get("data_format") or "channels_last"
    if fmt != "channels_last":
        raise KerasFileError(f"{where}: data_format {fmt!r} is not supported (only "
                             "channels_last, the Keras default)")


def _padding_mode(config: dict[str, Any], where: str) -> str:
    mode = str(config.get("padding", "valid")).lower()
    if mode not in ("valid", "same"):
        raise KerasFileError(f"{where}: padding {mode!r} is not supported (valid, same)")
    return mode


class KerasConv(nn.Module):
    """Conv2D / DepthwiseConv2D (``groups == in_channels``) with Keras padding and activation.

    A strided 1x1 convolution runs as a subsampling (``x[:, :, ::s, ::s]``) followed by a
    stride-1 convolution: the same numbers ("same" padding of a 1x1 kernel is always zero), and
    it avoids a oneDNN bug: the weight gradient of a strided 1x1 convolution on a channels-last
    input with fewer than 16 (AVX-512) / 8 (AVX2) input channels writes past its workspace and
    aborts the process (uxlfoundation/oneDNN issue #6035, seen here with torch 2.14 on
    mini-Xception's 8-channel shortcut)."""

    def __init__(self, conv: nn.Conv2d, mode: str, activation: nn.Module):
        super().__init__()
        kernel, stride, dilation = conv.kernel_size, conv.stride, conv.dilation
        self.subsample: tuple[int, int] | None = None
        if kernel == (1, 1) and stride != (1, 1):
            self.subsample, stride = stride, (1, 1)
            conv.stride = stride
        self.pad: nn.Module = nn.Identity()
        if mode == "same":
            totals = [(k - 1) * d for k, d in zip(kernel, dilation)]
            if all(s == 1 for s in stride) and all(t % 2 == 0 for t in totals):
                conv.padding = tuple(t // 2 for t in totals)  # symmetric: let the conv pad
            else:
                self.pad = SamePad(kernel, stride, dilation)
        self.conv = conv
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.subsample is not None:
            x = x[:, :, ::self.subsample[0], ::self.subsample[1]]
        return self.activation(self.conv(self.pad(x)))


class SeparableConv(nn.Module):
    """SeparableConv2D: depthwise (padding, strides, dilation) then pointwise 1x1 with bias."""

    def __init__(self, depthwise: KerasConv, pointwise: nn.Conv2d, activation: nn.Module):
        super().__init__()
        self.depthwise, self.pointwise, self.activation = depthwise, pointwise, activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.pointwise(self.depthwise(x)))


def _take(spec: LayerSpec, required: Sequence[str], optional: Sequence[str] = (),
          aliases: dict[str, str] | None = None) -> dict[str, np.ndarray]:
    """The layer's weights by name, every one accounted for (missing or extra -> error)."""
    where = f"layer {spec.name!r} ({spec.class_name})"
    weights = {(aliases or {}).get(k, k): v for k, v in spec.weights.items()}
    missing = [k for k in required if k not in weights]
    extra = sorted(set(weights) - set(required) - set(optional))
    if missing or extra:
        raise KerasFileError(f"{where}: weights in file {sorted(spec.weights)}; missing "
                             f"{missing}, unexpected {extra}")
    return weights


def _parameter(array: np.ndarray) -> nn.Parameter:
    return nn.Parameter(torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)))


def _conv_common(spec: LayerSpec, where: str) -> tuple[tuple[int, int], tuple[int, int],
                                                       tuple[int, int], str]:
    cfg = spec.config
    _check_channels_last(cfg, where)
    kernel = _pair(cfg.get("kernel_size"), where, "kernel_size")
    stride = _pair(cfg.get("strides", 1), where, "strides")
    dilation = _pair(cfg.get("dilation_rate", 1), where, "dilation_rate")
    if stride != (1, 1) and dilation != (1, 1):
        raise KerasFileError(f"{where}: strides {stride} with dilation {dilation} (Keras "
                             "itself refuses this combination)")
    return kernel, stride, dilation, _padding_mode(cfg, where)


def build_conv2d(spec: LayerSpec, ctx: BuildContext) -> nn.Module:
    where = f"layer {spec.name!r} (Conv2D)"
    kernel_size, stride, dilation, mode = _conv_common(spec, where)
    use_bias = bool(spec.config.get("use_bias", True))
    w = _take(spec, ["kernel"] + (["bias"] if use_bias else []))
    kernel = w["kernel"]  # (kh, kw, in/groups, out)
    groups = int(spec.config.get("groups", 1) or 1)
    if kernel.ndim != 4 or tuple(kernel.shape[:2]) != kernel_size:
        raise KerasFileError(f"{where}: kernel shape {kernel.shape} does not fit kernel_size "
                             f"{kernel_size}")
    conv = nn.Conv2d(kernel.shape[2] * groups, kernel.shape[3], kernel_size, stride=stride,
                     dilation=dilation, groups=groups, bias=use_bias)
    conv.weight = _parameter(kernel.transpose(3, 2, 0, 1))
    if use_bias:
        conv.bias = _parameter(w["bias"])
    return KerasConv(conv, mode, activation_module(spec.config.get("activation"), ctx, where))


def _depthwise(kernel: np.ndarray, kernel_size: tuple[int, int], stride: tuple[int, int],
               dilation: tuple[int, int], bias: np.ndarray | None, where: str) -> nn.Conv2d:
    """Keras depthwise kernel (kh, kw, in, multiplier): output channel ``c * mult + m`` reads
    input channel ``c``, which is torch's grouping for ``groups = in``."""
    if kernel.ndim != 4 or tuple(kernel.shape[:2]) != kernel_size:
        raise KerasFileError(f"{where}: depthwise kernel shape {kernel.shape} does not fit "
                             f"kernel_size {kernel_size}")
    kh, kw, cin, mult = kernel.shape
    conv = nn.Conv2d(cin, cin * mult, kernel_size, stride=stride, dilation=dilation, groups=cin,
                     bias=bias is not None)
    conv.weight = _parameter(kernel.transpose(2, 3, 0, 1).reshape(cin * mult, 1, kh, kw))
    if bias is not None:
        conv.bias = _parameter(bias)
    return conv


def build_depthwise_conv2d(spec: LayerSpec, ctx: BuildContext) -> nn.Module:
    where = f"layer {spec.name!r} (DepthwiseConv2D)"
    kernel_size, stride, dilation, mode = _conv_common(spec, where)
    use_bias = bool(spec.config.get("use_bias", True))
    # Keras 2 names the kernel 'depthwise_kernel', Keras 3 'kernel'.
    w = _take(spec, ["kernel"] + (["bias"] if use_bias else []),
              aliases={"depthwise_kernel": "kernel"})
    conv = _depthwise(w["kernel"], kernel_size, stride, dilation, w.get("bias"), where)
    return KerasConv(conv, mode, activation_module(spec.config.get("activation"), ctx, where))


def build_separable_conv2d(spec: LayerSpec, ctx: BuildContext) -> nn.Module:
    where = f"layer {spec.name!r} (SeparableConv2D)"
    kernel_size, stride, dilation, mode = _conv_common(spec, where)
    use_bias = bool(spec.config.get("use_bias", True))
    w = _take(spec, ["depthwise_kernel", "pointwise_kernel"] + (["bias"] if use_bias else []))
    depthwise = KerasConv(_depthwise(w["depthwise_kernel"], kernel_size, stride, dilation, None,
                                     where), mode, nn.Identity())
    pk = w["pointwise_kernel"]  # (1, 1, in * mult, filters)
    pointwise = nn.Conv2d(pk.shape[2], pk.shape[3], 1, bias=use_bias)
    pointwise.weight = _parameter(pk.transpose(3, 2, 0, 1))
    if use_bias:
        pointwise.bias = _parameter(w["bias"])
    return SeparableConv(depthwise, pointwise,
                         activation_module(spec.config.get("activation"), ctx, where))


# --- dense, normalisation -------------------------------------------------------------------

class Dense(nn.Module):
    """Keras Dense: a linear map of the last logical axis (channels of a rank-4 tensor)."""

    def __init__(self, linear: nn.Linear, activation: nn.Module):
        super().__init__()
        self.linear, self.activation = linear, activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 4:
            y = self.linear(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        else:
            y = self.linear(x)
        return self.activation(y)


def build_dense(spec: LayerSpec, ctx: BuildContext) -> nn.Module:
    where = f"layer {spec.name!r} (Dense)"
    use_bias = bool(spec.config.get("use_bias", True))
    w = _take(spec, ["kernel"] + (["bias"] if use_bias else []))
    kernel = w["kernel"]
    if kernel.ndim != 2:
        raise KerasFileError(f"{where}: kernel shape {kernel.shape} is not (in, out)")
    linear = nn.Linear(kernel.shape[0], kernel.shape[1], bias=use_bias)
    linear.weight = _parameter(kernel.T)
    if use_bias:
        linear.bias = _parameter(w["bias"])
    return Dense(linear, activation_module(spec.config.get("activation"), ctx, where))


class KerasBatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNormalization over the channel axis of a rank-2 (N, C) or rank-4 (NCHW) tensor."""

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() not in (2, 4):
            raise ValueError(f"KerasBatchNorm expects a rank-2 or rank-4 tensor, got "
                             f"{input.dim()}-D")


def build_batch_norm(spec: LayerSpec, ctx: BuildContext) -> nn.Module:
    where = f"layer {spec.name!r} (BatchNormalization)"
    cfg = spec.config
    axis = cfg.get("axis", -1)
    axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
    if axis not in (-1, 1, 3):
        raise KerasFileError(f"{where}: axis {cfg.get('axis')!r} is not the channel axis "
                             "(-1 / 3 of a channels-last image, 1 of a vector)")
    for flag in ("renorm",):
        if cfg.get(flag):
            raise KerasFileError(f"{where}: {flag}=True is not supported")
    center, scale = bool(cfg.get("center", True)), bool(cfg.get("scale", True))
    w = _take(spec, ["moving_mean", "moving_variance"] + (["gamma"] if scale else [])
              + (["beta"] if center else []))
    n = w["moving_mean"].shape[0]
    momentum = 1.0 - float(cfg.get("momentum", 0.99))
    bn = KerasBatchNorm(n, eps=float(cfg.get("epsilon", 1e-3)), momentum=momentum)
    with torch.no_grad():
        bn.running_mean.copy_(torch.from_numpy(w["moving_mean"]))
        bn.running_var.copy_(torch.from_numpy(w["moving_variance"]))
        bn.weight.copy_(torch.from_numpy(w["gamma"]) if scale else torch.ones(n))
        bn.bias.copy_(torch.from_numpy(w["beta"]) if center else torch.zeros(n))
    # Keras without scale/center has no gamma/beta to train: freeze the stand-in constants.
    bn.weight.requires_grad_(scale)
    bn.bias.requires_grad_(center)
    return bn


# --- activation layers ----------------------------------------------------------------------

def build_activation(spec: LayerSpec, ctx: BuildContext) -> nn.Module:
    return activation_module(spec.config.get("activation"), ctx,
                             f"layer {spec.name!r} (Activation)")


def build_relu(spec: LayerSpec, ctx: BuildContext) -> nn.Module:
    cfg = spec.config
    max_value = cfg.get("max_value")
    return KerasReLU(None if max_value is None else float(max_value),
                     float(cfg.get("negative_slope", 0.0) or 0.0),
                     float(cfg.get("threshold", 0.0) or 0.0))


def build_leaky_relu(spec: LayerSpec, ctx: BuildContext) -> nn.Module:
    cfg = spec.config  # Keras 2: alpha; Keras 3: negative_slope (both default 0.3)
    slope = cfg.get("negative_slope", cfg.get("alpha", 0.3))
    return nn.LeakyReLU(float(slope))


def build_elu(spec: LayerSpec, ctx: BuildContext) -> nn.Module:
    return nn.ELU(float(spec.config.get("alpha", 1.0)))


def build_softmax(spec: LayerSpec, ctx: BuildContext) -> nn.Module:
    axis = spec.config.get("axis", -1)
    axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
    return Softmax(int(axis))


# --- padding, cropping, pooling -------------------------------------------------------------

def _two_sided(value: Any, where: str, what: str) -> tuple[int, int, int, int]:
    """Keras ``((top, bottom), (left, right))`` / ``(h, w)`` / ``n`` ->
    (top, bottom, left, right)."""
    if isinstance(value, (int, float)):
        v = int(value)
        return v, v, v, v
    if isinstance(value, (list, tuple)) and len(value) == 2:
        a, b = value
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            return int(a), int(a), int(b), int(b)
        if all(isinstance(p, (list, tuple)) and len(p) == 2 for p in (a, b)):
            return int(a[0]), int(a[1]), int(b[0]), int(b[1])
    raise KerasFileError(f"{where}: cannot read {what} {value!r}")


class ZeroPad(nn.Module):
    def __init__(self, top: int, bottom: int, left: int, right: int):
        super().__init__()
        self.pads = (left, right, top, bottom)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, self.pads)

    def extra_repr(self) -> str:
        return f"(left, right, top, bottom)={self.pads}"


class Crop(nn.Module):
    def __init__(self, top: int, bottom: int, left: int, right: int):
        super().__init__()
        self.crop = (top, bottom, left, right)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom, left, right = self.crop
        return x[:, :, top:x.shape[2] - bottom, left:x.shape[3] - right]


def build_zero_padding(spec: LayerSpec, ctx: BuildContext) -> nn.Module:
    where = f"layer {spec.name!r} (ZeroPadding2D)"
    _check_channels_last(spec.config, where)
    return ZeroPad(*_two_sided(spec.config.get("padding", 1), where, "padding"))


def build_cropping(spec: LayerSpec, ctx: BuildContext) -> nn.Module:
    where = f"layer {spec.name!r} (Cropping2D)"
    _check_channels_last(spec.config, where)
    return Crop(*_two_sided(spec.config.get("cropping", 0), where, "cropping"))


class MaxPool(nn.Module):
    def __init__(self, kernel: tuple[int, int], stride: tuple[int, int], mode: str):
        super().__init__()
        self.kernel, self.stride = kernel, stride
        self.pad = SamePad(kernel, stride, value=-math.inf) if mode == "same" else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(self.pad(x), self.kernel, self.stride)


class AvgPool(nn.Module):
    """Average pooling; with ``same`` padding the mean is over the valid pixels only (TF)."""

    def __init__(self, kernel: tuple[int, int], stride: tuple[int, int], mode: str):
        super().__init__()
        self.kernel, self.stride = kernel, stride
        self.pad = SamePad(kernel, stride) if mode == "same" else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pad is None:
            return F.avg_pool2d(x, self.kernel, self.stride)
        ones = torch.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype, device=x.device)
        total = F.avg_pool2d(self.pad(x), self.kernel, self.stride)
        valid = F.avg_pool2d(self.pad(ones), self.kernel, self.stride)
        return total / valid


def _pool(spec: LayerSpec, kind: type[nn.Module]) -> nn.Module:
    where = f"layer {spec.name!r} ({spec.class_name})"
    cfg = spec.config
    _check_channels_last(cfg, where)
    kernel = _pair(cfg.get("pool_size", 2), where, "pool_size")
    stride = kernel if cfg.get("strides") is None else _pair(cfg["strides"], where, "strides")
    return kind(kernel, stride, _padding_mode(cfg, where))


class GlobalPool(nn.Module):
    def __init__(self, reduce: str, keepdims: bool):
        super().__init__()
        self.reduce, self.keepdims = reduce, keepdims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.reduce == "mean":
            return x.mean(dim=(2, 3), keepdim=self.keepdims)
        return x.amax(dim=(2, 3), keepdim=self.keepdims)

    def extra_repr(self) -> str:
        return f"{self.reduce}, keepdims={self.keepdims}"


def _global_pool(reduce: str) -> Callable[[LayerSpec, BuildContext], nn.Module]:
    def build(spec: LayerSpec, ctx: BuildContext) -> nn.Module:
        _check_channels_last(spec.config, f"layer {spec.name!r} ({spec.class_name})")
        return GlobalPool(reduce, bool(spec.config.get("keepdims", False)))
    return build


# --- shape ----------------------------------------------------------------------------------

class Flatten(nn.Module):
    """Flatten in Keras's (channels-last) element order."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _to_keras_order(x).reshape(x.shape[0], -1)


class Reshape(nn.Module):
    """Reshape in Keras's element order; a rank-4 result is stored NCHW again."""

    def __init__(self, target: tuple[int, ...]):
        super().__init__()
        self.target = target

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = _to_keras_order(x).reshape((x.shape[0],) + self.target)
        return _from_keras_order(y)

    def extra_repr(self) -> str:
        return f"target_shape={self.target}"


def build_flatten(spec: LayerSpec, ctx: BuildContext) -> nn.Module:
    _check_channels_last(spec.config, f"layer {spec.name!r} (Flatten)")
    return Flatten()


def build_reshape(spec: LayerSpec, ctx: BuildContext) -> nn.Module:
    target = spec.config.get("target_shape")
    if not isinstance(target, (list, tuple)):
        raise KerasFileError(f"layer {spec.name!r} (Reshape): target_shape {target!r}")
    return Reshape(tuple(int(-1 if d is None else d) for d in target))


class Rescale(nn.Module):
    """Keras Rescaling: ``x * scale + offset`` (scalars or per-channel lists)."""

    def __init__(self, scale: Any, offset: Any):
        super().__init__()
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))
        self.register_buffer("offset", torch.as_tensor(offset, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale, offset = self.scale, self.offset
        if x.ndim == 4:
            scale = scale.reshape(1, -1, 1, 1) if scale.ndim else scale
            offset = offset.reshape(1, -1, 1, 1) if offset.ndim else offset
        return x * scale + offset


def build_rescaling(spec: LayerSpec, ctx: BuildContext) -> nn.Module:
    return Rescale(spec.config.get("scale", 1.0), spec.config.get("offset", 0.0))


def build_dropout(spec: LayerSpec, ctx: BuildContext) -> nn.Module:
    return nn.Dropout(float(spec.config.get("rate", 0.0)))


def build_spatial_dropout(spec: LayerSpec, ctx: BuildContext) -> nn.Module:
    return nn.Dropout2d(float(spec.config.get("rate", 0.0)))


def build_identity(spec: LayerSpec, ctx: BuildContext) -> nn.Module:
    """Layers that do nothing at inference (noise and regularisers that act in training only;
    the port does not add their training-time noise)."""
    return nn.Identity()


# --- merging --------------------------------------------------------------------------------

class Merge(nn.Module):
    """Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate: a list of tensors in."""

    def __init__(self, op: str, axis: int = -1):
        super().__init__()
        self.op, self.axis = op, axis

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        if self.op == "concatenate":
            return torch.cat(xs, dim=_torch_dim(self.axis, xs[0].ndim))
        if self.op == "subtract":
            return xs[0] - xs[1]
        out = xs[0]
        for x in xs[1:]:
            if self.op in ("add", "average"):
                out = out + x
            elif self.op == "multiply":
                out = out * x
            elif self.op == "maximum":
                out = torch.maximum(out, x)
            elif self.op == "minimum":
                out = torch.minimum(out, x)
        return out / len(xs) if self.op == "average" else out

    def extra_repr(self) -> str:
        return self.op + (f", axis={self.axis}" if self.op == "concatenate" else "")


def _merge(op: str) -> Callable[[LayerSpec, BuildContext], nn.Module]:
    def build(spec: LayerSpec, ctx: BuildContext) -> nn.Module:
        if op == "subtract" and any(len(n) != 2 for n in spec.nodes):
            raise KerasFileError(f"layer {spec.name!r} (Subtract): needs exactly 2 inputs")
        return Merge(op, int(spec.config.get("axis", -1)) if op == "concatenate" else -1)
    return build


#: The whitelist: Keras class name -> builder. Anything else is refused by the reader.
LAYER_BUILDERS: dict[str, Callable[[LayerSpec, BuildContext], nn.Module]] = {
    "Conv2D": build_conv2d,
    "DepthwiseConv2D": build_depthwise_conv2d,
    "SeparableConv2D": build_separable_conv2d,
    "SeparableConvolution2D": build_separable_conv2d,
    "Dense": build_dense,
    "BatchNormalization": build_batch_norm,
    "Activation": build_activation,
    "ReLU": build_relu,
    "LeakyReLU": build_leaky_relu,
    "ELU": build_elu,
    "Softmax": build_softmax,
    "ZeroPadding2D": build_zero_padding,
    "Cropping2D": build_cropping,
    "MaxPooling2D": lambda s, c: _pool(s, MaxPool),
    "MaxPool2D": lambda s, c: _pool(s, MaxPool),
    "AveragePooling2D": lambda s, c: _pool(s, AvgPool),
    "AvgPool2D": lambda s, c: _pool(s, AvgPool),
    "GlobalAveragePooling2D": _global_pool("mean"),
    "GlobalAvgPool2D": _global_pool("mean"),
    "GlobalMaxPooling2D": _global_pool("max"),
    "GlobalMaxPool2D": _global_pool("max"),
    "Flatten": build_flatten,
    "Reshape": build_reshape,
    "Rescaling": build_rescaling,
    "Dropout": build_dropout,
    "SpatialDropout2D": build_spatial_dropout,
    "GaussianNoise": build_identity,
    "GaussianDropout": build_identity,
    "AlphaDropout": build_identity,
    "ActivityRegularization": build_identity,
    "Add": _merge("add"),
    "Subtract": _merge("subtract"),
    "Multiply": _merge("multiply"),
    "Average": _merge("average"),
    "Maximum": _merge("maximum"),
    "Minimum": _merge("minimum"),
    "Concatenate": _merge("concatenate"),
}
#: Layer types whose module takes the list of all its inputs.
MERGE_LAYERS: frozenset[str] = frozenset(
    {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"})
#: The graph's entry point; it has no module.
INPUT_LAYER = "InputLayer"
#: Everything the reader may accept.
SUPPORTED_LAYERS: frozenset[str] = frozenset(LAYER_BUILDERS) | {INPUT_LAYER}


def build_layer(spec: LayerSpec, ctx: BuildContext) -> nn.Module:
    """The torch module for one whitelisted layer (weights copied in, eval-ready)."""
    try:
        builder = LAYER_BUILDERS[spec.class_name]
    except KeyError:
        raise KerasFileError(f"layer {spec.name!r}: type {spec.class_name!r} is not in the "
                             "whitelist") from None
    return builder(spec, ctx)


__all__ = ["ACTIVATIONS", "BuildContext", "INPUT_LAYER", "LAYER_BUILDERS", "MERGE_LAYERS",
           "SUPPORTED_LAYERS", "SamePad", "activation_module", "build_layer", "same_padding"]

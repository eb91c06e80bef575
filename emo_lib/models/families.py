"""Networks built from torchvision's classes at other sizes than torchvision's own, for CPU runs
of paper 2 (the paper profile uses torchvision's EfficientNet-B0..B5, VGG-16 and ResNet-50):

- a **compound-scaled MobileNetV3-Small** family, ``mobilenet_v3_small_s<phi>``: Tan & Le's
  compound scaling (the rule that makes EfficientNet-B1..B7 from B0) applied to
  MobileNetV3-Small, which is ``phi = 0``: depth (blocks per stage) x ``alpha**phi``, width
  (channels) x ``beta**phi``, input resolution x ``gamma**phi``, with EfficientNet's
  alpha = 1.2, beta = 1.1, gamma = 1.15. Depth rounds up per stage (as EfficientNet's
  ``ceil(n * depth_mult)``), each added block repeating the stage's last block at stride 1;
  widths round as torchvision's ``width_mult`` does (multiples of 8). Fig. 5's family on the
  CPU: the same architecture grown along all three axes together, as B0 grows to B5.
- a **narrow ResNet-18**, ``resnet18_narrow``: ResNet-18's layout (BasicBlocks 2-2-2-2, stem,
  pooling) at a quarter of its width (16-32-64-128 channels, 1/16 of the multiply-adds): the
  dense-convolution residual network in ResNet-50's role, small enough to pretrain and
  fine-tune on a CPU.

:func:`build` returns the random-initialised module of any backbone name (these or
torchvision's), :func:`input_size_for` the input side a model of the family takes for a page's
image side (resolution is one of the scaled axes).
"""
from __future__ import annotations

import copy
import math

import torch.nn as nn
import torchvision
from torchvision.models import mobilenetv3
from torchvision.models.resnet import BasicBlock, ResNet

#: EfficientNet's compound-scaling coefficients (Tan & Le 2019): depth, width, resolution.
ALPHA, BETA, GAMMA = 1.2, 1.1, 1.15
#: The scaled MobileNetV3-Small family: name -> phi (``mobilenet_v3_small`` itself is phi 0).
SCALED: dict[str, int] = {"mobilenet_v3_small": 0, "mobilenet_v3_small_s1": 1,
                          "mobilenet_v3_small_s2": 2}
#: Narrow ResNets: name -> base width (torchvision's ResNet-18: 64).
NARROW: dict[str, int] = {"resnet18_narrow": 16}
#: The names this module builds (``mobilenet_v3_small`` is torchvision's).
CUSTOM_NAMES: tuple[str, ...] = (*(n for n, phi in SCALED.items() if phi), *NARROW)


def compound(phi: int) -> dict[str, float]:
    """Depth, width and resolution multipliers of ``phi`` (``alpha**phi`` ...)."""
    return {"depth": ALPHA ** phi, "width": BETA ** phi, "resolution": GAMMA ** phi}


def scaled_mobilenet_v3_small(phi: int, num_classes: int = 1000) -> nn.Module:
    """MobileNetV3-Small compound-scaled by ``phi`` (module docstring); phi 0 is torchvision's
    ``mobilenet_v3_small`` layer for layer."""
    m = compound(phi)
    setting, last_channel = mobilenetv3._mobilenet_v3_conf("mobilenet_v3_small",
                                                           width_mult=m["width"])
    stages: list[list] = []
    for cfg in setting:   # a stage: consecutive blocks with the same output channels
        if stages and stages[-1][-1].out_channels == cfg.out_channels:
            stages[-1].append(cfg)
        else:
            stages.append([cfg])
    blocks = []
    for stage in stages:
        extra = math.ceil(len(stage) * m["depth"]) - len(stage)
        blocks.extend(stage)
        for _ in range(extra):
            more = copy.copy(stage[-1])
            more.input_channels, more.stride = stage[-1].out_channels, 1
            blocks.append(more)
    return mobilenetv3.MobileNetV3(blocks, last_channel, num_classes=num_classes)


class NarrowResNet(ResNet):
    """torchvision's ResNet with BasicBlocks at base width ``width`` (64: ResNet-18/34's)."""

    def __init__(self, width: int, layers: tuple[int, ...] = (2, 2, 2, 2),
                 num_classes: int = 1000) -> None:
        nn.Module.__init__(self)   # ResNet.__init__ fixes the widths at 64..512
        self._norm_layer = nn.BatchNorm2d
        self.inplanes, self.dilation, self.groups, self.base_width = width, 1, 1, 64
        self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(BasicBlock, width, layers[0])
        self.layer2 = self._make_layer(BasicBlock, 2 * width, layers[1], stride=2)
        self.layer3 = self._make_layer(BasicBlock, 4 * width, layers[2], stride=2)
        self.layer4 = self._make_layer(BasicBlock, 8 * width, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8 * width, num_classes)
        for mod in self.modules():   # torchvision's ResNet initialisation
            if isinstance(mod, nn.Conv2d):
                nn.init.kaiming_normal_(mod.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(mod, nn.BatchNorm2d):
                nn.init.constant_(mod.weight, 1)
                nn.init.constant_(mod.bias, 0)


def build(arch: str) -> nn.Module:
    """``arch``'s module with random weights (ImageNet's 1000-way head): one of
    :data:`CUSTOM_NAMES` or a torchvision model name."""
    if arch in SCALED and SCALED[arch]:
        return scaled_mobilenet_v3_small(SCALED[arch])
    if arch in NARROW:
        return NarrowResNet(NARROW[arch])
    return torchvision.models.get_model(arch, weights=None)


def describe(arch: str) -> str:
    """How :func:`build` makes ``arch`` (part of the pretraining recipe)."""
    if arch in SCALED and SCALED[arch]:
        m = compound(SCALED[arch])
        return (f"mobilenet_v3_small compound-scaled, phi={SCALED[arch]} (depth x"
                f"{m['depth']:.4g}, width x{m['width']:.4g}, resolution x"
                f"{m['resolution']:.4g})")
    if arch in NARROW:
        return f"ResNet-18 layout (BasicBlock 2-2-2-2) at base width {NARROW[arch]}"
    return f"torchvision.models.{arch}(weights=None)"


def input_size_for(arch: str, image_size: int) -> int:
    """The input side ``arch`` takes for a page's ``image_size``: scaled by ``gamma**phi`` in
    the compound-scaled family (the images are resized up to it), else ``image_size``."""
    phi = SCALED.get(arch, 0)
    return int(round(image_size * GAMMA ** phi)) if phi else int(image_size)


__all__ = ["ALPHA", "BETA", "CUSTOM_NAMES", "GAMMA", "NARROW", "NarrowResNet", "SCALED",
           "build", "compound", "describe", "input_size_for", "scaled_mobilenet_v3_small"]

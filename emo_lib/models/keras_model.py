"""A Keras HDF5 model file as a :class:`TorchClassifier`: ``load_model("keras:<path>", ...)``.

What it holds: :class:`KerasGraph` (the file's layer graph as one ``torch.nn.Module``: NCHW
image batch in, logits out), :func:`build_graph`, :func:`load_keras` and the ``keras:``
registry entry. What it does not do: read HDF5 (``keras_h5``: config and weights as data, the
whitelist check) or define layers (``keras_layers``).

The module takes what every ``TorchClassifier`` module takes, a normalised float NCHW batch
with 3 channels (RGB), and adapts it to the file's input: ``color="rgb"`` passes it on,
``"bgr"`` reverses the channels (models trained on OpenCV's BGR order), ``"gray"`` converts to
one luminance channel ``0.299 R + 0.587 G + 0.114 B`` (OpenCV's ``COLOR_BGR2GRAY`` weights) for
one-channel models. Because those weights sum to 1, converting after normalisation equals
converting before it when the three channels share one mean and std, so gray models require
that. The output is the model's output with a final softmax removed (logits, which is what
``TorchClassifier`` expects: it applies the softmax itself), its rows reordered to ``classes``.
"""
from __future__ import annotations

import collections
import hashlib
import re
from pathlib import Path
from typing import Any, Sequence

import torch
import torch.nn as nn

from ..data.manifest import EMOTIONS_8, LABEL_ALIASES
from ..device import resolve_device
from ..classifier import IMAGENET_MEAN, IMAGENET_STD, TorchClassifier
from ..validation import check_choice
from . import register_model
from .keras_h5 import KerasFileError, KerasModelFile, TensorRef, read_keras_h5
from .keras_layers import (INPUT_LAYER, MERGE_LAYERS, SUPPORTED_LAYERS, Activation,
                           BuildContext, KerasReLU, Softmax, build_layer)

#: Input conventions by name -> (mean, std) for ``TorchClassifier`` (pixels are first /255).
PREPROCESSING: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "unit": ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),             # [0, 1]
    "symmetric": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),        # [-1, 1] (Keras MobileNet 'tf')
    "raw": ((0.0, 0.0, 0.0), (1 / 255, 1 / 255, 1 / 255)),  # [0, 255]
    "imagenet": (IMAGENET_MEAN, IMAGENET_STD),              # torchvision's
    # 0..255 minus the VGG/Caffe means 103.939, 116.779, 123.68, subtracted from channels 0, 1,
    # 2 of the array as given (Keras's 'caffe' mode first flips RGB to BGR: use color="bgr").
    "caffe": ((103.939 / 255, 116.779 / 255, 123.68 / 255), (1 / 255, 1 / 255, 1 / 255)),
}
COLORS: tuple[str, ...] = ("rgb", "bgr", "gray")
#: Luminance weights of OpenCV's COLOR_BGR2GRAY / COLOR_RGB2GRAY (ITU-R BT.601).
GRAY_WEIGHTS: tuple[float, float, float] = (0.299, 0.587, 0.114)


def _key(ref: TensorRef) -> str:
    return f"{ref.layer}|{ref.node}|{ref.index}"


class ColorAdapter(nn.Module):
    """RGB NCHW in -> the channels the file's first layer expects."""

    def __init__(self, color: str):
        super().__init__()
        self.color = check_choice("color", color, COLORS)
        self.register_buffer("gray", torch.tensor(GRAY_WEIGHTS).view(1, 3, 1, 1),
                             persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.color == "bgr":
            return x.flip(1)
        if self.color == "gray":
            return (x * self.gray.to(x.dtype)).sum(dim=1, keepdim=True)
        return x

    def extra_repr(self) -> str:
        return self.color


class KerasGraph(nn.Module):
    """The layer graph of a Keras file: a normalised RGB NCHW batch in, logits out.

    Attributes:
        layers: one module per Keras layer (``ModuleDict`` keyed by sanitised layer names).
        steps: the calls in execution order: (output key, layer key, input keys, merge?).
        input_key, output_key: the graph's entry and exit tensors.
        rows: output rows kept and their order (None: all, as in the file).
    """

    def __init__(self, adapter: ColorAdapter, layers: nn.ModuleDict,
                 steps: list[tuple[str, str, tuple[str, ...], bool]], input_key: str,
                 output_key: str, rows: Sequence[int] | None = None):
        super().__init__()
        self.adapter, self.layers, self.steps = adapter, layers, steps
        self.input_key, self.output_key = input_key, output_key
        self.rows = None if rows is None else list(rows)
        # Free each intermediate tensor after its last use (MobileNet-sized graphs at 224 px).
        last_use: dict[str, int] = {}
        for i, (_, _, inputs, _) in enumerate(steps):
            for k in inputs:
                last_use[k] = i
        self._release = [[k for k in inputs if last_use[k] == i and k != output_key]
                         for i, (_, _, inputs, _) in enumerate(steps)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values = {self.input_key: self.adapter(x)}
        for (out, layer, inputs, merge), release in zip(self.steps, self._release):
            module = self.layers[layer]
            values[out] = (module([values[k] for k in inputs]) if merge
                           else module(values[inputs[0]]))
            for k in release:
                values.pop(k, None)
        y = values[self.output_key]
        return y if self.rows is None else y[:, self.rows]


def _sanitise(names: Sequence[str]) -> dict[str, str]:
    """Keras layer names -> unique ModuleDict keys (no dots)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        key = re.sub(r"[^0-9A-Za-z_]", "_", name) or "layer"
        if key[0].isdigit():
            key = f"l_{key}"
        base, i = key, 1
        while key in used:
            i += 1
            key = f"{base}_{i}"
        used.add(key)
        out[name] = key
    return out


def _schedule(model: KerasModelFile, output: TensorRef) -> list[tuple[TensorRef, list[TensorRef]]]:
    """The calls needed for ``output``, dependencies first: [(output ref, input refs)]."""
    producers: dict[TensorRef, list[TensorRef]] = {}
    for spec in model.layers:
        for k, inputs in enumerate(spec.nodes):
            producers[TensorRef(spec.name, k, 0)] = inputs
    order: list[tuple[TensorRef, list[TensorRef]]] = []
    state: dict[TensorRef, str] = {}
    stack: list[tuple[TensorRef, bool]] = [(output, False)]
    while stack:  # iterative depth-first post-order (graphs can be deep)
        ref, expanded = stack.pop()
        if expanded:
            state[ref] = "done"
            order.append((ref, producers[ref]))
            continue
        if state.get(ref) == "done":
            continue
        if state.get(ref) == "open":
            raise KerasFileError(f"{model.path}: the graph has a cycle through {ref}")
        if ref not in producers:
            if model.layer(ref.layer).class_name == INPUT_LAYER:
                state[ref] = "done"
                continue
            raise KerasFileError(f"{model.path}: tensor {ref} is used but no layer call "
                                 "produces it")
        if ref.index != 0:
            raise KerasFileError(f"{model.path}: tensor {ref}: layers with several outputs "
                                 "are not supported")
        state[ref] = "open"
        stack.append((ref, True))
        for dep in reversed(producers[ref]):
            if state.get(dep) != "done":
                stack.append((dep, False))
    return order


def _final_activation(module: nn.Module) -> tuple[str, nn.Module | None]:
    """(name, owner) of the activation the output layer ends with: 'linear', 'softmax' or
    another name; owner is the module holding it in ``.activation`` (None: it is the layer)."""
    act = getattr(module, "activation", module)
    owner = module if hasattr(module, "activation") else None
    if isinstance(act, nn.Identity) or (owner is None and not isinstance(
            act, (Activation, Softmax, KerasReLU, nn.LeakyReLU, nn.ELU))):
        return "linear", owner
    if isinstance(act, Softmax):
        return ("softmax" if act.axis == -1 else f"softmax(axis={act.axis})"), owner
    if isinstance(act, Activation):
        return act.name, owner
    return type(act).__name__, owner


def build_graph(model: KerasModelFile, *, color: str | None = None, output: str | None = None,
                rows: Sequence[int] | None = None, logits: bool = True,
                ) -> tuple[KerasGraph, dict[str, Any]]:
    """Build the torch module for ``model``; return it and facts about it for ``info``.

    Args:
        color: ``"rgb"``, ``"bgr"`` or ``"gray"``; default from the input's channels (1: gray,
            3: rgb).
        output: the layer whose output is the classifier's (default: the model's one output).
        rows: output rows to keep, in order (default all).
        logits: make the output logits (a final softmax is removed; any other final
            activation is an error); False returns the layer's output as Keras computes it
            (features of an inner layer, or a check against Keras).

    Every layer is built before an error is raised, so one error lists every layer that could
    not be built and why.
    """
    where = str(model.path)
    if output is not None:
        try:
            spec = model.layer(output)
        except KeyError:
            raise ValueError(f"{where}: no layer named {output!r}; layers: "
                             f"{[s.name for s in model.layers][-10:]} (last 10)") from None
        if len(spec.nodes) != 1:
            raise ValueError(f"{where}: layer {output!r} is called {len(spec.nodes)} times")
        out_ref = TensorRef(output, 0, 0)
    else:
        if len(model.outputs) != 1:
            raise ValueError(f"{where}: the model has {len(model.outputs)} outputs "
                             f"({[str(o) for o in model.outputs]}); choose one with output=")
        out_ref = model.outputs[0]
    plan = _schedule(model, out_ref)
    used_inputs = {i for _, ins in plan for i in ins
                   if model.layer(i.layer).class_name == INPUT_LAYER}
    if not plan:
        raise KerasFileError(f"{where}: output {out_ref} is an input: nothing to compute")
    if len(used_inputs) != 1:
        raise ValueError(f"{where}: the output depends on {len(used_inputs)} inputs "
                         f"({sorted(str(i) for i in used_inputs)}); an image classifier needs "
                         "exactly one")
    input_ref = next(iter(used_inputs))
    shape = model.input_shapes.get(input_ref.layer)
    if shape is not None and len(shape) != 4:
        raise ValueError(f"{where}: input {input_ref.layer!r} has shape {shape}; an image "
                         "model takes (batch, height, width, channels)")
    channels = shape[-1] if shape else None
    color = color or ("gray" if channels == 1 else "rgb")
    expected = 1 if color == "gray" else 3
    if channels is not None and channels != expected:
        raise ValueError(f"{where}: color={color!r} feeds {expected} channel(s) but the input "
                         f"takes {channels}")

    ctx = BuildContext(keras_major=3 if model.layout == "keras3" else 2)
    needed = list(dict.fromkeys(ref.layer for ref, _ in plan))
    keys = _sanitise(needed)
    modules: dict[str, nn.Module] = {}
    problems: list[str] = []
    for name in needed:
        spec = model.layer(name)
        try:
            modules[keys[name]] = build_layer(spec, ctx)
        except KerasFileError as err:
            problems.append(str(err))
    if problems:
        raise KerasFileError(f"{where}: {len(problems)} layer(s) could not be built:\n  "
                             + "\n  ".join(problems))

    # Logits out: drop a softmax the output layer ends with (TorchClassifier applies one).
    out_key = keys[out_ref.layer]
    activation, owner = _final_activation(modules[out_key])
    consumers = sum(1 for _, ins in plan for i in ins if i.layer == out_ref.layer)
    if not logits:
        output_note = f"as in the file (ends in {activation})"
    elif activation == "softmax":
        if consumers or len(model.layer(out_ref.layer).nodes) != 1:
            raise KerasFileError(f"{where}: the output layer {out_ref.layer!r} ends in a softmax "
                                 "but is also used elsewhere, so its logits cannot be exposed")
        if owner is None:
            modules[out_key] = nn.Identity()
        else:
            owner.activation = nn.Identity()
        output_note = "logits: the file's final softmax is removed (TorchClassifier applies it)"
    elif activation == "linear":
        output_note = "logits: the file's output has no activation"
    else:
        raise KerasFileError(f"{where}: the output layer {out_ref.layer!r} ends in "
                             f"{activation!r}; a TorchClassifier needs logits (a linear output "
                             "or a softmax to remove)")

    steps = [(_key(ref), keys[ref.layer], tuple(_key(i) for i in ins),
              model.layer(ref.layer).class_name in MERGE_LAYERS) for ref, ins in plan]
    graph = KerasGraph(ColorAdapter(color), nn.ModuleDict(modules), steps, _key(input_ref),
                       _key(out_ref), rows)
    graph.eval()
    types = collections.Counter(model.layer(n).class_name for n in needed)
    facts = {
        "keras_version": model.keras_version, "keras_backend": model.backend,
        "layout": model.layout, "model_class": model.model_class, "model_name": model.name,
        "input_layer": input_ref.layer, "input_shape": list(shape) if shape else None,
        "output_layer": out_ref.layer, "output": output_note, "color": color,
        "layers_used": len(needed), "layers_in_file": len(model.layers),
        "layer_types": dict(sorted(types.items())),
        "parameters": sum(p.numel() for p in graph.parameters()),
    }
    return graph, facts


def canonical_classes(classes: Sequence[str]) -> tuple[tuple[str, ...], list[int]] | None:
    """If every name is an emotion (``LABEL_ALIASES``), the canonical names in the project's
    order (``EMOTIONS_8``) and, for each, its row in ``classes``; else None."""
    names = [LABEL_ALIASES.get(str(c).strip().lower()) for c in classes]
    if any(n is None for n in names) or len(set(names)) != len(names):
        return None
    order = [c for c in EMOTIONS_8 if c in names]
    return tuple(order), [names.index(c) for c in order]


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def load_keras(
    path: str | Path,
    *,
    classes: Sequence[str],
    input_size: int | None = None,
    preprocessing: str = "unit",
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    color: str | None = None,
    output: str | None = None,
    canonical: bool = True,
    device: str = "cpu",
    batch_size: int = 64,
    info: dict[str, Any] | None = None,
) -> TorchClassifier:
    """Load a Keras HDF5 model file as a :class:`TorchClassifier` (module docstring).

    Args:
        path: the ``.h5`` / ``.hdf5`` file (Keras 2 or Keras 3 legacy layout).
        classes: names of the model's outputs, in the file's order.
        input_size: square input side; default the file's input size, else 224.
        preprocessing: a name from :data:`PREPROCESSING` (default ``"unit"``: pixels in [0, 1]).
        mean, std: per-channel normalisation after ``/255``, overriding ``preprocessing``.
        color: ``"rgb"``, ``"bgr"`` or ``"gray"`` (default from the input's channel count).
        output: the layer to read the classes from (default the model's output).
        canonical: when every class is an emotion name, rename them to the canonical names and
            reorder the outputs to the project's order (``EMOTIONS_8``); False keeps the file's.
        device, batch_size: as for every ``TorchClassifier``.
        info: extra provenance merged into ``info``.
    """
    classes = tuple(str(c) for c in classes)
    if not classes:
        raise ValueError("classes is empty: give the names of the model's outputs in the file's "
                         "order, e.g. classes=['angry', 'disgust', ...]")
    p_mean, p_std = PREPROCESSING[check_choice("preprocessing", preprocessing,
                                               sorted(PREPROCESSING))]
    mean = tuple(float(v) for v in (mean if mean is not None else p_mean))
    std = tuple(float(v) for v in (std if std is not None else p_std))
    if len(mean) != 3 or len(std) != 3:
        raise ValueError(f"mean and std need 3 values (R, G, B), got {mean} and {std}")

    model = read_keras_h5(path, SUPPORTED_LAYERS)
    target, rows = classes, None
    if canonical and (mapped := canonical_classes(classes)) is not None:
        target, rows = mapped
    graph, facts = build_graph(model, color=color, output=output)
    if facts["color"] == "gray" and (len(set(mean)) != 1 or len(set(std)) != 1):
        raise ValueError(f"a gray model needs one mean and std for all channels, got mean "
                         f"{mean}, std {std}")
    shape = facts["input_shape"]
    if input_size is None:
        h, w = (shape[1], shape[2]) if shape else (None, None)
        if h is not None and w is not None and h != w:
            raise ValueError(f"{path}: input {h}x{w} is not square; pass input_size")
        input_size = int(h) if h else 224
    try:
        with torch.inference_mode():  # a dry run: shapes fit, and the number of outputs
            probe = graph(torch.zeros(1, 3, input_size, input_size))
    except RuntimeError as err:
        raise ValueError(f"{path}: a dry run at {input_size} x {input_size} px failed ({err}); "
                         f"the file's input is {shape}: is input_size right?") from None
    if probe.ndim != 2:
        raise ValueError(f"{path}: output {facts['output_layer']!r} has shape "
                         f"{tuple(probe.shape)}; a classifier needs (batch, classes)")
    if probe.shape[1] != len(classes):
        raise ValueError(f"{path}: the model has {probe.shape[1]} outputs but {len(classes)} "
                         f"classes were given ({list(classes)})")
    graph.rows = rows
    record = {
        "source": "keras", "path": str(Path(path)), "sha256": sha256_file(path),
        **facts, "classes_in_file": list(classes), "classes": list(target),
        "head_rows": rows if rows is not None else list(range(len(classes))),
        "mean": list(mean), "std": list(std), "input_size": input_size,
        "loader": "Keras HDF5 read with h5py as data; whitelisted layers rebuilt in torch; no "
                  "code from the file runs",
    }
    record.update(info or {})
    return TorchClassifier(module=graph, classes=tuple(target), input_size=int(input_size),
                           mean=mean, std=std, device=resolve_device(device),
                           batch_size=batch_size, info=record)


@register_model("keras:")
def _keras(path: str, **options: Any) -> TorchClassifier:
    if "classes" not in options:
        raise ValueError(f"keras:{path} needs classes=[...] (the model's output names in the "
                         "file's order)")
    return load_keras(path, **options)


__all__ = ["COLORS", "GRAY_WEIGHTS", "KerasGraph", "PREPROCESSING", "build_graph",
           "canonical_classes", "load_keras", "sha256_file"]

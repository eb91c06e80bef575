"""Keras HDF5 model files (``.h5``/``.hdf5``) read as data with h5py: the graph and the weights.

What it holds: :func:`read_keras_h5`, which returns a :class:`KerasModelFile` (layers with their
JSON configs, the call graph as tensor references, the model's inputs and outputs, and every
layer's weights as numpy arrays), and the error types that name what a file lacks.

What it does not do: build anything runnable (``keras_layers`` turns a layer into a torch module,
``keras_model`` wires the graph and makes a ``TorchClassifier``), import TensorFlow or Keras,
unpickle, or evaluate anything from the file. The file's JSON ``model_config`` is parsed with
``json.loads`` and only literal numbers, strings and lists are read from it; names of modules,
functions or custom objects in it are never imported. Layers whose type is not in the caller's
whitelist are refused *before any weight is read*, all of them listed in one error, and a
``Lambda`` / ``TFOpLambda`` layer (which stores marshalled Python bytecode or a TensorFlow
function name) is called out as code that this reader never runs.

Both layouts are read:

* **Keras 2** (standalone Keras 2.x and ``tf.keras`` 2.x): root attributes ``keras_version``,
  ``backend``, ``model_config`` (class ``Model``, ``Functional`` or ``Sequential``); inbound nodes
  as lists ``[layer, node_index, tensor_index, kwargs]``; weights under
  ``model_weights/<layer>/`` listed by the attribute ``weight_names`` (e.g.
  ``conv2d_1_1/kernel:0``; attributes over 64 KB are split as ``weight_names0``, ``1``...).
* **Keras 3 legacy HDF5** (``model.save("x.h5")``): the same groups; inbound nodes as
  ``{"args": [...], "kwargs": {...}}`` with ``__keras_tensor__`` entries whose ``keras_history``
  is ``[layer, node_index, tensor_index]``; weight names without ``:0`` (``c1/kernel``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Collection, Iterable

import numpy as np

#: Layer types that carry code rather than data; refused with an explanation.
CODE_LAYERS: dict[str, str] = {
    "Lambda": "it stores a Python function as marshalled bytecode (config 'function')",
    "TFOpLambda": "it names a TensorFlow function to call (config 'function')",
    "SlicingOpLambda": "it names a TensorFlow slicing function to call",
    "TFLambda": "it stores a TensorFlow function",
}
#: Container types: a model used as a layer of another one.
NESTED_MODELS: frozenset[str] = frozenset({"Model", "Functional", "Sequential"})
#: Call arguments that may appear in a node besides its input tensors (ignored when None/bool).
IGNORED_CALL_KWARGS: frozenset[str] = frozenset({"training", "mask"})


class KerasFileError(ValueError):
    """The file is not a Keras HDF5 model this reader can use (the message says why)."""


class UnsupportedLayerError(KerasFileError):
    """The model contains layer types outside the whitelist (all of them are named)."""

    def __init__(self, message: str, layers: dict[str, list[str]]):
        super().__init__(message)
        self.layers = layers  # layer type -> names of the layers of that type


@dataclass(frozen=True)
class TensorRef:
    """Output ``index`` of call ``node`` of layer ``layer`` (Keras's ``keras_history``)."""

    layer: str
    node: int = 0
    index: int = 0

    def __str__(self) -> str:
        return f"{self.layer}[{self.node}][{self.index}]"


@dataclass
class LayerSpec:
    """One layer: its type, JSON config and, per call (node), the tensors it was called on."""

    name: str
    class_name: str
    config: dict[str, Any]
    nodes: list[list[TensorRef]] = field(default_factory=list)
    weights: dict[str, np.ndarray] = field(default_factory=dict)  # 'kernel', 'bias', 'gamma'...
    origin: dict[str, Any] = field(default_factory=dict)  # entry's 'module', 'registered_name'


@dataclass
class KerasModelFile:
    """What a Keras HDF5 model file says, as plain data."""

    path: Path
    keras_version: str
    backend: str
    model_class: str                  # "Functional", "Model" or "Sequential"
    name: str
    layers: list[LayerSpec]
    inputs: list[TensorRef]
    outputs: list[TensorRef]
    input_shapes: dict[str, tuple[int | None, ...]]  # input layer -> batch shape

    @property
    def layout(self) -> str:
        """``"keras3"`` or ``"keras2"`` (from the ``keras_version`` attribute)."""
        major = self.keras_version.split(".")[0]
        return "keras3" if major.isdigit() and int(major) >= 3 else "keras2"

    def layer(self, name: str) -> LayerSpec:
        for spec in self.layers:
            if spec.name == name:
                return spec
        raise KeyError(name)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value.item())
    return str(value)


def _attribute(node: Any, name: str) -> Any:
    """An HDF5 attribute, joining Keras's ``name0``, ``name1``... chunks of large attributes."""
    if name in node.attrs:
        return node.attrs[name]
    chunks, i = [], 0
    while f"{name}{i}" in node.attrs:
        chunks.extend(np.asarray(node.attrs[f"{name}{i}"]).tolist())
        i += 1
    return np.asarray(chunks) if i else None


def _string_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [_text(v) for v in np.asarray(value).reshape(-1).tolist()]


def _ref(entry: Any, where: str) -> TensorRef:
    if isinstance(entry, dict) and entry.get("class_name") == "__keras_tensor__":
        entry = entry.get("config", {}).get("keras_history")
    if isinstance(entry, (list, tuple)) and len(entry) >= 3 and isinstance(entry[0], str):
        return TensorRef(entry[0], int(entry[1]), int(entry[2]))
    raise KerasFileError(f"{where}: cannot read a tensor reference from {entry!r}")


def _check_kwargs(kwargs: Any, where: str) -> None:
    if not kwargs:
        return
    if not isinstance(kwargs, dict):
        raise KerasFileError(f"{where}: call arguments {kwargs!r} are not a dict")
    other = {k: v for k, v in kwargs.items()
             if not (k in IGNORED_CALL_KWARGS and (v is None or isinstance(v, bool)))}
    if other:
        raise KerasFileError(f"{where}: called with arguments {sorted(other)} this reader does "
                             f"not support (only {sorted(IGNORED_CALL_KWARGS)} as None/bool)")


def _parse_node(node: Any, where: str) -> list[TensorRef]:
    """The input tensors of one call, in order, from either layout."""
    if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
        refs: list[TensorRef] = []
        for arg in node.get("args", []):
            items = arg if isinstance(arg, list) else [arg]
            for item in items:
                if item is None:
                    continue
                refs.append(_ref(item, where))
        _check_kwargs(node.get("kwargs"), where)
        return refs
    if isinstance(node, list):  # Keras 2: [[layer, node, tensor, kwargs], ...]
        refs = []
        for entry in node:
            refs.append(_ref(entry, where))
            if isinstance(entry, list) and len(entry) > 3:
                _check_kwargs(entry[3], where)
        return refs
    raise KerasFileError(f"{where}: unreadable inbound node {node!r}")


def _refs(value: Any, where: str) -> list[TensorRef]:
    """``input_layers`` / ``output_layers``: one ``[name, node, index]`` or a list of them."""
    if isinstance(value, list) and value and isinstance(value[0], str):
        return [_ref(value, where)]
    return [_ref(v, where) for v in (value or [])]


def _batch_shape(config: dict[str, Any]) -> tuple[int | None, ...] | None:
    for key in ("batch_shape", "batch_input_shape"):
        if config.get(key) is not None:
            return tuple(None if d is None else int(d) for d in config[key])
    return None


def _origin(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: entry[k] for k in ("module", "registered_name") if entry.get(k) is not None}


def _sequential(config: Any, where: str) -> tuple[list[LayerSpec], list[TensorRef],
                                                  list[TensorRef], dict[str, tuple]]:
    """A Sequential model as a chain (an InputLayer is made up when the file has none)."""
    entries = config if isinstance(config, list) else config.get("layers", [])
    layers: list[LayerSpec] = []
    shapes: dict[str, tuple] = {}
    for i, entry in enumerate(entries):
        cfg = entry.get("config", {})
        name = cfg.get("name") or entry.get("name") or f"layer_{i}"
        layers.append(LayerSpec(name, entry.get("class_name", "?"), cfg, origin=_origin(entry)))
    if not layers:
        raise KerasFileError(f"{where}: a Sequential model without layers")
    if layers[0].class_name != "InputLayer":
        shape = _batch_shape(layers[0].config)
        if shape is None and isinstance(config, dict):
            build = config.get("build_input_shape") or (config.get("build_config") or {}).get(
                "input_shape")
            shape = tuple(build) if build else None
        layers.insert(0, LayerSpec("input", "InputLayer",
                                   {"batch_shape": list(shape) if shape else None}))
    previous = TensorRef(layers[0].name)
    for spec in layers[1:]:
        spec.nodes = [[previous]]
        previous = TensorRef(spec.name)
    shape = _batch_shape(layers[0].config)
    if shape is not None:
        shapes[layers[0].name] = shape
    return layers, [TensorRef(layers[0].name)], [previous], shapes


def _functional(config: dict[str, Any], where: str) -> tuple[list[LayerSpec], list[TensorRef],
                                                             list[TensorRef], dict[str, tuple]]:
    layers: list[LayerSpec] = []
    shapes: dict[str, tuple] = {}
    for entry in config.get("layers", []):
        cfg = entry.get("config", {}) or {}
        name = entry.get("name") or cfg.get("name")
        spec = LayerSpec(name, entry.get("class_name", "?"), cfg, origin=_origin(entry))
        spec.nodes = [_parse_node(n, f"{where}: layer {name!r}")
                      for n in entry.get("inbound_nodes", [])]
        if spec.class_name == "InputLayer":
            shape = _batch_shape(cfg)
            if shape is not None:
                shapes[name] = shape
        layers.append(spec)
    inputs = _refs(config.get("input_layers"), f"{where}: input_layers")
    outputs = _refs(config.get("output_layers"), f"{where}: output_layers")
    return layers, inputs, outputs, shapes


def describe_unsupported(layers: Iterable[LayerSpec], supported: Collection[str],
                         where: str) -> UnsupportedLayerError | None:
    """One error naming every layer outside ``supported`` (None when all are supported).

    A layer whose config names a custom ``module`` or ``registered_name`` (Keras 3 custom
    objects) is unsupported even when its class name is a whitelisted one."""
    bad: dict[str, list[str]] = {}
    for spec in layers:
        config = spec.config if isinstance(spec.config, dict) else {}
        module = spec.origin.get("module", config.get("module"))
        registered = spec.origin.get("registered_name", config.get("registered_name"))
        custom = (registered not in (None, spec.class_name)
                  or (module is not None and not str(module).startswith("keras")))
        if spec.class_name in supported and not custom:
            continue
        kind = f"{spec.class_name} (custom: {registered or module})" if custom else spec.class_name
        bad.setdefault(kind, []).append(spec.name)
    if not bad:
        return None
    lines = []
    for kind, names in sorted(bad.items()):
        why = CODE_LAYERS.get(kind)
        if why:
            why = f": {why}; this reader never runs code from a model file, nothing of it was run"
        elif kind in NESTED_MODELS:
            why = ": a model nested as a layer (flatten it when saving, or extend the reader)"
        else:
            why = ""
        lines.append(f"  {kind} x{len(names)}: {', '.join(repr(n) for n in names[:8])}"
                     f"{' ...' if len(names) > 8 else ''}{why}")
    message = (f"{where}: {sum(len(v) for v in bad.values())} layer(s) of {len(bad)} type(s) "
               f"outside the whitelist:\n" + "\n".join(lines)
               + f"\nSupported layer types: {', '.join(sorted(supported))}.")
    return UnsupportedLayerError(message, bad)


def _weight_group(root: Any, where: str) -> Any:
    if "model_weights" in root:
        return root["model_weights"]
    raise KerasFileError(f"{where}: no 'model_weights' group (a weights-only file from "
                         "save_weights has no architecture; save the whole model instead)")


def _read_weights(group: Any, spec: LayerSpec, where: str) -> dict[str, np.ndarray]:
    if spec.name not in group:
        return {}
    layer_group = group[spec.name]
    weights: dict[str, np.ndarray] = {}
    for full in _string_list(_attribute(layer_group, "weight_names")):
        if full not in layer_group:
            raise KerasFileError(f"{where}: layer {spec.name!r} lists weight {full!r} but the "
                                 f"file has no such dataset")
        # 'conv2d_1_1/kernel:0' (Keras 2) or 'c1/kernel' (Keras 3) -> 'kernel'
        short = full.rsplit("/", 1)[-1].split(":", 1)[0]
        if short in weights:
            raise KerasFileError(f"{where}: layer {spec.name!r} has two weights named {short!r}")
        weights[short] = np.asarray(layer_group[full][()], dtype=np.float32)
    return weights


def read_keras_h5(path: str | Path, supported: Collection[str]) -> KerasModelFile:
    """Read a Keras HDF5 model file as data (see the module docstring).

    Args:
        path: the ``.h5`` / ``.hdf5`` file.
        supported: layer class names the caller can build; any other layer is refused (one
            :class:`UnsupportedLayerError` naming them all) before a weight is read.

    Raises:
        KerasFileError: not an HDF5 file, no model config, an unreadable graph.
        UnsupportedLayerError: layer types outside ``supported``.
    """
    import h5py

    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise KerasFileError(f"{path}: no such file")
    try:
        handle = h5py.File(path, "r")
    except OSError as err:
        raise KerasFileError(f"{path}: not an HDF5 file ({err})") from None
    with handle as root:
        raw = root.attrs.get("model_config")
        if raw is None:
            raise KerasFileError(f"{where}: no 'model_config' attribute: not a whole Keras "
                                 "model saved as HDF5 (a weights-only file, or a Keras 3 "
                                 ".keras zip renamed?)")
        try:
            model_config = json.loads(_text(raw))
        except json.JSONDecodeError as err:
            raise KerasFileError(f"{where}: model_config is not JSON ({err})") from None
        keras_version = _text(root.attrs.get("keras_version", "unknown"))
        backend = _text(root.attrs.get("backend", "unknown"))
        model_class = model_config.get("class_name", "?")
        config = model_config.get("config", {})
        if model_class == "Sequential":
            layers, inputs, outputs, shapes = _sequential(config, where)
        elif model_class in ("Model", "Functional"):
            layers, inputs, outputs, shapes = _functional(config, where)
        else:
            raise KerasFileError(f"{where}: top-level class {model_class!r} is not a Keras "
                                 "Model, Functional or Sequential model")
        error = describe_unsupported(layers, supported, where)
        if error is not None:
            raise error
        group = _weight_group(root, where)
        for spec in layers:
            spec.weights = _read_weights(group, spec, where)
    name = config.get("name", path.stem) if isinstance(config, dict) else path.stem
    return KerasModelFile(path=path, keras_version=keras_version, backend=backend,
                          model_class=model_class, name=str(name), layers=layers, inputs=inputs,
                          outputs=outputs, input_shapes=shapes)


__all__ = ["CODE_LAYERS", "KerasFileError", "KerasModelFile", "LayerSpec", "TensorRef",
           "UnsupportedLayerError", "describe_unsupported", "read_keras_h5"]

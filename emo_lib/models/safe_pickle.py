"""Reading whole-model PyTorch pickles as data: a restricted unpickler under which no class or
function named in the file is ever constructed or called, and the tree of inert stand-ins it
returns turned into a state dict.

``torch.load`` runs with a ``pickle_module`` whose ``find_class`` returns *real* objects only for
a handful of harmless data constructors (torch's tensor/parameter rebuild functions,
``OrderedDict``, ``set``/``frozenset``/``slice``, ``torch.Size``, dtypes). Globals from
``timm.*`` and ``torch.nn.*`` (and numpy's scalar and dtype) resolve to inert stand-in classes
that only record their arguments and pickled state. Every other global (``os.system``,
``builtins.eval``, ``subprocess.*``, classes from ``__main__``...) raises
``pickle.UnpicklingError`` naming it: a whitelist, not a blacklist.

Which files are trusted (pinned ids) and how a network is rebuilt from the weights is
:mod:`.hsemotion`'s business, not this module's.
"""
from __future__ import annotations

import _compat_pickle
import importlib
import pickle
import types
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import torch


class ModelFileError(RuntimeError):
    """A model file's content is not what a model file should hold."""


# --- data-only unpickling -------------------------------------------------------------------

class Stub:
    """Stand-in for a class or function named in a pickle: records, never runs anything."""

    stub_module: str = ""
    stub_name: str = ""

    def __new__(cls, *args: Any, **kwargs: Any) -> "Stub":
        obj = object.__new__(cls)
        object.__setattr__(obj, "stub_args", args)
        object.__setattr__(obj, "stub_state", None)
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # REDUCE calls cls(*args): inert
        pass

    def __setstate__(self, state: Any) -> None:  # BUILD: keep the state as data
        object.__setattr__(self, "stub_state", state)

    @classmethod
    def qualified_name(cls) -> str:
        return f"{cls.stub_module}.{cls.stub_name}"

    def state_dict_of(self) -> dict[str, Any]:
        """The pickled ``__dict__`` (nn.Module pickles ``(dict, None)`` or a dict)."""
        state = self.stub_state
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[0], dict):
            state = state[0]
        return state if isinstance(state, dict) else {}


_STUBS: dict[tuple[str, str], type[Stub]] = {}


def _stub_class(module: str, name: str) -> type[Stub]:
    key = (module, name)
    if key not in _STUBS:
        _STUBS[key] = type(f"Stub[{module}.{name}]", (Stub,),
                           {"stub_module": module, "stub_name": name})
    return _STUBS[key]


#: Globals resolved to the real object: data constructors with no side effects.
_REAL_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "slice"): slice,
    ("torch", "Size"): torch.Size,
    ("torch._utils", "_rebuild_tensor"): torch._utils._rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): torch._utils._rebuild_parameter_with_state,
}
#: Module prefixes whose globals become inert stand-ins (a timm model is made of these).
_STUB_PREFIXES: tuple[str, ...] = ("timm.", "torch.nn.")
_STUB_GLOBALS: frozenset[tuple[str, str]] = frozenset({
    ("functools", "partial"),  # its target goes through find_class too
    ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
})


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler for model files: see the module docstring for what resolves to what."""

    def find_class(self, module: str, name: str) -> Any:
        # Protocol-2 pickles name Python 2 modules (``__builtin__.set``); map them as pickle does.
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        key = (module, name)
        if key in _REAL_GLOBALS:
            return _REAL_GLOBALS[key]
        if module == "torch" and isinstance(getattr(torch, name, None), torch.dtype):
            return getattr(torch, name)
        if key in _STUB_GLOBALS or module.startswith(_STUB_PREFIXES) or module == "timm":
            return _stub_class(module, name)
        raise pickle.UnpicklingError(
            f"refusing to load global '{module}.{name}': model files may only name tensors, "
            f"timm and torch.nn classes (this one could run code when unpickled)"
        )


def _restricted_load(file: BinaryIO, **kwargs: Any) -> Any:
    return RestrictedUnpickler(file, **kwargs).load()


#: A drop-in ``pickle_module`` for ``torch.load`` (it subclasses ``Unpickler`` and calls ``load``).
restricted_pickle = types.ModuleType("emo_lib_restricted_pickle")
restricted_pickle.Unpickler = RestrictedUnpickler  # type: ignore[attr-defined]
restricted_pickle.load = _restricted_load  # type: ignore[attr-defined]
restricted_pickle.UnpicklingError = pickle.UnpicklingError  # type: ignore[attr-defined]


def restricted_torch_load(path: str | Path) -> Any:
    """``torch.load`` with :data:`restricted_pickle`, tensors on the CPU."""
    try:
        return torch.load(path, map_location="cpu", pickle_module=restricted_pickle,
                          weights_only=False)
    except pickle.UnpicklingError as err:
        raise pickle.UnpicklingError(f"{path}: {err}") from None


# --- legacy module names --------------------------------------------------------------------

#: timm modules renamed since the 0.6 era (exact names, then prefixes).
LEGACY_MODULES: dict[str, str] = {
    "timm.models.efficientnet_blocks": "timm.models._efficientnet_blocks",
    "timm.models.efficientnet_builder": "timm.models._efficientnet_builder",
    "timm.models.helpers": "timm.models._builder",
    "timm.models.registry": "timm.models._registry",
    "timm.models.features": "timm.models._features",
    "timm.models.fx_features": "timm.models._features_fx",
    "timm.models.hub": "timm.models._hub",
    "timm.models.factory": "timm.models._factory",
    "timm.models.pretrained": "timm.models._pretrained",
}
LEGACY_PREFIXES: tuple[tuple[str, str], ...] = (("timm.models.layers.", "timm.layers."),)


def modern_module(module: str) -> str:
    """Today's timm module for a module named in an old pickle (unchanged if not renamed)."""
    if module in LEGACY_MODULES:
        return LEGACY_MODULES[module]
    for old, new in LEGACY_PREFIXES:
        if module.startswith(old):
            return new + module[len(old):]
    return module


# --- stand-in tree -> state dict ------------------------------------------------------------

@dataclass
class PickledModel:
    """What was read from a model pickle, as data: weights and the module classes by path."""

    state_dict: "OrderedDict[str, torch.Tensor]"
    classes: dict[str, str]           # module path -> class, module path mapped to today's timm
    renamed: dict[str, str]           # legacy global -> today's name
    architecture: str | None          # from the pickled pretrained_cfg / default_cfg
    root_class: str
    unresolved: list[str] = field(default_factory=list)  # classes today's timm/torch lack


def _exists(qualified: str) -> bool:
    """Does today's timm/torch define this class? (Imports the module; never the pickle's.)"""
    module, _, name = qualified.rpartition(".")
    try:
        return hasattr(importlib.import_module(module), name)
    except ImportError:
        return False


def _collect(obj: Stub, prefix: str, model: PickledModel, where: Path) -> None:
    cls = type(obj)
    modern = f"{modern_module(cls.stub_module)}.{cls.stub_name}"
    if modern != cls.qualified_name():
        model.renamed[cls.qualified_name()] = modern
    if modern not in model.unresolved and not _exists(modern):
        model.unresolved.append(modern)
    model.classes[prefix.rstrip(".")] = modern
    state = obj.state_dict_of()
    skip = state.get("_non_persistent_buffers_set") or set()
    for kind in ("_parameters", "_buffers"):
        for key, value in (state.get(kind) or {}).items():
            if value is None or (kind == "_buffers" and key in skip):
                continue
            if not isinstance(value, torch.Tensor):
                raise ModelFileError(f"{where}: {prefix}{key} is a {type(value).__name__}, "
                                     "not a tensor")
            model.state_dict[prefix + key] = value.detach()
    for key, child in (state.get("_modules") or {}).items():
        if child is None:
            continue
        if not isinstance(child, Stub):
            raise ModelFileError(f"{where}: submodule {prefix}{key} is a {type(child).__name__}")
        _collect(child, f"{prefix}{key}.", model, where)


def read_pickled_model(path: str | Path) -> PickledModel:
    """Read a whole-model (or state-dict) ``.pt`` file as data with the restricted unpickler."""
    path = Path(path)
    obj = restricted_torch_load(path)
    model = PickledModel(OrderedDict(), {}, {}, None, type(obj).__name__)
    if isinstance(obj, Stub):
        model.root_class = f"{modern_module(type(obj).stub_module)}.{type(obj).stub_name}"
        _collect(obj, "", model, path)
        state = obj.state_dict_of()
        for attr in ("pretrained_cfg", "default_cfg"):
            cfg = state.get(attr)
            if isinstance(cfg, dict) and isinstance(cfg.get("architecture"), str):
                model.architecture = cfg["architecture"]
                break
    elif isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        model.state_dict.update((str(k), v.detach()) for k, v in obj.items())
    else:
        raise ModelFileError(f"{path}: expected a pickled model or a state dict, got "
                             f"{type(obj).__name__}")
    if not model.state_dict:
        raise ModelFileError(f"{path}: no weights found in the pickle")
    return model


__all__ = ["LEGACY_MODULES", "ModelFileError", "PickledModel", "RestrictedUnpickler", "Stub",
           "modern_module", "read_pickled_model", "restricted_pickle", "restricted_torch_load"]

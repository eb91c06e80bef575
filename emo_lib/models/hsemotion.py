"""HSEmotion (Savchenko) AffectNet models, loaded without trusting their pickles.

The ``hsemotion`` package (0.3.0) fetches ``models/affectnet_emotions/<name>.pt`` from the
upstream repository into ``~/.hsemotion/`` and ``torch.load``s it: each file is a whole pickled
timm model (timm 0.6 era, re-saved upstream on 2022-10-12). Today that fails twice over (torch
>= 2.6 loads weights-only by default; timm >= 0.9 renamed the modules the pickle names) and,
worse, it unpickles a download unchecked, so a tampered file runs code.

This loader does three things instead:

1. **Identity.** The file's git blob id (``git hash-object``) must equal the one pinned in
   ``hsemotion_blobs.txt`` (read from the upstream repository). Anything else is refused unless
   ``trust_unverified=True``, which warns and records ``verified: False``.
2. **Data-only unpickling.** ``torch.load`` runs with a restricted ``pickle_module`` whose
   ``find_class`` returns *real* objects only for a handful of harmless data constructors
   (torch's tensor/parameter rebuild functions, ``OrderedDict``, ``set``/``frozenset``/``slice``,
   ``torch.Size``, dtypes). Globals from ``timm.*`` and ``torch.nn.*`` (and numpy's scalar and
   dtype) resolve to inert stand-in classes that only record their arguments and pickled state:
   no class or function from the pickle is ever constructed or called. Every other global
   (``os.system``, ``builtins.eval``, ``subprocess.*``, classes from ``__main__``...) raises
   ``pickle.UnpicklingError`` naming it. This was chosen over a restricted unpickler that
   instantiates real ``torch.nn``/``timm`` classes because it is safer (no ``__setstate__`` or
   constructor of any listed class runs on attacker data) and it does not care which timm
   version wrote the file: renamed modules only need to be mapped for the structure check.
3. **Rebuild.** Parameters and persistent buffers are collected from the stand-in tree into a
   state dict; the architecture is created fresh with the installed timm (name read from the
   pickled ``pretrained_cfg``/``default_cfg`` where present, else from :data:`HSEMOTION_MODELS`)
   and loaded strictly. The returned module is that fresh one. The head is then sliced and
   reordered to the project's canonical classes (8-class models lose contempt by default).

Facts checked against upstream (av-savchenko/hsemotion ``hsemotion/facial_emotions.py`` and
av-savchenko/face-emotion-recognition ``python-package/hsemotion/hsemotion/facial_emotions.py``):
download URL and ``~/.hsemotion/<name>.pt`` cache; ``torch.load(path)`` of a whole model; class
order ``Anger, Disgust, Fear, Happiness, Neutral, Sadness, Surprise`` for names containing
``_7`` and ``Anger, Contempt, Disgust, Fear, Happiness, Neutral, Sadness, Surprise`` otherwise;
``_mtl`` models append valence and arousal (dropped here); input ``224`` if ``'_b0_'`` is in
the name else ``260``, resized RGB with ImageNet mean/std; the head is ``model.classifier``,
either a ``Linear`` or ``Sequential(Linear)``. ReXNet's input size (224) is an assumption: the
package's rule would say 260 but the package cannot load that file at all (no ``.classifier``).
"""
from __future__ import annotations

import _compat_pickle
import hashlib
import importlib
import logging
import os
import pickle
import types
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import torch

from ..data.manifest import EMOTIONS_7, EMOTIONS_8
from ..device import resolve_device
from . import register_model
from .base import IMAGENET_MEAN, IMAGENET_STD, TorchClassifier

log = logging.getLogger(__name__)

#: What the paper used, and why this loader defaults to something else.
PAPER_MODEL_NOTE = (
    "Noh & Lim (2023) used HSEmotion's Keras model mobilenet_7.h5 (MobileNet, 7 AffectNet "
    "classes). It is a TensorFlow file and cannot be loaded here; hsemotion:enet_b0_7 "
    "(EfficientNet-B0, the same 7 classes, PyTorch) is the default counterpart, so its numbers "
    "are not the paper's model's numbers."
)
DEFAULT_MODEL = "enet_b0_7"
UPSTREAM_REPO = "av-savchenko/face-emotion-recognition"
UPSTREAM_DIR = "models/affectnet_emotions"
BLOB_TABLE = Path(__file__).with_name("hsemotion_blobs.txt")
CACHE_ENV = "HSEMOTION_CACHE"

_CLASSES_7 = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
_CLASSES_8 = ("angry", "contempt", "disgust", "fear", "happy", "neutral", "sad", "surprise")


@dataclass(frozen=True)
class HSEmotionSpec:
    """One upstream model: timm architecture, output order (canonical names), input side."""

    arch: str
    outputs: tuple[str, ...]
    input_size: int


HSEMOTION_MODELS: dict[str, HSEmotionSpec] = {
    "enet_b0_7": HSEmotionSpec("efficientnet_b0", _CLASSES_7, 224),
    "enet_b0_8_best_afew": HSEmotionSpec("efficientnet_b0", _CLASSES_8, 224),
    "enet_b0_8_best_vgaf": HSEmotionSpec("efficientnet_b0", _CLASSES_8, 224),
    "enet_b0_8_best": HSEmotionSpec("efficientnet_b0", _CLASSES_8, 224),
    "enet_b0_8_va_mtl": HSEmotionSpec("efficientnet_b0", _CLASSES_8 + ("valence", "arousal"), 224),
    "enet_b2_7": HSEmotionSpec("efficientnet_b2", _CLASSES_7, 260),
    "enet_b2_8": HSEmotionSpec("efficientnet_b2", _CLASSES_8, 260),
    "enet_b2_8_best": HSEmotionSpec("efficientnet_b2", _CLASSES_8, 260),
    "affectnet_7_vggface2_rexnet150": HSEmotionSpec("rexnet_150", _CLASSES_7, 224),
}
#: Upstream files this loader does not read, and why.
UNSUPPORTED: dict[str, str] = {
    "mobilenet_7": "a Keras .h5 file (TensorFlow); " + PAPER_MODEL_NOTE,
    "mbf_va_mtl": "a MobileFaceNet defined outside timm, so it cannot be rebuilt from timm",
    "mobilevit_va_mtl": "its MobileViT variant is not documented upstream, so it cannot be "
                        "rebuilt and checked",
}


class HSEmotionError(RuntimeError):
    """An HSEmotion model file could not be used."""


class HSEmotionNotFound(HSEmotionError, FileNotFoundError):
    """The model file is not where the loader looked."""


class UnverifiedModelError(HSEmotionError):
    """The file's git blob id is not the pinned one."""


# --- file identity --------------------------------------------------------------------------

def git_blob_id(path: str | Path, chunk: int = 1 << 20) -> str:
    """``git hash-object PATH``: sha1 of ``b"blob <size>\\0"`` + the file's bytes."""
    path = Path(path)
    h = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def read_blob_table(path: str | Path | None = None) -> dict[str, str]:
    """Upstream path -> pinned git blob id, from a ``<blob id> <path>`` table (``#`` comments)."""
    path = Path(path) if path is not None else BLOB_TABLE
    table: dict[str, str] = {}
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2 or len(parts[0]) != 40:
            raise HSEmotionError(f"{path}:{lineno}: expected '<40-hex blob id> <path>', "
                                 f"got {line!r}")
        table[parts[1]] = parts[0].lower()
    return table


def upstream_path(name: str) -> str:
    return f"{UPSTREAM_DIR}/{name}.pt"


def upstream_url(name: str) -> str:
    return f"https://github.com/{UPSTREAM_REPO}/raw/main/{upstream_path(name)}"


def default_cache_dir() -> Path:
    """``$HSEMOTION_CACHE`` or ``~/.hsemotion`` (where the hsemotion package saves downloads)."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".hsemotion").expanduser()


def find_model_file(name: str, path: str | Path | None = None,
                    cache_dir: str | Path | None = None) -> Path:
    """The file for ``name``: ``path`` if given, else ``<cache_dir>/<name>.pt`` (default cache
    :func:`default_cache_dir`). Never downloads; a missing file raises :class:`HSEmotionNotFound`
    saying where it looked and how to obtain it."""
    if path is not None:
        candidate, origin = Path(path).expanduser(), "path="
    elif cache_dir is not None:
        candidate, origin = Path(cache_dir).expanduser() / f"{name}.pt", "cache_dir="
    else:
        origin = f"${CACHE_ENV}" if os.environ.get(CACHE_ENV) else "the default cache ~/.hsemotion"
        candidate = default_cache_dir() / f"{name}.pt"
    if candidate.is_file():
        return candidate
    raise HSEmotionNotFound(
        f"HSEmotion model {name!r} not found: looked for {candidate} (from {origin}). Nothing is "
        f"downloaded at run time. Obtain it either by `pip install hsemotion` and running "
        f"`HSEmotionRecognizer(model_name={name!r})` once online (it saves "
        f"~/.hsemotion/{name}.pt), "
        f"or by downloading {upstream_path(name)} from the {UPSTREAM_REPO} repository "
        f"({upstream_url(name)}); then put it in {candidate.parent}, set ${CACHE_ENV} to its "
        f"folder, or pass path=."
    )


def verify_model_file(name: str, path: Path, blob_table: str | Path | None = None,
                      trust_unverified: bool = False) -> tuple[str, bool]:
    """Compare the file's git blob id with the pinned one; return ``(blob_id, verified)``.

    Raises :class:`UnverifiedModelError` on a mismatch unless ``trust_unverified``."""
    table = read_blob_table(blob_table)
    blob = git_blob_id(path)
    expected = table.get(upstream_path(name))
    if blob == expected:
        return blob, True
    known_as = [p for p, b in table.items() if b == blob]
    what = (f"it is the pinned {known_as[0]}, not {upstream_path(name)}" if known_as else
            f"pinned {expected}" if expected else f"no pinned id for {upstream_path(name)}")
    message = (f"{path}: git blob id {blob} does not match ({what}; table "
               f"{Path(blob_table) if blob_table else BLOB_TABLE})")
    if not trust_unverified:
        raise UnverifiedModelError(
            f"{message}. Refusing to read an unverified model file: re-download "
            f"{upstream_url(name)}, or pass trust_unverified=True if you know where this file "
            f"came from (it is still read with the restricted unpickler)."
        )
    warnings.warn(f"{message}; loading it anyway because trust_unverified=True", stacklevel=3)
    return blob, False


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
                raise HSEmotionError(f"{where}: {prefix}{key} is a {type(value).__name__}, "
                                     "not a tensor")
            model.state_dict[prefix + key] = value.detach()
    for key, child in (state.get("_modules") or {}).items():
        if child is None:
            continue
        if not isinstance(child, Stub):
            raise HSEmotionError(f"{where}: submodule {prefix}{key} is a {type(child).__name__}")
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
        raise HSEmotionError(f"{path}: expected a pickled model or a state dict, got "
                             f"{type(obj).__name__}")
    if not model.state_dict:
        raise HSEmotionError(f"{path}: no weights found in the pickle")
    return model


# --- rebuilding with today's timm -----------------------------------------------------------

def _head_name(module: torch.nn.Module) -> str:
    cfg = getattr(module, "pretrained_cfg", None) or {}
    return cfg.get("classifier") or "classifier"


def _remap_head(names: list[str], head: str) -> dict[str, str]:
    """HSEmotion replaced the head by ``Sequential(Linear)``: ``head.0.x`` -> ``head.x``."""
    return {n: f"{head}.{n[len(head) + 3:]}" if n.startswith(f"{head}.0.") else n for n in names}


def _build(arch: str, pickled: PickledModel) -> tuple[torch.nn.Module, dict[str, str]]:
    import timm

    module = timm.create_model(arch, pretrained=False)
    head = _head_name(module)
    rename = _remap_head(list(pickled.state_dict), head)
    sd = OrderedDict((rename[k], v) for k, v in pickled.state_dict.items())
    weight = sd.get(f"{head}.weight")
    if weight is None or weight.ndim != 2:
        raise HSEmotionError(f"no 2-D {head}.weight in the file")
    module.reset_classifier(weight.shape[0])
    want = module.state_dict()
    missing, extra = sorted(set(want) - set(sd)), sorted(set(sd) - set(want))
    shapes = [k for k in set(want) & set(sd) if want[k].shape != sd[k].shape]
    if missing or extra or shapes:
        raise HSEmotionError(f"{len(missing)} missing (e.g. {missing[:2]}), {len(extra)} "
                             f"unexpected (e.g. {extra[:2]}), {len(shapes)} with other shapes "
                             f"(e.g. {sorted(shapes)[:2]})")
    module.load_state_dict(sd, strict=True)
    paths = {k.rsplit(".", 1)[0]: v.rsplit(".", 1)[0] for k, v in rename.items() if "." in k}
    return module, paths


def rebuild_timm_model(pickled: PickledModel, candidates: list[str]) -> tuple[torch.nn.Module,
                                                                              str, list[str]]:
    """Create each candidate architecture with today's timm and load the weights strictly;
    return ``(module, arch, class_mismatches)`` for the first that fits."""
    tried = []
    for arch in dict.fromkeys(a for a in candidates if a):
        try:
            module, paths = _build(arch, pickled)
        except Exception as err:  # unknown name, mismatched weights: try the next one
            tried.append(f"{arch}: {err}")
            continue
        # Same weights, same forward? Compare the classes of modules that own weights (a
        # tf_* 'same'-padding conv has the weights of a plain conv and computes otherwise).
        old_path = {new: old for old, new in paths.items()}
        mismatches = []
        for name, sub in module.named_modules():
            if not any(True for _ in sub.parameters(recurse=False)):
                continue
            old = pickled.classes.get(old_path.get(name, name))
            if old is not None and old.rsplit(".", 1)[-1] != type(sub).__qualname__:
                mismatches.append(f"{name}: file {old}, rebuilt {type(sub).__module__}."
                                  f"{type(sub).__qualname__}")
        return module, arch, mismatches
    raise HSEmotionError("the weights fit no candidate architecture:\n  " + "\n  ".join(tried))


# --- the loader -----------------------------------------------------------------------------

def _spec(name: str) -> HSEmotionSpec:
    if name in UNSUPPORTED:
        raise ValueError(f"hsemotion:{name} is not supported: {UNSUPPORTED[name]}")
    if name not in HSEMOTION_MODELS:
        raise ValueError(f"unknown HSEmotion model {name!r}; supported: {sorted(HSEMOTION_MODELS)}"
                         f" (default {DEFAULT_MODEL!r})")
    return HSEMOTION_MODELS[name]


def load_hsemotion(
    name: str = DEFAULT_MODEL,
    *,
    path: str | Path | None = None,
    cache_dir: str | Path | None = None,
    trust_unverified: bool = False,
    device: str = "cpu",
    batch_size: int = 32,
    drop_contempt: bool = True,
    blob_table: str | Path | None = None,
    arch: str | None = None,
    input_size: int | None = None,
) -> TorchClassifier:
    """Load HSEmotion model ``name`` safely (module docstring) as a :class:`TorchClassifier`.

    Args:
        name: upstream model name (:data:`HSEMOTION_MODELS`), e.g. ``"enet_b0_7"``.
        path: the ``.pt`` file; default ``<cache_dir>/<name>.pt``.
        cache_dir: folder holding ``<name>.pt``; default ``$HSEMOTION_CACHE`` or ``~/.hsemotion``.
        trust_unverified: read a file whose blob id is not the pinned one (warns; recorded).
        drop_contempt: 8-class models keep only the 7 canonical classes (the softmax then runs
            over those 7 logits); False keeps contempt last (``EMOTIONS_8`` order).
        blob_table: pinned-id table (default: ``hsemotion_blobs.txt`` beside this module).
        arch: timm architecture, overriding the one read from the file and the table.
        input_size: network input side, overriding the upstream one (224 for B0, 260 for B2).
    """
    spec = _spec(name)
    file = find_model_file(name, path, cache_dir)
    blob, verified = verify_model_file(name, file, blob_table, trust_unverified)
    pickled = read_pickled_model(file)
    candidates = [arch] if arch else [pickled.architecture, spec.arch]
    module, used_arch, mismatches = rebuild_timm_model(pickled, candidates)
    if mismatches:
        warnings.warn(f"{file}: rebuilt {used_arch} differs in layer classes from the file: "
                      f"{mismatches[:3]}", stacklevel=2)

    n_out = module.get_classifier().out_features
    if n_out != len(spec.outputs):
        raise HSEmotionError(f"{file}: {n_out} outputs, but {name} has {len(spec.outputs)} "
                             f"({list(spec.outputs)}); is it the right file?")
    target = EMOTIONS_7 if drop_contempt or "contempt" not in spec.outputs else EMOTIONS_8
    rows = [spec.outputs.index(c) for c in target]
    _select_head_rows(module, rows)
    module.eval()

    info = {
        "source": "hsemotion", "name": name, "path": str(file), "blob_id": blob,
        "verified": verified, "pinned_blob_id": read_blob_table(blob_table).get(
            upstream_path(name)), "upstream": f"{UPSTREAM_REPO}/{upstream_path(name)}",
        "timm_architecture": used_arch, "architecture_in_file": pickled.architecture,
        "pickled_root_class": pickled.root_class, "legacy_names": dict(pickled.renamed),
        "class_mismatches": mismatches, "unknown_classes": list(pickled.unresolved),
        "upstream_outputs": list(spec.outputs), "classes": list(target),
        "dropped_outputs": [c for c in spec.outputs if c not in target],
        "head_rows": rows, "paper_note": PAPER_MODEL_NOTE,
        "loader": "git blob id pinned; data-only restricted unpickler; rebuilt with timm",
    }
    if info["dropped_outputs"]:
        info["class_note"] = (f"outputs {info['dropped_outputs']} dropped; the softmax runs over "
                              f"the {len(target)} kept logits, reordered to {list(target)}")
    return TorchClassifier(
        module=module, classes=tuple(target), input_size=input_size or spec.input_size,
        mean=IMAGENET_MEAN, std=IMAGENET_STD, device=resolve_device(device),
        batch_size=batch_size, info=info,
    )


def _select_head_rows(module: torch.nn.Module, rows: list[int]) -> None:
    """Keep (and reorder) the head's output rows: a fresh Linear with those weights."""
    head = module.get_classifier()
    if not isinstance(head, torch.nn.Linear):
        raise HSEmotionError(f"expected a Linear head, got {type(head).__name__}")
    weight, bias = head.weight.detach()[rows].clone(), None
    if head.bias is not None:
        bias = head.bias.detach()[rows].clone()
    module.reset_classifier(len(rows))
    new = module.get_classifier()
    with torch.no_grad():
        new.weight.copy_(weight)
        if bias is not None:
            new.bias.copy_(bias)


@register_model("hsemotion:")
def _hsemotion(name: str, **options: Any) -> TorchClassifier:
    return load_hsemotion(name, **options)


__all__ = [
    "BLOB_TABLE", "DEFAULT_MODEL", "HSEMOTION_MODELS", "HSEmotionError", "HSEmotionNotFound",
    "HSEmotionSpec", "PAPER_MODEL_NOTE", "RestrictedUnpickler", "UnverifiedModelError",
    "find_model_file", "git_blob_id", "load_hsemotion", "read_blob_table", "read_pickled_model",
    "restricted_pickle", "verify_model_file",
]

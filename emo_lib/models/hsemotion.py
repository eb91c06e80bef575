"""HSEmotion (Savchenko) AffectNet models, loaded without trusting their files.

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

The Keras model ``mobilenet_7.h5`` goes through the same identity check and is then read as
data by the project's Keras HDF5 reader (``keras_model.load_keras``: h5py, a
whitelist of layer types, no TensorFlow, no code from the file) - see :data:`KERAS_INPUT`.

**Download.** A file missing from the cache folder (``$HSEMOTION_CACHE`` or ``~/.hsemotion``,
the hsemotion package's) is fetched from the address the hsemotion package uses
(:data:`DOWNLOAD_URL`; its own helper is not called: it only knows ``.pt`` files and the package
pins old dependencies), written atomically, and kept only if its git blob id is the pinned
one. ``download=False``, or ``$EMO_OFFLINE=1``, turns this off; then, or when the machine is
offline, the error says where to put the file. An explicit ``path=`` is never downloaded to.

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

import hashlib
import logging
import os
import sys
import urllib.error
import urllib.request
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..data.manifest import EMOTIONS_7, EMOTIONS_8
from ..device import resolve_device
from ..classifier import IMAGENET_MEAN, IMAGENET_STD, TorchClassifier
from ..storage import atomic_path
from ..validation import check_choice
from . import register_model
from .safe_pickle import (  # noqa: F401  (re-exported: the loader's data-only reading)
    LEGACY_MODULES, ModelFileError, PickledModel, RestrictedUnpickler, Stub, modern_module,
    read_pickled_model, restricted_pickle, restricted_torch_load,
)

log = logging.getLogger(__name__)

DEFAULT_MODEL = "enet_b0_7"
UPSTREAM_REPO = "av-savchenko/face-emotion-recognition"
UPSTREAM_DIR = "models/affectnet_emotions"
BLOB_TABLE = Path(__file__).with_name("hsemotion_blobs.txt")
CACHE_ENV = "HSEMOTION_CACHE"
#: Set to 1/true/yes to never download (the same as ``download=False``).
OFFLINE_ENV = "EMO_OFFLINE"
#: Where the hsemotion package downloads from (``get_model_path``; the old organisation name
#: redirects to av-savchenko). ``{file}`` is ``<name>.pt`` or ``<name>.h5``.
DOWNLOAD_URL = ("https://github.com/HSE-asavchenko/face-emotion-recognition/blob/main/"
                "models/affectnet_emotions/{file}?raw=true")
DOWNLOAD_TIMEOUT = 60.0  # seconds without data before a download is abandoned

_CLASSES_7 = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
_CLASSES_8 = ("angry", "contempt", "disgust", "fear", "happy", "neutral", "sad", "surprise")


@dataclass(frozen=True)
class HSEmotionSpec:
    """One upstream model: timm architecture (``"keras"`` for the .h5 file), output order
    (canonical names), input side, file suffix."""

    arch: str
    outputs: tuple[str, ...]
    input_size: int
    suffix: str = ".pt"


#: How HSEmotion feeds its Keras MobileNet (mobilenet_7.h5): 224 x 224 RGB as float 0..255 with
#: 103.939, 116.779, 123.68 subtracted from channels 0, 1, 2 (R, G, B) and no scaling.
#: Upstream's code (av-savchenko/face-emotion-recognition, src/AFEW_train.ipynb and the scripts
#: derived from it, e.g. the webcam/Flask demos that load mobilenet_7.h5) reads frames with
#: cv2.imread, converts them with cv2.cvtColor(..., COLOR_BGR2RGB), resizes to 224 and applies
#: ``mobilenet_preprocess_input``: ``x[..., 0] -= 103.939; x[..., 1] -= 116.779;
#: x[..., 2] -= 123.68``. So the channel order is RGB and the Caffe means are subtracted in
#: that index order, without the RGB->BGR flip of Keras's own preprocess_input('caffe') (which
#: HSE_FaceRec_tf's age/gender training script, the source of the backbone, did use). Class
#: order: idx_to_class {0: Anger, 1: Disgust, 2: Fear, 3: Happiness, 4: Neutral, 5: Sadness,
#: 6: Surprise}. (The preprocessing cell of src/affectnet/train_emotions.ipynb itself could not
#: be read here: the stored notebook is 1.8 MB of inline images.)
KERAS_INPUT = {
    "color": "rgb",
    "mean": (103.939 / 255, 116.779 / 255, 123.68 / 255),
    "std": (1 / 255, 1 / 255, 1 / 255),
}


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
    # A TF2 Keras functional MobileNet-v1 face backbone cut at 'feats', then Dense(7, softmax,
    # name='emotion_preds'); read by the Keras reader.
    "mobilenet_7": HSEmotionSpec("keras", _CLASSES_7, 224, suffix=".h5"),
}
#: Upstream files this loader does not read, and why.
UNSUPPORTED: dict[str, str] = {
    "mbf_va_mtl": "a MobileFaceNet defined outside timm, so it cannot be rebuilt from timm",
    "mobilevit_va_mtl": "its MobileViT variant is not documented upstream, so it cannot be "
                        "rebuilt and checked",
}


class HSEmotionError(ModelFileError):
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


def file_name(name: str) -> str:
    """``<name>.pt``, or ``<name>.h5`` for the Keras model."""
    spec = HSEMOTION_MODELS.get(name)
    return f"{name}{spec.suffix if spec else '.pt'}"


def upstream_path(name: str) -> str:
    return f"{UPSTREAM_DIR}/{file_name(name)}"


def upstream_url(name: str) -> str:
    return f"https://github.com/{UPSTREAM_REPO}/raw/main/{upstream_path(name)}"


def download_url(name: str) -> str:
    """The address the file is downloaded from (:data:`DOWNLOAD_URL`)."""
    return DOWNLOAD_URL.format(file=file_name(name))


def default_cache_dir() -> Path:
    """``$HSEMOTION_CACHE`` or ``~/.hsemotion`` (where the hsemotion package saves downloads)."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".hsemotion").expanduser()


def downloads_allowed(download: bool | None = None) -> bool:
    """``download`` if given, else True unless ``$EMO_OFFLINE`` is 1/true/yes."""
    if download is not None:
        return bool(download)
    return os.environ.get(OFFLINE_ENV, "").strip().lower() not in ("1", "true", "yes")


def fetch_model_file(name: str, destination: Path, blob_table: str | Path | None = None,
                     trust_unverified: bool = False, progress: bool | None = None) -> Path:
    """Download ``name`` from :func:`download_url` to ``destination`` atomically, keeping it
    only if its git blob id is the pinned one (or ``trust_unverified``, with a warning).

    Raises ``urllib.error.URLError`` / ``OSError`` when the download fails and
    :class:`UnverifiedModelError` when the bytes are not the pinned file; in both cases nothing
    is left at ``destination``."""
    from tqdm.auto import tqdm

    url = download_url(name)
    log.warning("downloading HSEmotion model %s from %s to %s", name, url, destination)
    with atomic_path(destination) as tmp:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response, \
                open(tmp, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            show = sys.stderr.isatty() if progress is None else progress
            with tqdm(total=total, unit="B", unit_scale=True, desc=file_name(name),
                      disable=not show) as bar:
                for block in iter(lambda: response.read(1 << 20), b""):
                    out.write(block)
                    bar.update(len(block))
        verify_model_file(name, tmp, blob_table, trust_unverified)  # raises: tmp is removed
    return destination


def find_model_file(name: str, path: str | Path | None = None,
                    cache_dir: str | Path | None = None, *, download: bool | None = None,
                    blob_table: str | Path | None = None,
                    trust_unverified: bool = False) -> Path:
    """The file for ``name``: ``path`` if given, else ``<cache_dir>/<file>`` (default cache
    :func:`default_cache_dir`), downloaded there when missing and downloads are allowed
    (:func:`downloads_allowed`). A missing file raises :class:`HSEmotionNotFound` saying where
    it looked, what the download attempt said, and where to put the file."""
    if path is not None:
        candidate, origin = Path(path).expanduser(), "path="
    elif cache_dir is not None:
        candidate, origin = Path(cache_dir).expanduser() / file_name(name), "cache_dir="
    else:
        origin = f"${CACHE_ENV}" if os.environ.get(CACHE_ENV) else "the default cache ~/.hsemotion"
        candidate = default_cache_dir() / file_name(name)
    if candidate.is_file():
        return candidate
    if path is not None:
        attempt = "an explicit path= is never downloaded to"
    elif not downloads_allowed(download):
        attempt = f"downloads are off (download=False or ${OFFLINE_ENV})"
    else:
        try:
            return fetch_model_file(name, candidate, blob_table, trust_unverified)
        except (urllib.error.URLError, OSError, ValueError) as err:  # offline, 404, disk...
            attempt = f"downloading {download_url(name)} failed ({type(err).__name__}: {err})"
    package = (f" The hsemotion package (`HSEmotionRecognizer(model_name={name!r})`, online) "
               f"saves it to ~/.hsemotion/{file_name(name)} too."
               if file_name(name).endswith(".pt") else "")
    raise HSEmotionNotFound(
        f"HSEmotion model {name!r} not found: looked for {candidate} (from {origin}); "
        f"{attempt}. Download {upstream_path(name)} from the {UPSTREAM_REPO} repository "
        f"({upstream_url(name)}) and put it at {candidate}, or set ${CACHE_ENV} to the folder "
        f"holding {file_name(name)}, or pass path=.{package}"
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
            f"came from (it is still read as data: restricted unpickler or Keras reader)."
        )
    warnings.warn(f"{message}; loading it anyway because trust_unverified=True", stacklevel=3)
    return blob, False


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
    return HSEMOTION_MODELS[check_choice("HSEmotion model", name, sorted(HSEMOTION_MODELS))]


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
    download: bool | None = None,
) -> TorchClassifier:
    """Load HSEmotion model ``name`` safely (module docstring) as a :class:`TorchClassifier`.

    Args:
        name: upstream model name (:data:`HSEMOTION_MODELS`), e.g. ``"enet_b0_7"`` or the
            Keras ``"mobilenet_7"``.
        path: the model file; default ``<cache_dir>/<name>.pt`` (``.h5`` for mobilenet_7).
        cache_dir: folder holding it; default ``$HSEMOTION_CACHE`` or ``~/.hsemotion``.
        trust_unverified: read a file whose blob id is not the pinned one (warns; recorded).
        drop_contempt: 8-class models keep only the 7 canonical classes (the softmax then runs
            over those 7 logits); False keeps contempt last (``EMOTIONS_8`` order).
        blob_table: pinned-id table (default: ``hsemotion_blobs.txt`` beside this module).
        arch: timm architecture, overriding the one read from the file and the table.
        input_size: network input side, overriding the upstream one (224 for B0, 260 for B2).
        download: fetch a file missing from the cache folder (default: yes unless
            ``$EMO_OFFLINE``); see the module docstring.
    """
    spec = _spec(name)
    file = find_model_file(name, path, cache_dir, download=download, blob_table=blob_table,
                           trust_unverified=trust_unverified)
    blob, verified = verify_model_file(name, file, blob_table, trust_unverified)
    if spec.suffix == ".h5":
        if arch is not None:
            raise ValueError(f"arch={arch!r} applies to timm (.pt) models, not the Keras {name}")
        return _load_keras_model(name, spec, file, blob, verified, blob_table=blob_table,
                                 device=device, batch_size=batch_size, input_size=input_size)
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
        "head_rows": rows,
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


def _load_keras_model(name: str, spec: HSEmotionSpec, file: Path, blob: str, verified: bool, *,
                      blob_table: str | Path | None, device: str, batch_size: int,
                      input_size: int | None) -> TorchClassifier:
    """The Keras file through the Keras reader, with HSEmotion's input convention."""
    from .keras_model import load_keras

    clf = load_keras(
        file, classes=spec.outputs, input_size=input_size or spec.input_size,
        mean=KERAS_INPUT["mean"], std=KERAS_INPUT["std"], color=KERAS_INPUT["color"],
        device=device, batch_size=batch_size,
        info={
            "source": "hsemotion", "name": name, "blob_id": blob, "verified": verified,
            "pinned_blob_id": read_blob_table(blob_table).get(upstream_path(name)),
            "upstream": f"{UPSTREAM_REPO}/{upstream_path(name)}",
            "upstream_outputs": list(spec.outputs),
            "preprocessing_note": "RGB, 0..255 minus 103.939/116.779/123.68, no scaling",
            "loader": "git blob id pinned; Keras HDF5 read as data with h5py; whitelisted "
                      "layers rebuilt in torch; no code from the file runs",
        },
    )
    if clf.info.get("output_layer") != "emotion_preds":
        warnings.warn(f"{file}: the output layer is {clf.info.get('output_layer')!r}, not "
                      "upstream's 'emotion_preds'; is it the right file?", stacklevel=3)
    return clf


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
    "BLOB_TABLE", "DEFAULT_MODEL", "DOWNLOAD_URL", "HSEMOTION_MODELS", "HSEmotionError",
    "HSEmotionNotFound", "HSEmotionSpec", "KERAS_INPUT",
    "RestrictedUnpickler", "UnverifiedModelError", "download_url", "downloads_allowed",
    "fetch_model_file", "file_name", "find_model_file", "git_blob_id", "load_hsemotion",
    "read_blob_table", "read_pickled_model", "restricted_pickle", "upstream_path",
    "verify_model_file",
]

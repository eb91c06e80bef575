"""The safe HSEmotion loader, on legacy-style model files this test writes itself.

No real weights: a tiny timm EfficientNet (``test_efficientnet``, ~0.1 M parameters) is pickled
whole with ``torch.save`` while its classes pretend to live at their timm 0.6 module paths
(``timm.models.layers.norm_act``, ``timm.models.efficientnet_blocks``...), like the files the
``hsemotion`` package downloads. A test blob table pins the files' git blob ids.
"""
from __future__ import annotations

import contextlib
import functools
import os
import pickle
import subprocess
import sys
import types
import zipfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest
import timm
import torch

from emo_lib.data.manifest import EMOTIONS_7, EMOTIONS_8
from emo_lib.models import load_model
from emo_lib.classifier import TorchClassifier
from emo_lib.models.hsemotion import (
    HSEMOTION_MODELS, HSEmotionError, HSEmotionNotFound, Stub,
    UnverifiedModelError, git_blob_id, load_hsemotion, read_blob_table, upstream_path,
)

SIZE = 48  # network input side for the tiny model (upstream uses 224/260)


def _legacy_module(module: str) -> str:
    if module == "timm.models._efficientnet_blocks":
        return "timm.models.efficientnet_blocks"
    if module.startswith("timm.layers."):
        return "timm.models.layers." + module[len("timm.layers."):]
    return module


@contextlib.contextmanager
def legacy_module_paths(model: torch.nn.Module) -> Iterator[None]:
    """While saving, make the model's timm classes pickle under their timm 0.6 names."""
    changed = []
    for cls in {type(m) for m in model.modules()}:
        legacy = _legacy_module(cls.__module__)
        if legacy == cls.__module__:
            continue
        created = legacy not in sys.modules
        fake = sys.modules.setdefault(legacy, types.ModuleType(legacy))
        setattr(fake, cls.__qualname__, cls)
        changed.append((cls, cls.__module__, legacy, created))
        cls.__module__ = legacy
    try:
        yield
    finally:
        for cls, module, legacy, created in changed:
            cls.__module__ = module
            if created:
                sys.modules.pop(legacy, None)


def tiny_model(n_out: int, seed: int) -> torch.nn.Module:
    """HSEmotion's layout: a timm EfficientNet whose head is ``Sequential(Linear)``."""
    torch.manual_seed(seed)
    model = timm.create_model("test_efficientnet", num_classes=n_out)
    model.classifier = torch.nn.Sequential(torch.nn.Linear(model.num_features, n_out))
    with torch.no_grad():  # distinct, spread-out logits so a wrong row order shows
        model.classifier[0].bias.copy_(torch.linspace(-2.0, 2.0, n_out))
    return model.eval()


def save_legacy(model: Any, path: Path) -> Path:
    with legacy_module_paths(model) if isinstance(model, torch.nn.Module) else \
            contextlib.nullcontext():
        torch.save(model, path)
    return path


def write_table(path: Path, entries: dict[str, Path]) -> Path:
    lines = ["# test table"] + [f"{git_blob_id(f)} models/affectnet_emotions/{name}.pt"
                                for name, f in entries.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def images(n: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


def reference(model: torch.nn.Module, n_out: int, size: int = SIZE) -> TorchClassifier:
    return TorchClassifier(module=model, classes=tuple(f"c{i}" for i in range(n_out)),
                           input_size=size)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("hsemotion")
    m7, m8 = tiny_model(7, seed=1), tiny_model(8, seed=2)
    f7 = save_legacy(m7, root / "enet_b0_7.pt")
    f8 = save_legacy(m8, root / "enet_b0_8_best.pt")
    table = write_table(root / "blobs.txt", {"enet_b0_7": f7, "enet_b0_8_best": f8})
    return {"root": root, "m7": m7, "m8": m8, "f7": f7, "f8": f8, "table": table}


@pytest.mark.filterwarnings("ignore:Importing from timm.models.layers:FutureWarning")
def test_written_files_really_are_legacy(files: dict[str, Any]) -> None:
    with zipfile.ZipFile(files["f7"]) as z:
        pkl = z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))
    assert b"timm.models.layers.norm_act" in pkl and b"timm.models.efficientnet_blocks" in pkl
    assert b"timm.layers." not in pkl
    # ...and, like upstream's files, a plain torch.load cannot read them any more.
    with pytest.raises(ModuleNotFoundError):
        torch.load(files["f7"], weights_only=False)


def test_verified_file_loads_and_predicts_like_the_original(files: dict[str, Any]) -> None:
    clf = load_hsemotion("enet_b0_7", path=files["f7"], blob_table=files["table"],
                         input_size=SIZE)
    assert clf.classes == EMOTIONS_7
    assert type(clf.module) is timm.models.efficientnet.EfficientNet  # rebuilt, not unpickled
    assert not any(isinstance(m, Stub) for m in clf.module.modules())
    info = clf.info
    assert info["verified"] is True and info["blob_id"] == git_blob_id(files["f7"])
    assert info["timm_architecture"] == "test_efficientnet"
    assert info["legacy_names"]["timm.models.layers.norm_act.BatchNormAct2d"] == \
        "timm.layers.norm_act.BatchNormAct2d"
    assert info["class_mismatches"] == [] and info["unknown_classes"] == []
    expected = reference(files["m7"], 7).predict_proba(images())
    np.testing.assert_allclose(clf.predict_proba(images()), expected, atol=1e-6)


def test_registry_and_cache_folder(files: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    clf = load_model("hsemotion:enet_b0_7", cache_dir=files["root"], blob_table=files["table"],
                     input_size=SIZE)
    assert clf.info["path"] == str(files["f7"])
    monkeypatch.setenv("HSEMOTION_CACHE", str(files["root"]))
    clf = load_hsemotion("enet_b0_7", blob_table=files["table"], input_size=SIZE)
    assert clf.info["path"] == str(files["f7"])


def test_unknown_blob_is_refused(files: dict[str, Any], tmp_path: Path) -> None:
    table = write_table(tmp_path / "other.txt", {"enet_b0_8_best": files["f8"]})
    with pytest.raises(UnverifiedModelError, match="trust_unverified") as err:
        load_hsemotion("enet_b0_7", path=files["f7"], blob_table=table)
    assert git_blob_id(files["f7"]) in str(err.value)


def test_file_of_another_model_is_named(files: dict[str, Any]) -> None:
    with pytest.raises(UnverifiedModelError, match="enet_b0_8_best.pt"):
        load_hsemotion("enet_b0_7", path=files["f8"], blob_table=files["table"])


def test_trust_unverified_loads_with_warning(files: dict[str, Any], tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing pinned\n")
    with pytest.warns(UserWarning, match="trust_unverified"):
        clf = load_hsemotion("enet_b0_7", path=files["f7"], blob_table=empty,
                             trust_unverified=True, input_size=SIZE)
    assert clf.info["verified"] is False
    np.testing.assert_allclose(clf.predict_proba(images()),
                               reference(files["m7"], 7).predict_proba(images()), atol=1e-6)


class Payload:
    """Runs ``call(*args)`` when unpickled."""

    def __init__(self, call: Any, *args: Any) -> None:
        self.call, self.args = call, args

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return self.call, self.args


def _payloads(marker: Path) -> dict[str, Payload]:
    return {
        "os.system": Payload(os.system, f"touch {marker}"),
        "builtins.eval": Payload(eval, f"open({str(marker)!r}, 'w').close()"),
        "subprocess.call": Payload(subprocess.call, ["touch", str(marker)]),
        "functools.partial(os.system)": Payload(functools.partial(os.system, f"touch {marker}")),
    }


def test_payloads_are_live(tmp_path: Path) -> None:
    """The payloads below really run code under a plain unpickler (so their tests can fail)."""
    marker = tmp_path / "ran"
    for payload in _payloads(marker).values():
        pickle.loads(pickle.dumps(payload))
        assert marker.exists()
        marker.unlink()


@pytest.mark.parametrize("kind", ["os.system", "builtins.eval", "subprocess.call",
                                  "functools.partial(os.system)"])
@pytest.mark.parametrize("where", ["whole_file", "inside_model"])
def test_code_running_pickle_is_refused(kind: str, where: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = _payloads(marker)[kind]
    path = tmp_path / "enet_b0_7.pt"
    if where == "whole_file":
        torch.save(payload, path)
    else:
        model = tiny_model(7, seed=3)
        model.blocks[0].extra = payload  # hidden in an ordinary module's __dict__
        save_legacy(model, path)
    # Unpinned: refused before anything is unpickled.
    with pytest.raises(UnverifiedModelError):
        load_hsemotion("enet_b0_7", path=path, blob_table=write_table(tmp_path / "t0.txt", {}))
    # Pinned, or trusted: the restricted unpickler still refuses, naming the global.
    table = write_table(tmp_path / "t.txt", {"enet_b0_7": path})
    with pytest.raises(pickle.UnpicklingError, match="refusing to load global") as err:
        load_hsemotion("enet_b0_7", path=path, blob_table=table)
    name = kind.split("(")[-1].rstrip(")")
    assert name.split(".")[-1] in str(err.value)
    with pytest.raises(pickle.UnpicklingError), pytest.warns(UserWarning):
        load_hsemotion("enet_b0_7", path=path, blob_table=tmp_path / "t0.txt",
                       trust_unverified=True)
    assert not marker.exists()


def test_timm_named_callables_are_never_called(tmp_path: Path) -> None:
    """Globals under timm.* resolve to inert stand-ins: a callable there is not run."""
    marker = tmp_path / "called"
    fake = types.ModuleType("timm.emo_test_payload")
    fake.touch = lambda p: Path(p).touch()  # type: ignore[attr-defined]
    fake.touch.__module__, fake.touch.__qualname__ = fake.__name__, "touch"
    sys.modules[fake.__name__] = fake
    try:
        model = tiny_model(7, seed=4)
        model.blocks[0].extra = Payload(fake.touch, str(marker))
        path = save_legacy(model, tmp_path / "enet_b0_7.pt")
    finally:
        del sys.modules[fake.__name__]
    clf = load_hsemotion("enet_b0_7", path=path, input_size=SIZE,
                         blob_table=write_table(tmp_path / "t.txt", {"enet_b0_7": path}))
    assert not marker.exists()
    np.testing.assert_allclose(clf.predict_proba(images()),
                               reference(model, 7).predict_proba(images()), atol=1e-6)


def test_eight_classes_drop_contempt_and_reorder(files: dict[str, Any]) -> None:
    ref = reference(files["m8"], 8)
    batch = images(6, seed=1)
    with torch.inference_mode():
        raw = ref.logits(batch).float()
    # HSEmotion order: anger, contempt, disgust, fear, happiness, neutral, sadness, surprise
    keep7 = [0, 2, 3, 4, 5, 6, 7]
    clf = load_hsemotion("enet_b0_8_best", path=files["f8"], blob_table=files["table"],
                         input_size=SIZE)
    assert clf.classes == EMOTIONS_7 and clf.info["dropped_outputs"] == ["contempt"]
    np.testing.assert_allclose(clf.predict_proba(batch),
                               torch.softmax(raw[:, keep7], 1).numpy(), atol=1e-6)
    clf8 = load_hsemotion("enet_b0_8_best", path=files["f8"], blob_table=files["table"],
                          input_size=SIZE, drop_contempt=False)
    assert clf8.classes == EMOTIONS_8 and clf8.info["dropped_outputs"] == []
    np.testing.assert_allclose(clf8.predict_proba(batch),
                               torch.softmax(raw[:, keep7 + [1]], 1).numpy(), atol=1e-6)


def test_missing_file_says_where_and_how(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(HSEmotionNotFound) as err:
        load_hsemotion("enet_b0_7", cache_dir=tmp_path, download=False)
    msg = str(err.value)
    assert str(tmp_path / "enet_b0_7.pt") in msg and "downloads are off" in msg
    assert "models/affectnet_emotions/enet_b0_7.pt" in msg and "pip install" not in msg
    assert "HSEmotionRecognizer(model_name='enet_b0_7')" in msg
    assert list(tmp_path.iterdir()) == []  # nothing downloaded or created
    monkeypatch.setenv("HSEMOTION_CACHE", str(tmp_path / "nowhere"))
    monkeypatch.setenv("EMO_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="HSEMOTION_CACHE") as err:
        load_hsemotion("enet_b2_7")
    assert "EMO_OFFLINE" in str(err.value)
    with pytest.raises(HSEmotionNotFound, match="never downloaded to"):
        load_hsemotion("enet_b0_7", path=tmp_path / "elsewhere.pt", download=True)


def test_unsupported_and_unknown_names() -> None:
    assert "mobilenet_7" in HSEMOTION_MODELS  # the paper's Keras model is supported now
    with pytest.raises(ValueError, match="MobileFaceNet"):
        load_hsemotion("mbf_va_mtl")
    with pytest.raises(ValueError, match="enet_b0_7"):
        load_hsemotion("enet_b9_3")


# --- download (a loopback server stands in for GitHub) --------------------------------------

class _Server:
    """A loopback HTTP server serving ``files`` (name -> bytes) and counting requests."""

    def __init__(self, files: dict[str, bytes]):
        import http.server
        import threading

        self.files, self.requests, self.closed = files, [], False
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                name = self.path.split("?")[0].lstrip("/")
                outer.requests.append(name)
                data = outer.files.get(name)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/{{file}}?raw=true"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        if not self.closed:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.closed = True


@pytest.fixture
def server(files: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[_Server]:
    import emo_lib.models.hsemotion as hs

    srv = _Server({"enet_b0_7.pt": files["f7"].read_bytes()})
    monkeypatch.setattr(hs, "DOWNLOAD_URL", srv.url)
    monkeypatch.delenv("EMO_OFFLINE", raising=False)
    yield srv
    srv.close()


def test_download_into_the_cache_then_load(files: dict[str, Any], server: _Server,
                                           tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    clf = load_hsemotion("enet_b0_7", cache_dir=cache, blob_table=files["table"],
                         input_size=SIZE)
    assert server.requests == ["enet_b0_7.pt"]
    assert clf.info["path"] == str(cache / "enet_b0_7.pt") and clf.info["verified"] is True
    assert (cache / "enet_b0_7.pt").read_bytes() == files["f7"].read_bytes()
    assert sorted(p.name for p in cache.iterdir()) == ["enet_b0_7.pt"]  # no temp file left
    np.testing.assert_allclose(clf.predict_proba(images()),
                               reference(files["m7"], 7).predict_proba(images()), atol=1e-6)
    load_hsemotion("enet_b0_7", cache_dir=cache, blob_table=files["table"], input_size=SIZE)
    assert server.requests == ["enet_b0_7.pt"]  # cached: not fetched again


def test_download_goes_to_hsemotion_cache(files: dict[str, Any], server: _Server,
                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    monkeypatch.setenv("HSEMOTION_CACHE", str(tmp_path / "env_cache"))
    clf = load_hsemotion("enet_b0_7", blob_table=files["table"], input_size=SIZE)
    assert clf.info["path"] == str(tmp_path / "env_cache" / "enet_b0_7.pt")


def test_downloaded_bytes_that_are_not_the_pinned_file_are_dropped(
        files: dict[str, Any], server: _Server, tmp_path: Path) -> None:
    server.files["enet_b0_7.pt"] = files["f8"].read_bytes()  # another model's file
    cache = tmp_path / "cache"
    with pytest.raises(UnverifiedModelError, match="enet_b0_8_best.pt"):
        load_hsemotion("enet_b0_7", cache_dir=cache, blob_table=files["table"])
    assert list(cache.iterdir()) == []


def test_offline_or_refused_download_says_where_to_put_the_file(
        files: dict[str, Any], server: _Server, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import emo_lib.models.hsemotion as hs

    monkeypatch.setenv("EMO_OFFLINE", "1")
    with pytest.raises(HSEmotionNotFound, match="downloads are off"):
        load_hsemotion("enet_b0_7", cache_dir=tmp_path, blob_table=files["table"])
    assert server.requests == []
    monkeypatch.delenv("EMO_OFFLINE")
    server.close()  # the address no longer answers: as good as offline
    monkeypatch.setattr(hs, "DOWNLOAD_TIMEOUT", 5.0)
    with pytest.raises(HSEmotionNotFound) as err:
        load_hsemotion("enet_b0_7", cache_dir=tmp_path / "c", blob_table=files["table"])
    msg = str(err.value)
    assert "failed (URLError" in msg and f"put it at {tmp_path / 'c' / 'enet_b0_7.pt'}" in msg
    assert not (tmp_path / "c" / "enet_b0_7.pt").exists()


def test_download_from_a_file_url(files: dict[str, Any], tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import emo_lib.models.hsemotion as hs

    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "enet_b0_7.pt").write_bytes(files["f7"].read_bytes())
    monkeypatch.setattr(hs, "DOWNLOAD_URL", mirror.as_uri() + "/{file}")
    clf = load_hsemotion("enet_b0_7", cache_dir=tmp_path / "cache", blob_table=files["table"],
                         input_size=SIZE, download=True)
    assert clf.info["verified"] is True


def test_weights_that_fit_no_architecture(files: dict[str, Any]) -> None:
    with pytest.raises(HSEmotionError, match="efficientnet_b0"):
        load_hsemotion("enet_b0_7", path=files["f7"], blob_table=files["table"],
                       arch="efficientnet_b0")


def test_git_blob_id_and_shipped_table(tmp_path: Path) -> None:
    f = tmp_path / "hello.txt"
    f.write_bytes(b"hello\n")
    assert git_blob_id(f) == "ce013625030ba8dba906f756967f9e9ca394464a"  # git hash-object
    table = read_blob_table()
    assert table["models/affectnet_emotions/enet_b0_7.pt"] == \
        "47b748b42622ae1489a389588e9526d44ab01009"
    assert all(upstream_path(n) in table for n in HSEMOTION_MODELS)
    assert table["models/affectnet_emotions/mobilenet_7.h5"] == \
        "3a3d5bb84506960a3ace7586b42b010623bae099"


def test_real_b0_layout_without_architecture_in_file(tmp_path: Path) -> None:
    """timm 0.6 objects may carry no ``pretrained_cfg``: the table's architecture is used."""
    torch.manual_seed(5)
    model = timm.create_model("efficientnet_b0", num_classes=8).eval()
    model.classifier = torch.nn.Sequential(torch.nn.Linear(model.num_features, 8))
    for attr in ("pretrained_cfg", "default_cfg"):
        if hasattr(model, attr):
            delattr(model, attr)
    path = save_legacy(model, tmp_path / "enet_b0_8_best_afew.pt")
    clf = load_hsemotion("enet_b0_8_best_afew", path=path,
                         blob_table=write_table(tmp_path / "t.txt", {"enet_b0_8_best_afew": path}))
    assert clf.info["architecture_in_file"] is None
    assert clf.info["timm_architecture"] == "efficientnet_b0" and clf.input_size == 224
    batch = images(2)
    with torch.inference_mode():
        raw = reference(model, 8, size=224).logits(batch).float()
    ref = torch.softmax(raw[:, [0, 2, 3, 4, 5, 6, 7]], 1).numpy()
    np.testing.assert_allclose(clf.predict_proba(batch), ref, atol=1e-5)

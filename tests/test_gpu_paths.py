"""The CUDA paths, checked where the CPU can stand in (no GPU here): the determinism flags on a
(patched) CUDA device, bf16 only where the GPU has it natively, the data path as a stated
decision from total memory, every model, loss and transform on the meta device with no CPU
tensor mixed in, and ``fit`` under CPU autocast in bf16 and in fp16 with a gradient scaler."""
from __future__ import annotations

import importlib
import math
import os
import warnings

import pytest
import torch

from emo_lib import device as device_mod
from emo_lib.augment import TRANSFORMS, make_transform
from emo_lib.balance import balanced_items
from emo_lib.compute_settings import CUBLAS_WORKSPACE, ComputeSettings
from emo_lib.losses import LOSS_NAMES, make_loss
from emo_lib.classifier import preprocess
from emo_lib.models.heads import replace_head
from emo_lib.models.zoo import MIN_INPUT_SIZE, ZOO_NAMES
from emo_lib.train import ArrayDataset, FitConfig, fit, seed_everything
from emo_lib.train import resident as resident_mod
from emo_lib.train.resident import DataPathError, decide_data_path
from toytrain import tiny_classifier, toy

fit_mod = importlib.import_module("emo_lib.train.fit")

CUDA = torch.device("cuda")


@pytest.fixture
def restore_flags(monkeypatch):
    """Put torch's global determinism flags and the environment back after the test."""
    before = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark,
              torch.are_deterministic_algorithms_enabled(),
              torch.is_deterministic_algorithms_warn_only_enabled())
    workspace = os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)   # set_determinism writes it
    monkeypatch.delenv("EMO_DETERMINISTIC", raising=False)
    yield
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = before[:2]
    torch.use_deterministic_algorithms(before[2], warn_only=before[3])
    os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
    if workspace is not None:
        os.environ["CUBLAS_WORKSPACE_CONFIG"] = workspace


# --------------------------------------------------------------------------- determinism

def test_seed_everything_makes_cuda_deterministic(restore_flags):
    torch.backends.cudnn.benchmark = True
    seed_everything(0, "cpu")      # the CPU needs no flags: nothing changes
    assert torch.backends.cudnn.benchmark and not torch.are_deterministic_algorithms_enabled()
    seed_everything(0, CUDA)
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.is_deterministic_algorithms_warn_only_enabled()   # VGG-16's pooling warns
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == CUBLAS_WORKSPACE


def test_deterministic_false_lets_cudnn_autotune(restore_flags, monkeypatch):
    monkeypatch.setenv("EMO_DETERMINISTIC", "0")
    assert device_mod.set_determinism(CUDA) is False
    assert torch.backends.cudnn.benchmark and not torch.backends.cudnn.deterministic
    assert not torch.are_deterministic_algorithms_enabled()
    monkeypatch.setenv("EMO_DETERMINISTIC", "maybe")
    with pytest.raises(ValueError, match="EMO_DETERMINISTIC=maybe"):
        device_mod.set_determinism(CUDA)


def test_fit_sets_the_flags_on_its_models_device(restore_flags, monkeypatch):
    seen = []
    monkeypatch.setattr(fit_mod, "set_determinism", lambda device: seen.append(device))
    x, y = toy()
    fit(tiny_classifier(("a", "b", "c")), ArrayDataset(x, y), config=FitConfig(epochs=1),
        progress=False)
    assert seen == [torch.device("cpu")]


def test_bf16_only_where_the_gpu_has_it(monkeypatch):
    calls = []

    def supported(including_emulation=True):
        calls.append(including_emulation)
        return including_emulation     # a V100: emulated only
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", supported)
    assert device_mod.bf16_supported() is False and calls == [False]
    model = tiny_classifier(("a", "b"))
    model.device = CUDA                 # _autocast only reads the device's type
    with warnings.catch_warnings():     # "CUDA is not available": the context is not entered
        warnings.simplefilter("ignore")
        _, dtype = fit_mod._autocast(model, amp=True)
    assert dtype == torch.float16       # fp16 with a gradient scaler, not emulated bf16


# --------------------------------------------------------------------------- device identity

def _stand_in_gpu(monkeypatch, name="NVIDIA H100 80GB HBM3", capability=(9, 0), gib=85):
    class Props:
        total_memory = gib * 2**30
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: name)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda i: capability)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: Props)
    monkeypatch.setattr(torch.backends.cudnn, "version", lambda: 91000)


def test_device_identity_of_the_cpu_and_a_gpu(monkeypatch):
    cpu = device_mod.device_identity("cpu")
    assert cpu == {"type": "cpu", "torch": torch.__version__,
                   "capability": torch.backends.cpu.get_cpu_capability(),
                   "threads": torch.get_num_threads(), "pin_cpu": None}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    unseen = device_mod.device_identity("cuda")      # a unit keyed for a cluster's GPUs
    assert unseen["name"] == device_mod.NOT_VISIBLE and unseen["deterministic"] is True
    _stand_in_gpu(monkeypatch)
    monkeypatch.setenv("EMO_DETERMINISTIC", "0")
    monkeypatch.setenv("EMO_DATA_PATH", "loader")
    gpu = device_mod.device_identity(CUDA)
    assert (gpu["name"], gpu["capability"], gpu["memory_gib"]) == \
        ("NVIDIA H100 80GB HBM3", "9.0", 85.0)
    assert gpu["deterministic"] is False and gpu["data_path"] == "loader"
    assert gpu["host"] == cpu and gpu["cudnn"] == 91000
    _stand_in_gpu(monkeypatch, "NVIDIA A100-SXM4-80GB", (8, 0))
    assert device_mod.device_identity(CUDA) != gpu     # another GPU: another key
    assert device_mod.describe_device(CUDA) == "cuda (NVIDIA A100-SXM4-80GB, compute 8.0)"


def test_describe_device_says_1_thread(monkeypatch):
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    assert device_mod.describe_device("cpu").endswith(", 1 thread)")
    monkeypatch.setattr(torch, "get_num_threads", lambda: 4)
    assert device_mod.describe_device("cpu").endswith(", 4 threads)")


def test_machine_description_names_capability_and_blas():
    m = device_mod.machine_description("cpu")
    assert m["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert m["blas"] and m["blas"] != "unknown" and m["numpy_blas"]
    assert m["gpu"] is None and m["threads"] == torch.get_num_threads()


# --------------------------------------------------------------------------- the data path

def _fixed_set(n=40, size=24):
    x, y = toy(n, size)
    return ArrayDataset(x, y, balanced_items(y, 20, ("rotation", "cutout"), seed=1),
                        item_seed=3)


def test_data_path_is_decided_from_total_memory_not_free_memory(monkeypatch):
    data = _fixed_set()
    needed = resident_mod.resident_bytes(data)

    def no_free_memory(*a, **k):
        raise AssertionError("free memory must not decide the data path")
    monkeypatch.setattr(torch.cuda, "mem_get_info", no_free_memory)
    monkeypatch.setattr(resident_mod, "device_memory", lambda d: 4 * needed)
    big = decide_data_path("auto", CUDA, [data, None])
    assert big.resident and big.needed_bytes == needed and "within 50%" in big.reason
    assert big.record()["data_path"] == "resident"
    monkeypatch.setattr(resident_mod, "device_memory", lambda d: needed)   # needs > half
    small = decide_data_path("auto", CUDA, [data, None])
    assert small.path == "loader" and "more than 50%" in small.reason
    with pytest.raises(DataPathError, match="cannot hold its data"):
        decide_data_path("resident", CUDA, [data, None])
    assert decide_data_path("loader", CUDA, [data, None]).path == "loader"


def test_data_path_on_the_cpu_and_for_fresh_draws():
    data = _fixed_set()
    assert decide_data_path("auto", "cpu", [data]).path == "loader"     # the reference path
    assert decide_data_path("resident", "cpu", [data]).resident
    x, y = toy()
    fresh = ArrayDataset(x, y, balanced_items(y, 20, ("rotation",), seed=1))   # no item_seed
    assert decide_data_path("auto", CUDA, [fresh]).path == "loader"
    with pytest.raises(DataPathError, match="fresh random transform"):
        decide_data_path("resident", CUDA, [fresh])
    with pytest.raises(ValueError, match="data path: disk"):
        decide_data_path("disk", "cpu", [data])


def test_fit_records_the_path_and_follows_the_setting(monkeypatch):
    data = _fixed_set()
    result = fit(tiny_classifier(("a", "b", "c"), 24), data, config=FitConfig(epochs=1),
                 progress=False)
    assert result.data_path.path == "loader" and result.data_path.policy == "auto"
    monkeypatch.setenv("EMO_DATA_PATH", "resident")
    result = fit(tiny_classifier(("a", "b", "c"), 24), data, config=FitConfig(epochs=1),
                 progress=False)
    assert result.data_path.resident and result.data_path.policy == "resident"


def test_a_resident_set_that_cannot_be_allocated_says_so(monkeypatch):
    data = _fixed_set()

    def oom(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory")
    monkeypatch.setattr(resident_mod.torch, "empty", oom)
    with pytest.raises(DataPathError, match="cannot hold its data on cpu.*data_path: loader"):
        resident_mod.ResidentSet(data, "cpu")


# --------------------------------------------------------------------------- the meta device

META = torch.device("meta")


@pytest.mark.parametrize("arch", ZOO_NAMES)
def test_every_paper_model_trains_a_step_on_the_meta_device(arch):
    size = max(224 if arch in ("efficientnet_b0", "vgg16") else 64, MIN_INPUT_SIZE.get(arch, 16))
    import torchvision

    with META:
        module = torchvision.models.get_model(arch, weights=None)
        replace_head(module, arch, 8)
    module = module.to(memory_format=torch.channels_last)
    batch = torch.zeros((2, size, size, 3), dtype=torch.uint8, device=META)
    x = preprocess(batch, size, device=META)
    logits = module(x)
    assert logits.device == META and tuple(logits.shape) == (2, 8)
    loss = make_loss("focal").to(META)(logits.float(), torch.zeros(2, dtype=torch.long,
                                                                   device=META))
    loss.backward()   # a CPU tensor anywhere on the way raises "expected all tensors ..."
    assert all(p.grad is None or p.grad.device == META for p in module.parameters())


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_every_loss_moves_with_the_model(name):
    loss = make_loss(name, class_counts=[30, 10, 5]).to(META)
    assert all(b.device == META for b in loss.buffers())
    logits = torch.zeros((4, 3), device=META, requires_grad=True)
    out = loss(logits, torch.zeros(4, dtype=torch.long, device=META))
    assert out.device == META


@pytest.mark.parametrize("name", TRANSFORMS)
def test_every_transform_stays_on_the_device(name):
    # The resident path transforms items on the device; the meta device shows a transform
    # creates no CPU tensor on the way.
    image = torch.zeros((3, 64, 64), dtype=torch.uint8, device=META)
    torch.manual_seed(0)
    out = make_transform(name, 64)(image)
    assert out.device == META and out.dtype == torch.uint8


# --------------------------------------------------------------------------- autocast

@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_fit_under_cpu_autocast(dtype, monkeypatch):
    """fit's mixed-precision branch, with the CPU standing in for CUDA: the loss stays float32,
    fp16 goes through a gradient scaler, and the model learns."""
    scalers = []
    real = torch.amp.GradScaler

    def scaler(device_type, *a, **k):
        scalers.append(device_type)
        return real(device_type, *a, **k)
    monkeypatch.setattr(fit_mod, "_autocast",
                        lambda model, amp: (torch.autocast("cpu", dtype=dtype), dtype))
    monkeypatch.setattr(torch.amp, "GradScaler", scaler)
    x, y = toy()
    model = tiny_classifier(("a", "b", "c"))
    result = fit(model, ArrayDataset(x, y), ArrayDataset(x, y),
                 config=FitConfig(epochs=4, lr=0.05, batch_size=8), progress=False)
    assert scalers == (["cpu"] if dtype == torch.float16 else [])
    assert all(math.isfinite(v) for v in result.history["train_loss"])
    assert result.history["train_loss"].iloc[-1] < result.history["train_loss"].iloc[0]
    assert all(p.dtype == torch.float32 for p in model.module.parameters())


def test_compute_settings_round_trip_through_the_environment(monkeypatch):
    settings = ComputeSettings(deterministic=False, pin_cpu="avx2", data_path="loader")
    env = settings.environment()
    assert env["ATEN_CPU_CAPABILITY"] == "avx2" and env["ONEDNN_MAX_CPU_ISA"] == "AVX2"
    assert env["MKL_CBWR"] == "AVX2" and "CUBLAS_WORKSPACE_CONFIG" not in env  # not deterministic
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert ComputeSettings.from_env() == settings
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    assert ComputeSettings().environment()["CUBLAS_WORKSPACE_CONFIG"] == CUBLAS_WORKSPACE
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8")      # the caller's own choice
    assert ComputeSettings().environment()["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"
    with pytest.raises(ValueError, match="pin cpu: avx9"):
        ComputeSettings(pin_cpu="avx9")
    with pytest.raises(ValueError, match="unknown key.* speed"):
        ComputeSettings.from_profile({"speed": 1})
    assert ComputeSettings.from_profile({"pin_cpu": "none"}).pin_cpu is None


def test_a_worker_refuses_a_unit_keyed_for_another_gpu(monkeypatch):
    from emo_lib.train.executors import check_device
    from emo_lib.train.units import Unit

    def unit(device):
        return Unit("jeong2021.fold", {"device": device, "spec": {}}, 0)

    check_device(unit(device_mod.device_identity("cpu")))          # the CPU: nothing to check
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    keyed_blind = device_mod.device_identity("cuda")
    with pytest.raises(ValueError, match="has none"):
        check_device(unit(keyed_blind))
    _stand_in_gpu(monkeypatch, "NVIDIA H100 80GB HBM3", (9, 0))
    check_device(unit(keyed_blind))        # keyed on a login node: any GPU computes it
    h100 = device_mod.device_identity(CUDA)
    check_device(unit(h100))
    _stand_in_gpu(monkeypatch, "NVIDIA A100-SXM4-80GB", (8, 0))
    with pytest.raises(ValueError, match="name 'NVIDIA H100 80GB HBM3' .here 'NVIDIA A100"):
        check_device(unit(h100))

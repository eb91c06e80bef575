"""The conda environment and the pip project describe the same packages and versions."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    assert m, req
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_reqs = dict(_split(r) for r in project["dependencies"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip_section = {}, {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip_section.update(_split(r) for r in dep["pip"])
        else:
            name, spec = _split(dep.replace("=", "==", 1) if re.match(r"^[\w\-]+=[^=]", dep) else dep)
            conda[name] = spec
    conda.pop("python"), conda.pop("pip")
    env_reqs = conda | pip_section
    assert set(env_reqs) == set(pip_reqs), (
        f"only in environment.yml: {sorted(set(env_reqs) - set(pip_reqs))}; "
        f"only in pyproject.toml: {sorted(set(pip_reqs) - set(env_reqs))}")
    for name, spec in pip_reqs.items():
        assert env_reqs[name] == spec, f"{name}: pyproject {spec!r} vs environment.yml {env_reqs[name]!r}"


def test_lock_pins_every_dependency_and_the_torch_pair():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = [l for l in (ROOT / "requirements-lock.txt").read_text().splitlines()
             if l and not l.startswith("#")]
    pinned = dict(_split(l) for l in lines)
    for req in project["dependencies"]:
        name, spec = _split(req)
        assert name in pinned, f"{name} is not pinned in requirements-lock.txt (run make lock)"
        assert pinned[name].startswith("=="), f"{name} lock entry is not an exact pin"
        if spec.startswith("=="):
            assert pinned[name] == spec, f"{name}: lock {pinned[name]} vs pyproject {spec}"

"""Re-executing a page as notebook users do, with real clients: JupyterLab started as `make lab`
starts it (on a free loopback port), its REST API lists notebooks/ and opens a percent source as
a notebook (jupytext), and a page's first cells run on an `emo-lib` kernel through the kernel
protocol (a websocket), with a parameter changed as a reader would."""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import nbformat
import pytest

from emo_lib.layout import book_notebooks
from emo_lib.runner.execute import ensure_kernel

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PAGE = "synthetic_gallery"      # a page whose set-up cell is quick


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab_command() -> list[str]:
    """What `make lab` runs (its JupyterLab command line), with this interpreter's bin/."""
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    dry = subprocess.run(["make", "-n", "-o", ".venv/.installed-lab", "-o", "kernel", "lab"],
                         cwd=ROOT, capture_output=True, text=True, env={
                             k: v for k, v in os.environ.items()
                             if k not in ("DISPLAY", "WAYLAND_DISPLAY")})
    assert dry.returncode == 0, dry.stderr
    (line,) = [cmd for cmd in dry.stdout.splitlines() if " lab " in f"{cmd} "]
    argv = shlex.split(line)
    assert argv[0] == ".venv/bin/jupyter", argv
    return [str(BIN / "jupyter"), *argv[1:]]


class Lab:
    """A JupyterLab server and the REST calls the tests make to it."""

    def __init__(self, port: int, token: str, log: Path, process: subprocess.Popen) -> None:
        self.base, self.token, self.log, self.process = f"http://127.0.0.1:{port}", token, log, \
            process

    def get(self, path: str, token: bool = True) -> tuple[int, dict | str]:
        return self._call("GET", path, None, token)

    def post(self, path: str, body: dict) -> tuple[int, dict | str]:
        return self._call("POST", path, body, True)

    def delete(self, path: str) -> int:
        return self._call("DELETE", path, None, True)[0]

    def _call(self, method: str, path: str, body: dict | None, token: bool):
        request = urllib.request.Request(self.base + path, method=method,
                                         data=None if body is None else json.dumps(body).encode())
        if token:
            request.add_header("Authorization", f"token {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                text = response.read().decode()
                kind = response.headers.get("Content-Type", "")
                return response.status, json.loads(text) if "json" in kind and text else text
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory):
    if not (BIN / "jupyter-lab").exists():
        pytest.fail(f"JupyterLab is not installed in {BIN}: `make test` installs it (the test "
                    "extra of pyproject.toml)")
    ensure_kernel()
    tmp = tmp_path_factory.mktemp("lab")
    port = _free_port()
    env = dict(os.environ)
    # The kernel inherits these: results and caches stay out of the repository; no user-level
    # Jupyter configuration or kernel shadows the project's.
    env.update(EMO_RESULTS=str(tmp / "results"), EMO_CACHE=str(tmp / "cache"),
               JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_DATA_DIR=str(tmp / "data"),
               JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    log = tmp / "lab.log"
    # As `make lab` starts it (its token generated and printed), on a port of its own.
    command = lab_command() + [f"--ServerApp.port={port}", "--ServerApp.port_retries=0"]
    printed = re.compile(rf"http://127\.0\.0\.1:{port}/lab\?token=([0-9a-f]+)")
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited ({process.returncode}):\n{log.read_text()[-3000:]}")
            token = printed.search(log.read_text())
            try:
                if token and Lab(port, token.group(1), log, process).get("/api/status")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer in 180 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield Lab(port, token.group(1), log, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def test_make_lab_serves_notebooks_on_loopback_and_prints_its_token(lab):
    command = lab_command()
    assert "--ServerApp.root_dir=notebooks" in command
    assert "--ServerApp.ip=127.0.0.1" in command and "--no-browser" in command
    assert len(lab.token) >= 32, "the printed token (read from the log to make every call)"
    status, page = lab.get("/lab")
    assert status == 200 and "JupyterLab" in page
    assert lab.get("/api/contents", token=False)[0] == 403, "nothing without the token"


def test_the_api_lists_every_page_notebook_and_the_sources(lab):
    status, listing = lab.get("/api/contents?content=1")
    assert status == 200
    entries = {item["name"]: item["type"] for item in listing["content"]}
    for name in book_notebooks():
        assert entries.get(f"{name}.ipynb") == "notebook", name
    assert entries.get("src") == "directory"


def test_a_percent_source_opens_as_the_same_notebook(lab):
    """The jupytext extension serves notebooks/src/<name>.py as a notebook, cell for cell the
    notebooks/<name>.ipynb that papermill runs."""
    status, model = lab.get(f"/api/contents/src/{PAGE}.py?type=notebook&content=1")
    assert status == 200, model
    assert model["type"] == "notebook"
    served = [(c["cell_type"], c["source"]) for c in model["content"]["cells"]]
    nb = nbformat.read(ROOT / "notebooks" / f"{PAGE}.ipynb", as_version=4)
    assert served == [(c.cell_type, c.source) for c in nb.cells]


def _execute(ws, session: str, code: str, timeout: float = 300) -> dict:
    """Run ``code`` on the kernel behind websocket ``ws``; the reply and what it displayed."""
    msg_id = uuid.uuid4().hex
    ws.send(json.dumps({
        "header": {"msg_id": msg_id, "username": "test", "session": session,
                   "msg_type": "execute_request", "version": "5.3"},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": True,
                    "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
    result = {"status": None, "text": [], "error": None}
    idle = False
    deadline = time.monotonic() + timeout
    while not (idle and result["status"]):
        ws.settimeout(max(1.0, deadline - time.monotonic()))
        msg = json.loads(ws.recv())
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "execute_reply":
            result["status"] = content["status"]
        elif kind == "status" and content["execution_state"] == "idle":
            idle = True
        elif kind == "stream":
            result["text"].append(content["text"])
        elif kind in ("display_data", "execute_result"):
            result["text"].append(content["data"].get("text/plain", ""))
            result["text"].append(content["data"].get("text/markdown", ""))
        elif kind == "error":
            result["error"] = f"{content['ename']}: {content['evalue']}"
    result["text"] = "".join(result["text"])
    return result


def test_a_page_runs_on_the_emo_lib_kernel_with_a_parameter_changed(lab):
    import websocket

    status, specs = lab.get("/api/kernelspecs")
    assert status == 200 and "emo-lib" in specs["kernelspecs"]
    status, session = lab.post("/api/sessions", {"path": f"{PAGE}.ipynb", "type": "notebook",
                                                 "name": f"{PAGE}.ipynb",
                                                 "kernel": {"name": "emo-lib"}})
    assert status == 201, session
    kernel = session["kernel"]["id"]
    ws = websocket.create_connection(
        f"ws://{lab.base.split('//', 1)[1]}/api/kernels/{kernel}/channels",
        header=[f"Authorization: token {lab.token}"], timeout=60)
    try:
        nb = nbformat.read(ROOT / "notebooks" / f"{PAGE}.ipynb", as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        tags = [c.metadata.get("tags", []) for c in code]
        assert "colab-install" in tags[0] and "parameters" in tags[1]
        client = uuid.uuid4().hex
        first = _execute(ws, client, code[0].source)       # the Colab cell: nothing to do here
        assert (first["status"], first["error"], first["text"]) == ("ok", None, "")
        # The reader changes the parameters cell, then runs the set-up cell.
        params = code[1].source.replace("seed = 0", "seed = 3")
        assert params != code[1].source
        assert _execute(ws, client, params)["status"] == "ok"
        setup = _execute(ws, client, code[2].source)
        assert setup["status"] == "ok", setup["error"]
        assert "Synthetic faces" in setup["text"], setup["text"][:2000]
        assert "gallery_size" in setup["text"], "the parameters table"
        where = _execute(ws, client, "import sys, os, emo_lib\n"
                                     "print(sys.prefix); print(os.getcwd()); print(seed)")
        prefix, cwd, seed = where["text"].split()
        assert Path(prefix).resolve() == Path(sys.prefix).resolve(), "the project's environment"
        assert Path(cwd).resolve() == (ROOT / "notebooks").resolve()
        assert seed == "3"
    finally:
        ws.close()
        lab.delete(f"/api/sessions/{session['id']}")

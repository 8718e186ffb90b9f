"""The container image: its Dockerfile lints clean, and its steps serve the seeded API.

No Docker engine is needed. The second test replays what the image does: it copies the paths
the Dockerfile's COPY lines name into a temporary folder, installs the runtime lock into a
fresh virtual environment, runs `scripts/start.sh` (the image's CMD) and asks the API.
Every wait is bounded by the timeouts below, so the test cannot hang.
"""

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
from pathlib import Path

import yaml

from tests.ops_helpers import stop_process

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
HADOLINT = Path(sys.executable).parent / "hadolint"

HADOLINT_TIMEOUT = 60  # seconds
VENV_TIMEOUT = 120
PIP_TIMEOUT = 600
READY_TIMEOUT = 60  # migrate, load the seed and start serving
REQUEST_TIMEOUT = 5
STOP_TIMEOUT = 15
# Settings the app reads from the environment: the test sets its own, never inherits them.
APP_SETTINGS = ("DATABASE_URL", "SEED_DIR", "DB_TIMEOUT_SECONDS", "POOL_SIZE", "CORS_ORIGINS")


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in dockerfile.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        result.append((keyword.upper(), args.strip()))
        pending = ""
    return result


def final_stage(dockerfile: Path) -> list[tuple[str, str]]:
    steps = instructions(dockerfile)
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from + 1 :]


def copied_paths(dockerfile: Path) -> list[tuple[str, str | None]]:
    """(source path, --chmod mode) for each path the final image copies from the build context."""
    copied: list[tuple[str, str | None]] = []
    for keyword, args in final_stage(dockerfile):
        if keyword not in ("COPY", "ADD"):
            continue
        words = json.loads(args) if args.startswith("[") else shlex.split(args)
        flags = dict(w[2:].partition("=")[::2] for w in words if w.startswith("--"))
        if "from" in flags:  # from another stage, not from the repository
            continue
        *sources, _destination = [w for w in words if not w.startswith("--")]
        copied.extend((source, flags.get("chmod")) for source in sources)
    return copied


def requirements_file(dockerfile: Path) -> str:
    """The file the Dockerfile's `pip install -r FILE` installs (its name in the repository)."""
    for keyword, args in instructions(dockerfile):
        match = re.search(r"pip install\b.*?(?:-r|--requirement)[ =](\S+)", args)
        if keyword == "RUN" and match:
            return Path(match.group(1)).name
    raise AssertionError("the Dockerfile installs no requirements file with pip install -r")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(url: str) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(url, timeout=REQUEST_TIMEOUT) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def test_hadolint_passes() -> None:
    assert HADOLINT.exists(), f"hadolint not found at {HADOLINT}: install requirements-dev.lock"
    result = subprocess.run(
        [str(HADOLINT), str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=HADOLINT_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "" and result.stderr == ""


def test_compose_file_wires_api_to_healthy_postgres() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    db, api = compose["services"]["db"], compose["services"]["api"]
    assert db["image"].startswith("postgres:15")
    assert "healthcheck" in db
    assert api["build"] == "."
    assert api["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert api["depends_on"]["db"]["condition"] == "service_healthy"
    assert "8000:8000" in api["ports"]


def test_image_steps_in_a_clean_virtual_environment(tmp_path: Path) -> None:
    # The image's files: only what the Dockerfile copies from the repository.
    image = tmp_path / "app"
    image.mkdir()
    copied = copied_paths(DOCKERFILE)
    sources = {Path(source).as_posix().rstrip("/") for source, _ in copied}
    assert {"app", "scripts/start.sh", "requirements.lock"} <= sources, sources
    for source, mode in copied:
        origin, target = ROOT / source, image / source
        target.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(origin, target, ignore=ignore, dirs_exist_ok=True)
        else:
            shutil.copy2(origin, target)
        if mode is not None:
            target.chmod(int(mode, 8))

    # A fresh virtual environment with the runtime lock, as the Dockerfile installs it.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=VENV_TIMEOUT)
    subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "-q",
            "-r",
            str(image / requirements_file(DOCKERFILE)),
        ],
        check=True,
        capture_output=True,
        timeout=PIP_TIMEOUT,
    )

    # The image's CMD, with the fresh venv first on PATH and nothing from the repository's.
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in APP_SETTINGS}
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
        env.pop(name, None)
    repo_bin = str(Path(sys.executable).parent)
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != repo_bin]
    env.update(
        PATH=os.pathsep.join([str(venv / "bin"), *path]),
        DATABASE_URL=f"sqlite:///{tmp_path / 'facts.sqlite3'}",
        HOST="127.0.0.1",
        PORT=str(port),
        WORKERS="1",
    )
    log_path = tmp_path / "server.log"
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(image / "scripts" / "start.sh")],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        ready: tuple[int, object] | None = None
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(
                    f"start.sh exited with {process.returncode}:\n{log_path.read_text()}"
                )
            try:
                ready = get_json(f"{base}/ready")
            except (OSError, ValueError):
                ready = None
            if ready is not None and ready[0] == 200:
                break
            time.sleep(0.5)
        assert ready is not None and ready[0] == 200, (
            f"/ready did not answer 200 within {READY_TIMEOUT} s (last: {ready}):\n"
            f"{log_path.read_text()}"
        )
        body = ready[1]
        assert isinstance(body, dict) and body["status"] == "ready", body

        status, dialogue = get_json(f"{base}/dialogues/6")
        assert status == 200, dialogue
        assert isinstance(dialogue, dict) and dialogue["date"] == "2025-03-22", dialogue
    finally:
        stop_process(process, STOP_TIMEOUT)

"""Real processes for the operations tests: API servers, loaders and a private PostgreSQL.

Everything here starts a process on 127.0.0.1 and bounds every wait by a timeout; every
context manager stops what it started (by process id or process group id) even on failure.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
SEED_DIR = ROOT / "seed"
READOUT = "readout-2025-03-22.yaml"
PYTHON = sys.executable

START_TIMEOUT = 30.0  # a server answers /health (imports, app build) within this
STOP_TIMEOUT = 10.0
LOADER_TIMEOUT = 60.0
REQUEST_TIMEOUT = 10.0
PG_TIMEOUT = 30  # initdb, pg_ctl start and stop

# Settings the app reads from the environment: a test sets its own, never inherits them.
APP_SETTINGS = (
    "DATABASE_URL",
    "READ_DATABASE_URL",
    "SEED_DIR",
    "DB_TIMEOUT_SECONDS",
    "POOL_SIZE",
    "MAX_OVERFLOW",
    "CORS_ORIGINS",
    "LOG_FORMAT",
    "ACCESS_LOG",
    "CACHE_BYTES",
    "RATE_LIMIT_PER_MINUTE",
    "VERSION_POLL_SECONDS",
)

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app_env(**settings: str) -> dict[str, str]:
    """The environment for an app process: ours without app settings, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if k.upper() not in APP_SETTINGS}
    env.update(ACCESS_LOG="false", PYTHONUNBUFFERED="1")
    env.update(settings)
    return env


def wait_until(check: Callable[[], T | None], timeout: float, what: str, every: float = 0.1) -> T:
    """Call `check` until it returns something other than None; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            result = check()
        except (httpx.HTTPError, OSError) as exc:
            result, last_error = None, exc
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} ({last_error!r})")
        time.sleep(every)


def stop_process(process: subprocess.Popen[Any], timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM the process group we created for `process`, then SIGKILL; reap it."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; give its children (uvicorn workers) a moment, then kill them.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        return


# --- the API server ------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_workers(self, workers: int, timeout: float = START_TIMEOUT) -> None:
        """Wait until `workers` worker processes have finished starting (per the log)."""

        def started() -> bool | None:
            done = self.output().count("Application startup complete.")
            return True if done >= workers else None

        wait_until(started, timeout, f"{workers} workers to start")


def server_command(port: int, workers: int = 1) -> list[str]:
    # The README's serve command: it checks the settings before uvicorn starts its workers.
    return [
        PYTHON,
        "-m",
        "app.serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


def spawn_server(
    folder: Path, env: dict[str, str], workers: int = 1, port: int | None = None
) -> Server:
    port = port or free_port()
    log = folder / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            server_command(port, workers),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(process, port, log)


@contextlib.contextmanager
def serve(folder: Path, database_url: str, workers: int = 1, **settings: str) -> Iterator[Server]:
    """An API server on a free port, answering /health; stopped afterwards, whatever happens."""
    server = spawn_server(folder, app_env(DATABASE_URL=database_url, **settings), workers)
    try:

        def healthy() -> bool | None:
            if server.process.poll() is not None:
                raise AssertionError(
                    f"the server exited with {server.process.returncode}:\n{server.output()}"
                )
            response = httpx.get(f"{server.base}/health", timeout=2)
            return True if response.status_code == 200 else None

        wait_until(healthy, START_TIMEOUT, f"{server.base}/health")
        yield server
    finally:
        stop_process(server.process)


# --- the loader ----------------------------------------------------------------------------


def loader_command(seed: Path, database_url: str) -> list[str]:
    return [PYTHON, "-m", "app.seed", "load", "--seed", str(seed), "--database-url", database_url]


def start_loader(seed: Path, database_url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        loader_command(seed, database_url),
        cwd=ROOT,
        env=app_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def run_loader(seed: Path, database_url: str) -> str:
    """Load `seed` with the real command; its stdout (it must exit 0)."""
    process = start_loader(seed, database_url)
    try:
        out, err = process.communicate(timeout=LOADER_TIMEOUT)
    finally:
        stop_process(process)
    assert process.returncode == 0, f"loader exited {process.returncode}:\n{out}\n{err}"
    return out


def changed_seed(folder: Path) -> Path:
    """A copy of the seed with one commitment dropped: a valid seed, a new dataset version."""
    seed = folder / "seed-changed"
    shutil.copytree(SEED_DIR, seed)
    path = seed / READOUT
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["commitments"].pop()
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return seed


# --- a private PostgreSQL cluster ----------------------------------------------------------


def postgres_bin() -> Path | None:
    """The folder holding initdb and pg_ctl: $PG_BIN, Debian's layout, or the PATH."""
    candidates = [os.environ.get("PG_BIN", "")]
    candidates += sorted(
        (str(p) for p in Path("/usr/lib/postgresql").glob("*/bin")),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    which = shutil.which("pg_ctl")
    candidates += [str(Path(which).parent)] if which else []
    for folder in candidates:
        if folder and all((Path(folder) / tool).is_file() for tool in ("initdb", "pg_ctl")):
            return Path(folder)
    return None


def cluster_unavailable() -> str | None:
    """Why a private cluster cannot be made here (None when it can)."""
    if postgres_bin() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) not found; set PG_BIN"
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "running as root, and runuser is missing to run initdb as postgres"
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, and there is no postgres OS user to own the cluster"
    return None


class PrivateCluster:
    """A throwaway PostgreSQL cluster in a temporary folder, on a free loopback port.

    initdb refuses to run as root, so as root every server command runs as `postgres`."""

    def __init__(self) -> None:
        found = postgres_bin()
        assert found is not None
        self.bin = found
        self.folder = Path(tempfile.mkdtemp(prefix="facts-pg-", dir="/tmp"))
        self.data = self.folder / "data"
        self.logfile = self.folder / "postgres.log"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=PG_TIMEOUT + 10,
            check=False,
            stdin=subprocess.DEVNULL,
        )

    def _check(self, result: subprocess.CompletedProcess[str], what: str) -> None:
        log = self.logfile.read_text(errors="replace") if self.logfile.exists() else ""
        assert result.returncode == 0, f"{what} failed:\n{result.stdout}{result.stderr}\n{log}"

    def init(self) -> None:
        args = ["-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        result = self._run("initdb", *args, "--no-sync")
        self._check(result, "initdb")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        args = ["-D", str(self.data), "-l", str(self.logfile), "-o", options]
        result = self._run("pg_ctl", *args, "-w", "-t", str(PG_TIMEOUT), "start")
        self._check(result, "pg_ctl start")

    def stop(self, mode: str = "immediate") -> None:
        result = self._run(
            "pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", str(PG_TIMEOUT), "stop"
        )
        self._check(result, f"pg_ctl stop -m {mode}")

    def postmaster_pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.data / "postmaster.pid").read_text().split()[0])
        return None

    def processes(self) -> list[int]:
        """The postmaster and its children (the backends and auxiliary processes)."""
        pid = self.postmaster_pid()
        if pid is None:
            return []
        found = [pid]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                # pid (comm) state ppid ...: comm may hold spaces, so split after its ')'
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(stat.parent.name))
        return found

    def signal_all(self, sig: signal.Signals) -> None:
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        import psycopg

        dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres connect_timeout=5"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def remove(self) -> None:
        """Stop the cluster if it runs (its postmaster by pid if pg_ctl cannot), delete it."""
        if (self.data / "postmaster.pid").exists():
            self.signal_all(signal.SIGCONT)  # a frozen cluster cannot shut down
            result = self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            pid = self.postmaster_pid()
            if result.returncode != 0 and pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGQUIT)  # the postmaster's immediate shutdown
                with contextlib.suppress(AssertionError):
                    wait_until(lambda: None if _alive(pid) else True, PG_TIMEOUT, "postmaster")
        shutil.rmtree(self.folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@contextlib.contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    cluster = PrivateCluster()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.remove()

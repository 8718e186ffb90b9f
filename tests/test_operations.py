"""Operations, for real: replicas loading together, a reload under load, database faults,
broken SQLite files and bad configuration.

Every test runs real processes (`python -m app.seed load`, uvicorn) on free loopback ports
and bounds every wait; whatever it started is stopped in a `finally`, even on failure.
"""

import hashlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select

from app.db import make_engine
from app.main import create_app
from app.models import DatasetVersion
from app.seed.load import load
from app.settings import Settings
from tests.conftest import PG_URL, fresh_database
from tests.ops_helpers import (
    ROOT,
    SEED_DIR,
    app_env,
    changed_seed,
    cluster_unavailable,
    free_port,
    private_cluster,
    run_loader,
    serve,
    server_command,
    start_loader,
    stop_process,
    wait_until,
)

LOADERS = 3
REQUEST_TIMEOUT = 10.0
NEEDS_PG = pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: TEST_DATABASE_URL is not set")
PROBLEM = "application/problem+json"

# The reload under load.
HAMMERED = ("/commitments?limit=100", "/dialogues/6", "/meta", "/health")
THREADS = 8
WARM_UP = 1.5  # seconds of version-1 traffic before the loader starts
SETTLE = 3.0  # seconds of traffic after the loader exits
MAX_PER_THREAD = 2000  # the loop is bounded even if the clock misbehaves
NEW_CONNECTION_EVERY = 10  # `Connection: close` now and then, so every worker gets connections
SWITCH_WITHIN = 2.0  # seconds after the loader exits, every response is version 2
POLL_SECONDS = 0.5  # VERSION_POLL_SECONDS's default

# Database faults.
DB_TIMEOUT = 2.0
FAULT_ANSWER_WITHIN = DB_TIMEOUT + 3.0
RECOVER_WITHIN = 20.0
DATA_PATHS = ("/dialogues/6", "/commitments", "/commitments?limit=100", "/meta")
WARM_PATHS = ("/dialogues/5", "/commitments?limit=1")
FROZEN_REQUESTS = 4


def client_for(base: str, **kwargs: Any) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT, **kwargs)


def dataset_rows(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            table = DatasetVersion.__table__  # type: ignore[attr-defined]
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()


def assert_problem(response: httpx.Response, status: int, elapsed: float | None = None) -> None:
    where = f"{response.request.method} {response.request.url.path}"
    text = response.text
    assert response.status_code == status, f"{where}: {response.status_code} {text[:500]}"
    assert response.headers["content-type"].startswith(PROBLEM), (where, response.headers)
    assert "Traceback" not in text and 'File "' not in text, text[:2000]
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"], body
    if elapsed is not None:
        assert elapsed < FAULT_ANSWER_WITHIN, f"{where} took {elapsed:.2f} s"


def timed_get(client: httpx.Client, path: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = client.get(path)
    return response, time.monotonic() - started


def timed_or_error(client: httpx.Client, path: str) -> tuple[int | str, float]:
    """(status, seconds); a client-side timeout or error as its exception's name."""
    started = time.monotonic()
    try:
        status: int | str = client.get(path).status_code
    except httpx.HTTPError as exc:
        status = type(exc).__name__
    return status, round(time.monotonic() - started, 3)


# --- 1. replicas starting together ---------------------------------------------------------


@NEEDS_PG
def test_replicas_starting_together_load_the_seed_once(tmp_path: Path) -> None:
    with fresh_database("postgresql", tmp_path) as url:
        loaders = [start_loader(SEED_DIR, url) for _ in range(LOADERS)]
        try:
            outputs = [process.communicate(timeout=60) for process in loaders]
        finally:
            for process in loaders:
                stop_process(process)
        report = "\n".join(
            f"exit {p.returncode}: {o!r} {e!r}" for p, (o, e) in zip(loaders, outputs, strict=True)
        )
        assert [p.returncode for p in loaders] == [0] * LOADERS, report
        said = [out.strip() for out, _ in outputs]
        assert said.count("dataset version 1: loaded") == 1, report
        assert said.count("dataset version 1: already loaded, nothing changed") == LOADERS - 1, (
            report
        )
        assert dataset_rows(url) == 1

        with serve(tmp_path, url) as server, client_for(server.base) as client:
            ready = client.get("/ready")
            assert ready.status_code == 200, ready.text
            assert ready.json()["dataset_version"] == 1
            dialogue = client.get("/dialogues/6")
            assert dialogue.status_code == 200, dialogue.text
            assert dialogue.headers["x-dataset-version"] == "1"
            assert dialogue.json()["date"] == "2025-03-22"


# --- 2. a reload under load ----------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    path: str
    status: int | None  # None: the request failed (the error says how)
    version: str | None
    digest: bytes
    at: float  # time.monotonic() when the whole response had arrived
    error: str | None = None


def digest(body: bytes) -> bytes:
    return hashlib.sha256(body).digest()


def bodies_now(base: str, expect_version: str) -> dict[str, bytes]:
    """Each hammered path's body digest, asked a few times on new connections (so of every
    worker): all answers must agree, and be of `expect_version`."""
    found: dict[str, bytes] = {}
    with client_for(base, headers={"Accept-Encoding": "identity", "Connection": "close"}) as c:
        for path in HAMMERED:
            for _ in range(6):
                response = c.get(path)
                assert response.status_code == 200, (path, response.text[:500])
                assert response.headers["x-dataset-version"] == expect_version, path
                assert found.setdefault(path, digest(response.content)) == digest(
                    response.content
                ), f"{path}: two answers of one dataset version differ"
    return found


def hammer(client: httpx.Client, stop: threading.Event, hits: list[Hit], offset: int) -> None:
    for n in range(MAX_PER_THREAD):
        if stop.is_set():
            return
        path = HAMMERED[(n + offset) % len(HAMMERED)]
        headers = {"Connection": "close"} if n % NEW_CONNECTION_EVERY == 0 else None
        try:
            response = client.get(path, headers=headers)
        except httpx.HTTPError as exc:
            hits.append(Hit(path, None, None, b"", time.monotonic(), repr(exc)))
            continue
        version = response.headers.get("x-dataset-version")
        received = time.monotonic()
        hits.append(Hit(path, response.status_code, version, digest(response.content), received))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_reload_under_load_serves_whole_datasets_and_switches_fast(
    backend: str, tmp_path: Path
) -> None:
    if backend == "postgresql" and not PG_URL:
        pytest.skip("PostgreSQL only: TEST_DATABASE_URL is not set")
    new_seed = changed_seed(tmp_path)
    with fresh_database(backend, tmp_path) as url:
        engine = make_engine(url)
        try:
            assert load(engine, SEED_DIR).version == 1
        finally:
            engine.dispose()

        with serve(tmp_path, url, workers=2) as server:
            # Both workers up, and each past its first version poll (a worker that has not
            # looked at the database yet stamps 0 on /health).
            server.wait_for_workers(2)
            time.sleep(POLL_SECONDS * 2)
            v1 = bodies_now(server.base, "1")
            hits: list[Hit] = []
            stop = threading.Event()
            limits = httpx.Limits(max_connections=THREADS, max_keepalive_connections=THREADS)
            headers = {"Accept-Encoding": "identity"}
            with client_for(server.base, limits=limits, headers=headers) as client:
                threads = [
                    threading.Thread(target=hammer, args=(client, stop, hits, i), daemon=True)
                    for i in range(THREADS)
                ]
                loader: subprocess.Popen[str] | None = None
                try:
                    for thread in threads:
                        thread.start()
                    time.sleep(WARM_UP)
                    loader_started = time.monotonic()
                    loader = start_loader(new_seed, url)
                    out, err = loader.communicate(timeout=60)
                    loader_exited = time.monotonic()
                    time.sleep(SETTLE)
                finally:
                    stop.set()
                    for thread in threads:
                        thread.join(timeout=REQUEST_TIMEOUT + 5)
                    if loader is not None:
                        stop_process(loader)
                assert not any(t.is_alive() for t in threads), "a client thread did not finish"
            assert loader.returncode == 0, f"loader: {out}\n{err}"
            assert out.strip() == "dataset version 2: loaded", out
            v2 = bodies_now(server.base, "2")

    for path in ("/commitments?limit=100", "/dialogues/6", "/meta"):
        assert v1[path] != v2[path], f"{path}: the changed seed should change this body"
    expected = {path: {"1": v1[path], "2": v2[path]} for path in HAMMERED}

    failed = [h for h in hits if h.status != 200]
    assert not failed, f"{len(failed)} of {len(hits)} requests failed, e.g. {failed[:5]}"
    torn = [h for h in hits if expected[h.path].get(h.version or "") != h.digest]
    assert not torn, f"{len(torn)} responses not wholly of the version they name: {torn[:5]}"

    ones = [h for h in hits if h.version == "1"]
    after = [h for h in hits if h.at > loader_exited]
    assert ones, "no version-1 response at all"
    last_one = max(h.at for h in ones)
    summary = (
        f"{backend}: {len(hits)} requests in {hits[-1].at - hits[0].at:.1f} s "
        f"({len(after)} after the loader exited); loader ran {loader_exited - loader_started:.2f} s; "
        f"last version-1 response {last_one - loader_exited:+.3f} s after the loader exited"
    )
    print(summary)
    assert len(hits) >= 500, summary
    assert len(after) >= 100, summary
    assert ones and ones[0].at < loader_started, summary
    assert last_one - loader_exited < SWITCH_WITHIN, summary
    for path in HAMMERED:
        assert any(h.path == path and h.version == "2" for h in after), (path, summary)


def test_a_fresh_worker_stamps_the_loaded_version_from_its_first_answer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'facts.sqlite3'}"
    assert run_loader(SEED_DIR, url).strip() == "dataset version 1: loaded"
    # A long poll interval, so only what the worker does at start can set its version.
    with serve(tmp_path, url, VERSION_POLL_SECONDS="60") as server, client_for(server.base) as c:
        # serve() has asked /health already: these are the worker's first answers after it.
        health, ready = c.get("/health"), c.get("/ready")
        assert ready.json()["dataset_version"] == 1, ready.text
        stamped = (health.headers["x-dataset-version"], ready.headers["x-dataset-version"])
        assert stamped == ("1", "1"), f"/health and /ready stamped {stamped}"


# --- 3. database faults, for real ----------------------------------------------------------


def require_private_cluster() -> None:
    reason = cluster_unavailable()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, and a private PostgreSQL cluster cannot be made: {reason}")
    pytest.skip(f"no private PostgreSQL cluster: {reason}")


def test_database_down_answers_503_fast_and_recovers_without_a_restart(tmp_path: Path) -> None:
    require_private_cluster()
    with private_cluster() as cluster:
        cluster.create_database("facts")
        url = cluster.url("facts")
        assert run_loader(SEED_DIR, url).strip() == "dataset version 1: loaded"
        with (
            serve(tmp_path, url, DB_TIMEOUT_SECONDS=str(DB_TIMEOUT)) as server,
            client_for(server.base) as client,
        ):
            # Warm some answers into the response cache; DATA_PATHS stay cold, so they need
            # the database whatever the cache holds.
            warm: dict[str, bytes] = {}
            for path in (*WARM_PATHS, "/ready"):
                response = client.get(path)
                assert response.status_code == 200, (path, response.text[:500])
                warm[path] = response.content

            cluster.stop("immediate")
            waits = []
            for _ in range(2):  # the first after the fault, and one with the pool emptied
                for path in DATA_PATHS:
                    response, elapsed = timed_get(client, path)
                    assert_problem(response, 503, elapsed)
                    waits.append(elapsed)
            warm_statuses = []
            for path in WARM_PATHS:  # answered from the cache, or 503 like any other
                response, elapsed = timed_get(client, path)
                warm_statuses.append(response.status_code)
                if response.status_code != 200:
                    assert_problem(response, 503, elapsed)
                else:
                    assert response.content == warm[path], path
            print(
                f"database down: 503 in at most {max(waits):.3f} s; "
                f"cached paths answered {warm_statuses}"
            )
            ready, elapsed = timed_get(client, "/ready")
            assert ready.status_code == 503, ready.text
            assert elapsed < FAULT_ANSWER_WITHIN, f"/ready took {elapsed:.2f} s"
            assert ready.json()["database"] == "down", ready.text
            health, elapsed = timed_get(client, "/health")
            assert health.status_code == 200 and elapsed < 1.0, (health.text, elapsed)

            cluster.start()
            restarted = time.monotonic()

            def dialogue_back() -> httpx.Response | None:
                response = client.get("/dialogues/6")
                return response if response.status_code == 200 else None

            back = wait_until(dialogue_back, RECOVER_WITHIN, "/dialogues/6 to answer 200")
            print(f"recovered {time.monotonic() - restarted:.2f} s after the database restarted")
            assert back.headers["x-dataset-version"] == "1"
            ready = client.get("/ready")
            assert ready.status_code == 200, ready.text
            assert ready.json()["dataset_version"] == 1
            for path in DATA_PATHS:
                assert client.get(path).status_code == 200, path
            assert server.process.poll() is None, "the server was not meant to restart"
        assert "Traceback" not in server.output(), server.output()


def test_a_frozen_database_answers_503_within_the_timeout(tmp_path: Path) -> None:
    """A database that accepts connections but never answers (a hung server, a partition)."""
    require_private_cluster()
    with private_cluster() as cluster:
        cluster.create_database("facts")
        url = cluster.url("facts")
        assert run_loader(SEED_DIR, url).strip() == "dataset version 1: loaded"
        settings = {"DB_TIMEOUT_SECONDS": str(DB_TIMEOUT), "CACHE_BYTES": "0"}
        with serve(tmp_path, url, **settings) as server:
            limits = httpx.Limits(max_connections=FROZEN_REQUESTS)
            timeout = FAULT_ANSWER_WITHIN + 1
            with httpx.Client(base_url=server.base, timeout=timeout, limits=limits) as client:
                # Fill the server's pool with idle connections, as traffic does.
                warm = [(client, "/dialogues/6")] * FROZEN_REQUESTS
                with ThreadPoolExecutor(FROZEN_REQUESTS) as pool:
                    before = list(pool.map(lambda a: timed_or_error(*a), warm))
                assert all(status == 200 for status, _ in before), before

                cluster.signal_all(signal.SIGSTOP)
                try:
                    with ThreadPoolExecutor(FROZEN_REQUESTS) as pool:
                        answers = list(pool.map(lambda a: timed_or_error(*a), warm))
                finally:
                    cluster.signal_all(signal.SIGCONT)
                print(f"frozen database: {answers}")
                for status, elapsed in answers:
                    assert status == 503 and elapsed < FAULT_ANSWER_WITHIN, answers

                def dialogue_back() -> bool | None:
                    return True if client.get("/dialogues/6").status_code == 200 else None

                wait_until(dialogue_back, RECOVER_WITHIN, "/dialogues/6 to answer 200 again")


# --- 4. SQLite files that are not there, not files, or not databases ----------------------


def missing(folder: Path) -> Path:
    return folder / "missing.sqlite3"


def a_directory(folder: Path) -> Path:
    path = folder / "a-directory.sqlite3"
    path.mkdir()
    return path


def random_bytes(folder: Path) -> Path:
    path = folder / "random.sqlite3"
    path.write_bytes(os.urandom(64 * 1024))
    return path


def corrupt_pages(folder: Path) -> Path:
    """A loaded database whose first page (header and schema) is intact, the rest garbage."""
    path = folder / "corrupt.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    try:
        load(engine, SEED_DIR)
    finally:
        engine.dispose()
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.seek(4096)
        f.write(os.urandom(size - 4096))
    return path


BROKEN_FILES: dict[str, Callable[[Path], Path]] = {
    "missing file": missing,
    "a directory": a_directory,
    "random bytes": random_bytes,
    "corrupt pages": corrupt_pages,
}


@pytest.mark.parametrize("case", BROKEN_FILES)
def test_a_broken_sqlite_database_answers_503_and_the_server_stays_up(
    case: str, tmp_path: Path
) -> None:
    folder = tmp_path / "db"
    folder.mkdir()
    path = BROKEN_FILES[case](folder)
    before = sorted(p.name for p in folder.iterdir())
    with serve(tmp_path, f"sqlite:///{path}") as server, client_for(server.base) as client:
        ready, elapsed = timed_get(client, "/ready")
        assert ready.status_code == 503, ready.text
        assert ready.json()["status"] == "unavailable", ready.text
        assert ready.json()["database"] == "down", ready.text
        for path_ in DATA_PATHS:
            response, elapsed = timed_get(client, path_)
            assert_problem(response, 503, elapsed)
        assert client.get("/health").status_code == 200
        assert server.process.poll() is None
    created = sorted({p.name for p in folder.iterdir()} - set(before))
    if case == "missing file":
        assert not path.exists() and not created, f"the server created {created}"
    else:  # opening a WAL database makes its -wal and -shm files; nothing else may appear
        assert set(created) <= {f"{path.name}-wal", f"{path.name}-shm"}, created
    assert "Traceback" not in server.output(), server.output()


# --- 5. bad configuration fails at start, naming the setting -------------------------------

BAD_SETTINGS = {
    "negative timeout": ("DB_TIMEOUT_SECONDS", "-1"),
    "unknown database": ("DATABASE_URL", "mysql://x"),
    "zero poll interval": ("VERSION_POLL_SECONDS", "0"),
    "pool size not a number": ("POOL_SIZE", "many"),
}
EXIT_WITHIN = 8.0


def start_with(tmp_path: Path, setting: str, value: str, workers: int) -> tuple[int | None, str]:
    """Start uvicorn with one bad setting: (exit code or None if still running, stderr)."""
    stderr_path = tmp_path / "stderr.log"
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            server_command(free_port(), workers),
            cwd=ROOT,
            env=app_env(**{setting: value}),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        code: int | None = process.wait(timeout=EXIT_WITHIN)
    except subprocess.TimeoutExpired:
        code = None
    finally:
        stop_process(process)
    return code, stderr_path.read_text(errors="replace")


@pytest.mark.parametrize("case", BAD_SETTINGS)
def test_bad_configuration_stops_the_server_naming_the_setting(case: str, tmp_path: Path) -> None:
    setting, value = BAD_SETTINGS[case]
    code, stderr = start_with(tmp_path, setting, value, workers=1)
    assert code is not None, f"still running after {EXIT_WITHIN} s:\n{stderr}"
    assert code != 0, stderr
    assert setting in stderr, stderr
    assert "Traceback" not in stderr, stderr


def test_bad_configuration_stops_a_multi_worker_server(tmp_path: Path) -> None:
    code, stderr = start_with(tmp_path, "DB_TIMEOUT_SECONDS", "-1", workers=2)
    assert "DB_TIMEOUT_SECONDS" in stderr, stderr
    assert code is not None, f"still running after {EXIT_WITHIN} s:\n{stderr}"
    assert code != 0, stderr


def test_a_lost_database_connection_costs_no_request(app_settings: Settings) -> None:
    """The API checks no connection ahead of a read (that would cost a round trip each): a
    read that finds its connection lost (a restart, a proxy's idle timeout) runs once more."""
    if not app_settings.database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: an SQLite connection is a file")
    with TestClient(create_app(app_settings)) as client:
        assert client.get("/commitments?limit=1").status_code == 200  # pooled now
        admin = create_engine(app_settings.database_url)
        with admin.connect() as conn:
            killed = conn.exec_driver_sql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).scalar()
        admin.dispose()
        assert killed, "no connection of the API's to end"
        for path in ("/commitments?limit=2", "/dialogues/6", "/people?limit=1"):
            response = client.get(path)
            assert response.status_code == 200, (path, response.text)

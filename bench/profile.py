"""Where a request's time goes: each SQL statement it runs (timed), the query plans, and a
Python profile. In-process, cache and access log off, against a loaded database.

    .venv/bin/python -m bench.profile sqlite:////abs/facts.sqlite3 '/commitments?area=digital'
    .venv/bin/python -m bench.profile URL PATH [PATH ...] --repeat 5 --explain --cprofile

Reads run inline in the calling thread (on PostgreSQL the app would hand them to a worker
thread), so that the Python profile sees them.
"""

import argparse
import asyncio
import cProfile
import io
import pstats
import re
import statistics
import time
from collections import defaultdict
from typing import Any
from urllib.parse import unquote

from app.main import create_app
from app.read import Snapshot
from app.settings import Settings


class Statements:
    """Times every statement the app's reads run (`Snapshot.rows`), by its SQL text."""

    def __init__(self, engine: Any):
        self.engine = engine
        self.spent: dict[str, list[float]] = defaultdict(list)
        self.params: dict[str, Any] = {}
        run = Snapshot.rows

        def timed(snap: Snapshot, sql: str, params: Any = ()) -> list[Any]:
            started = time.perf_counter()
            try:
                return run(snap, sql, params)
            finally:
                self.spent[sql].append(time.perf_counter() - started)
                self.params[sql] = params

        Snapshot.rows = timed  # type: ignore[method-assign]

    def reset(self) -> None:
        self.spent.clear()

    def driver_sql(self, statement: str) -> str:
        return statement if self.engine.dialect.name == "sqlite" else statement.replace("?", "%s")

    def replay(self, statement: str) -> float:
        """Milliseconds to run the statement alone and fetch all its rows (on SQLite, rows
        after the first are computed while fetching, which the timing above leaves out)."""
        with self.engine.connect() as conn:
            started = time.perf_counter()
            conn.exec_driver_sql(self.driver_sql(statement), tuple(self.params[statement])).all()
            return (time.perf_counter() - started) * 1000

    def explain(self, statement: str) -> str:
        sqlite = self.engine.dialect.name == "sqlite"
        prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
        with self.engine.connect() as conn:
            sql = prefix + self.driver_sql(statement)
            rows = conn.exec_driver_sql(sql, tuple(self.params[statement])).all()
        if sqlite:
            return "\n".join(f"      {'  ' * (r[1] > 0)}{r[-1]}" for r in rows)
        return "\n".join(f"      {r[0]}" for r in rows)


def by_package(profile: cProfile.Profile, repeat: int) -> str:
    """Own time per request, summed by where the code lives (a package, or the app's module)."""
    spent: dict[str, float] = defaultdict(float)
    for (filename, _, name), row in pstats.Stats(profile).stats.items():  # type: ignore[attr-defined]
        if "site-packages/" in filename:
            where = filename.split("site-packages/", 1)[1].split("/", 1)[0]
        elif "/app/" in filename:
            where = "app/" + filename.split("/app/", 1)[1]
        elif filename == "~":
            where = f"builtins ({name.split(' of ')[0].strip('<>')})"
        else:
            where = "stdlib " + filename.rsplit("/", 1)[-1]
        spent[where] += row[2]
    total = sum(spent.values())
    ranked = sorted(spent.items(), key=lambda kv: -kv[1])[:15]
    lines = [f"  own time per request by package (profiled: {total / repeat * 1000:.2f} ms):"]
    lines += [f"  {t / repeat * 1000:9.3f} ms  {where}" for where, t in ranked]
    return "\n".join(lines)


async def call(app: Any, target: str) -> tuple[int, bytes]:
    """One GET straight into the ASGI app, as uvicorn would make it (no HTTP client)."""
    path, _, query = target.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote(path),
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"bench"), (b"accept-encoding", b"identity")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    status, body = 0, bytearray()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    await app(scope, receive, send)
    return status, bytes(body)


def one_line(sql: str, width: int = 150) -> str:
    flat = re.sub(r"\s+", " ", sql).strip()
    return flat if len(flat) <= width else flat[: width - 1] + "…"


async def run(args: argparse.Namespace) -> None:
    app = create_app(Settings(database_url=args.url, cache_bytes=0, access_log=False))
    reader = app.state.reader
    reader.inline = True  # see the module's docstring
    statements = Statements(app.state.engine)
    for target in args.paths:
        await call(app, target)  # warm
        statements.reset()
        times = []
        profile = cProfile.Profile() if args.cprofile else None
        for _ in range(args.repeat):
            started = time.perf_counter()
            if profile:
                profile.enable()
            status, body = await call(app, target)
            if profile:
                profile.disable()
            times.append(time.perf_counter() - started)
        total = statistics.median(times) * 1000
        print(f"GET {target} -> {status}, {len(body):,} bytes")
        print(f"  {total:9.2f} ms  a request (median of {args.repeat}), of which:")
        in_sql = 0.0
        ranked = sorted(statements.spent.items(), key=lambda kv: -sum(kv[1]))
        for sql, spent in ranked:
            per_request = sum(spent) / args.repeat * 1000
            in_sql += per_request
            count = len(spent) / args.repeat
            print(f"  {per_request:9.2f} ms  x{count:g}  {one_line(sql)}")
            query = sql.lstrip().upper().startswith(("SELECT", "WITH"))
            if args.explain and query and per_request >= args.explain_over:
                print(f"      alone, every row fetched: {statements.replay(sql):.2f} ms; plan:")
                print(statements.explain(sql))
        print(f"  {total - in_sql:9.2f} ms  outside SQL (Python, serialising, the edge)")
        if profile:
            print(by_package(profile, args.repeat))
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out).sort_stats(args.sort)
            stats.print_stats(args.top)
            print(out.getvalue())
        print()
    app.state.engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.profile",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("url", help="DATABASE_URL of a loaded database")
    parser.add_argument("paths", nargs="+", help="request targets, e.g. '/commitments?area=ai'")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="query plans of slow statements")
    parser.add_argument(
        "--explain-over", type=float, default=0.0, help="only statements over this many ms"
    )
    parser.add_argument("--cprofile", action="store_true", help="a Python profile as well")
    parser.add_argument("--top", type=int, default=25, help="functions in the profile")
    parser.add_argument("--sort", default="tottime", help="profile order: tottime, cumulative")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()

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

import httpx
from sqlalchemy import event

from app.main import create_app
from app.settings import Settings


class Statements:
    """Times every statement the engine runs, by its SQL text."""

    def __init__(self, engine: Any):
        self.engine = engine
        self.spent: dict[str, list[float]] = defaultdict(list)
        self.params: dict[str, Any] = {}
        event.listen(engine, "before_cursor_execute", self.before)
        event.listen(engine, "after_cursor_execute", self.after)

    def before(self, conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def after(self, conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        self.spent[statement].append(time.perf_counter() - conn.info.pop("bench_started"))
        self.params[statement] = params

    def reset(self) -> None:
        self.spent.clear()

    def explain(self, statement: str) -> str:
        sqlite = self.engine.dialect.name == "sqlite"
        prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql(prefix + statement, self.params[statement]).all()
        if sqlite:
            return "\n".join(f"      {'  ' * (r[1] > 0)}{r[-1]}" for r in rows)
        return "\n".join(f"      {r[0]}" for r in rows)


def one_line(sql: str, width: int = 150) -> str:
    flat = re.sub(r"\s+", " ", sql).strip()
    return flat if len(flat) <= width else flat[: width - 1] + "…"


async def run(args: argparse.Namespace) -> None:
    app = create_app(Settings(database_url=args.url, cache_bytes=0, access_log=False))
    reader = app.state.reader
    reader.inline = True  # see the module's docstring
    statements = Statements(app.state.engine)
    transport = httpx.ASGITransport(app=app)
    headers = {"Accept-Encoding": "identity"}  # as wrk and the scale client ask
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", headers=headers
    ) as client:
        for target in args.paths:
            response = await client.get(target)  # warm
            statements.reset()
            times = []
            profile = cProfile.Profile() if args.cprofile else None
            for _ in range(args.repeat):
                started = time.perf_counter()
                if profile:
                    profile.enable()
                response = await client.get(target)
                if profile:
                    profile.disable()
                times.append(time.perf_counter() - started)
            total = statistics.median(times) * 1000
            print(f"GET {target} -> {response.status_code}, {len(response.content):,} bytes")
            print(f"  {total:9.2f} ms  a request (median of {args.repeat}), of which:")
            in_sql = 0.0
            ranked = sorted(statements.spent.items(), key=lambda kv: -sum(kv[1]))
            for sql, spent in ranked:
                per_request = sum(spent) / args.repeat * 1000
                in_sql += per_request
                count = len(spent) / args.repeat
                print(f"  {per_request:9.2f} ms  x{count:g}  {one_line(sql)}")
                if args.explain and per_request >= args.explain_over:
                    print(statements.explain(sql))
            print(f"  {total - in_sql:9.2f} ms  outside SQL (Python, serialising, the edge)")
            if profile:
                out = io.StringIO()
                stats = pstats.Stats(profile, stream=out).sort_stats("cumulative")
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
    parser.add_argument("--explain-over", type=float, default=1.0, help="ms; with --explain")
    parser.add_argument("--cprofile", action="store_true", help="a Python profile as well")
    parser.add_argument("--top", type=int, default=25, help="functions in the profile")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()

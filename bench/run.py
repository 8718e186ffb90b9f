"""Throughput of the real app against a raw ASGI ceiling, on SQLite and PostgreSQL.

    make bench                                  # 5 s runs, 3 rounds, both databases
    .venv/bin/python -m bench.run --quick       # a smoke run: 1 round of 2 s
    .venv/bin/python -m bench.run --seconds 10 --backends sqlite --json out.json

For each database (freshly migrated and loaded with the curated seed) it starts, each as one
uvicorn worker (uvloop + httptools) pinned to core 0 with taskset:
- the baseline (`bench.baseline`): the exact response the app served for each URL, body and
  headers (its `x-request-id` too, the same one every time), pre-serialised: the ratios are
  against it;
- "bare": the same body with only its content type and length, for reference (uvicorn spends
  about a microsecond on each header, so the app's dozen headers cost it too);
- the app with its response cache (default budget), access log off;
- the app with the access log on (to a file), cache on;
- the app with the cache off (CACHE_BYTES=0): every request renders from the database.
Then, with wrk pinned to core 1 (`wrk -t1 -c32 -d<N>s --latency`), after a warm-up, for each
endpoint it runs every variant in turn, for several rounds (variants alternate, so drift hits
them alike), and prints one table: req/s (median of the rounds, and their range), p50 and p99
latency (medians), and the ratio to the baseline measured in the same run: the median of the
rounds' ratios, each variant over the baseline's run of the same round.

This shared VM's speed drifts by tens of per cent from one run to the next, so it also runs
each variant the cache answers side by side with the baseline: both loaded at once (two wrk
processes), both servers on the one server core, whose time the scheduler splits between
them. A drift then slows both alike, and the ratio of their req/s is the ratio of their
costs per request; the table gives the median over the rounds.

"other CPU" is CPU time that processes outside the benchmark (not the server, not
PostgreSQL) used during the runs, as a share of one core: a noisy neighbour shows there.
Nothing is asserted.
"""

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    CLIENT_CORE,
    Server,
    app_server,
    database,
    ensure_wrk,
    get,
    load_seed,
    log,
    other_cpu_seconds,
    other_cpu_snapshot,
    servers,
)

ENDPOINTS = ["/dialogues/6", "/commitments?area=digital"]
CACHE_BYTES = str(64 * 2**20)


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    server: str
    if_none_match: bool = False

    def headers(self, etag: str) -> list[str]:
        """wrk's extra request headers: If-None-Match with the response's ETag, or none."""
        return [f"If-None-Match: {etag}"] * self.if_none_match


VARIANTS = [
    Variant("baseline", "baseline: raw ASGI, same bytes", "baseline"),
    Variant("bare", "raw ASGI, same body, 2 headers", "bare"),
    Variant("cache", "app, response cache, repeated requests", "cache"),
    Variant("304", "app, cache, If-None-Match (304)", "cache", if_none_match=True),
    Variant("log", "app, cache, access log on", "log"),
    Variant("nocache", "app, cache off (CACHE_BYTES=0)", "nocache"),
]

# Side by side, only the variants the cache answers: a variant that waits on its database
# leaves the core to the ceiling meanwhile, and the ratio would no longer be one of costs.
SIDE_BY_SIDE = [v for v in VARIANTS if v.server in ("cache", "log")]


@dataclass
class Result:
    rps: float
    p50: float  # seconds
    p99: float
    other_cpu: float  # share of one core used elsewhere during the run
    errors: str = ""


@dataclass
class Cell:
    results: list[Result] = field(default_factory=list)

    def median(self, attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in self.results)


UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def found(pattern: str, output: str) -> str:
    match = re.search(pattern, output, re.M)
    if match is None:
        raise ValueError(f"wrk's output has no {pattern!r}:\n{output}")
    return match.group(1)


def seconds(value: str) -> float:
    """wrk's latency ("812.00us", "1.23ms", "2.01s") in seconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value.strip())
    if match is None:
        raise ValueError(f"not a wrk latency: {value!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def parse_wrk(output: str) -> tuple[float, float, float, str]:
    """Requests/sec, p50 and p99 (seconds), and any errors wrk reports."""
    rps = float(found(r"Requests/sec:\s+([\d.]+)", output))
    p50 = seconds(found(r"^\s+50%\s+(\S+)", output))
    p99 = seconds(found(r"^\s+99%\s+(\S+)", output))
    errors = []
    for pattern in (r"Non-2xx or 3xx responses: \d+", r"Socket errors: [^\n]+"):
        match = re.search(pattern, output)
        if match:
            errors.append(match.group(0))
    return rps, p50, p99, "; ".join(errors)


def wrk_command(wrk_path: str, secs: float, connections: int, headers: list[str]) -> list[str]:
    cmd = ["taskset", "-c", CLIENT_CORE, wrk_path, "-t1", f"-c{connections}", f"-d{secs:g}s"]
    cmd += ["--latency"]
    for header in headers:
        cmd += ["-H", header]
    return cmd


def side_by_side(
    wrk_path: str, urls: tuple[str, str], secs: float, connections: int, headers: list[str]
) -> float:
    """Load two servers at once, both on the server core: the second's req/s over the first's.
    The core's time is shared between them, so whatever slows the machine slows both alike,
    and the ratio is that of their costs per request. Twice, the second time started in the
    other order (the server whose load starts first comes out 2-3% ahead: a baseline beside
    itself gave 0.97-0.98), and the geometric mean of the two ratios."""
    cmd = wrk_command(wrk_path, math.ceil(secs / 2), connections, headers)  # whole seconds
    ratios = []
    for order in (urls, urls[::-1]):
        runs = [subprocess.Popen([*cmd, url], stdout=subprocess.PIPE, text=True) for url in order]
        first, second = (parse_wrk(run.communicate()[0])[0] for run in runs)
        ratios.append(second / first if order == urls else first / second)
    return math.sqrt(ratios[0] * ratios[1])


def wrk(
    wrk_path: str,
    url: str,
    secs: float,
    connections: int,
    headers: list[str],
    server: Server | None = None,
) -> Result:
    cmd = wrk_command(wrk_path, secs, connections, headers)
    exclude = {os.getpid(), *([server.pid] if server else [])}
    before = other_cpu_snapshot(exclude)
    started = time.perf_counter()
    done = subprocess.run([*cmd, url], capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - started
    other = other_cpu_seconds(before, other_cpu_snapshot(exclude)) / elapsed
    rps, p50, p99, errors = parse_wrk(done.stdout)
    return Result(rps, p50, p99, other, errors)


def prepare(app: Server, folder: Path) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Fetch each endpoint from the real app: the bytes for the baseline, and the ETags."""
    manifest, etags = {}, {}
    for n, path in enumerate(ENDPOINTS):
        status, headers, body = get(app.base + path)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
        body_path = folder / f"body-{n}"
        body_path.write_bytes(body)
        manifest[path] = {"body": str(body_path), "headers": list(headers.items())}
        etags[path] = headers["etag"]
        revalidated = get(app.base + path, {"If-None-Match": headers["etag"]})[0]
        if revalidated != 304:
            raise RuntimeError(f"GET {path} with If-None-Match answered {revalidated}, not 304")
    return manifest, etags


def bench_backend(backend: str, args: argparse.Namespace, wrk_path: str, work: Path) -> Any:
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    with database(backend, work) as url:
        log(f"[{backend}] loading the seed into a fresh database")
        load_seed(url)
        apps = {
            "cache": app_server("app-cache", url, logs, CACHE_BYTES=CACHE_BYTES),
            "log": app_server("app-log", url, logs, CACHE_BYTES=CACHE_BYTES, ACCESS_LOG="true"),
            "nocache": app_server("app-nocache", url, logs, CACHE_BYTES="0"),
        }
        with servers(*apps.values()):
            manifest, etags = prepare(apps["cache"], work)
            manifest_path = work / f"baseline-{backend}.json"
            manifest_path.write_text(json.dumps(manifest))
            baselines = {
                name: Server(
                    name,
                    ["bench.baseline:app"],
                    {"BENCH_BASELINE": str(manifest_path), "BENCH_BARE": bare},
                    logs,
                    ready_path=ENDPOINTS[0],
                )
                for name, bare in (("baseline", "0"), ("bare", "1"))
            }
            baseline = baselines["baseline"]
            with servers(*baselines.values()):
                every = {**apps, **baselines}
                for path in ENDPOINTS:
                    served = get(baseline.base + path)[2]
                    if served != Path(manifest[path]["body"]).read_bytes():
                        raise RuntimeError(f"the baseline does not serve the app's bytes of {path}")
                log(f"[{backend}] warming up")
                for server in every.values():
                    for path in ENDPOINTS:
                        wrk(wrk_path, server.base + path, args.warmup, args.connections, [])
                cells: dict[tuple[str, str], Cell] = {}
                for round_no in range(1, args.rounds + 1):
                    log(f"[{backend}] round {round_no}/{args.rounds}")
                    for path in ENDPOINTS:
                        for variant in VARIANTS:
                            server = every[variant.server]
                            headers = variant.headers(etags[path])
                            result = wrk(
                                wrk_path,
                                server.base + path,
                                args.seconds,
                                args.connections,
                                headers,
                                server,
                            )
                            cells.setdefault((path, variant.key), Cell()).results.append(result)
                log(f"[{backend}] side by side")
                pairs: dict[tuple[str, str], list[float]] = {}
                for _ in range(args.rounds):
                    for path in ENDPOINTS:
                        for variant in SIDE_BY_SIDE:
                            headers = variant.headers(etags[path])
                            urls = (baseline.base + path, every[variant.server].base + path)
                            ratio = side_by_side(
                                wrk_path, urls, args.seconds, args.connections, headers
                            )
                            pairs.setdefault((path, variant.key), []).append(ratio)
                sizes = {path: Path(manifest[path]["body"]).stat().st_size for path in ENDPOINTS}
                rss = {name: server.rss_bytes() for name, server in every.items()}
    return {"cells": cells, "pairs": pairs, "sizes": sizes, "rss": rss}


def paired_ratio(rps: list[float], base: list[float]) -> float:
    """The median of each round's ratio: the VM's speed drifts between rounds more than it
    does within one, so each variant is compared with the baseline of its own round."""
    return statistics.median(r / b for r, b in zip(rps, base, strict=True))


def table(results: dict[str, Any], args: argparse.Namespace) -> str:
    head = (
        f"{'database':<11}{'endpoint':<31}{'variant':<40}{'req/s':>9}  {'(range)':<15}"
        f"{'p50':>11}{'p99':>11}{'vs base':>9}{'side by side':>14}{'other CPU':>11}"
    )
    lines = [
        f"wrk -t1 -c{args.connections} -d{args.seconds:g}s --latency, {args.rounds} round(s); "
        "req/s, p50, p99: medians of the rounds; vs base: the median of the rounds' ratios "
        "(each round's req/s over the baseline's in that round); side by side: the median "
        "ratio with the variant and the baseline loaded at once, sharing the server core",
        head,
        "-" * len(head),
    ]
    for backend, found in results.items():
        for path in ENDPOINTS:
            base = [r.rps for r in found["cells"][(path, "baseline")].results]
            for variant in VARIANTS:
                cell = found["cells"][(path, variant.key)]
                pair = found["pairs"].get((path, variant.key))
                beside = f"{statistics.median(pair):>14.2f}" if pair else f"{'':>14}"
                rps = [r.rps for r in cell.results]
                spread = f"({min(rps):,.0f}-{max(rps):,.0f})"
                errors = "; ".join(sorted({r.errors for r in cell.results if r.errors}))
                lines.append(
                    f"{backend:<11}{'GET ' + path:<31}{variant.label:<40}"
                    f"{cell.median('rps'):>9,.0f}  {spread:<15}"
                    f"{cell.median('p50') * 1000:>9.2f}ms{cell.median('p99') * 1000:>9.2f}ms"
                    f"{paired_ratio(rps, base):>9.2f}{beside}{cell.median('other_cpu'):>10.0%}"
                    + (f"  ! {errors}" if errors else "")
                )
            lines.append("")
        sizes = ", ".join(f"{p} {n:,} B" for p, n in found["sizes"].items())
        rss = ", ".join(f"{k} {v / 2**20:.0f} MiB" for k, v in found["rss"].items())
        lines.append(f"{backend}: response bodies: {sizes}; server RSS after the runs: {rss}")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=5, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=2, help="seconds per server and URL")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--quick", action="store_true", help="1 round of 2 s runs (a smoke run)")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.rounds, args.warmup = 2, 1, 1
    wrk_path = ensure_wrk()
    started = time.monotonic()
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for backend in args.backends.split(","):
            work = Path(tmp) / backend
            work.mkdir()
            results[backend] = bench_backend(backend, args, wrk_path, work)
    print(table(results, args))
    print(f"(took {time.monotonic() - started:.0f} s)")
    if args.json:
        raw = {
            backend: {
                "sizes": found["sizes"],
                "rss": found["rss"],
                "cells": {
                    f"{path} {key}": [vars(r) for r in cell.results]
                    for (path, key), cell in found["cells"].items()
                },
                "side_by_side": {f"{path} {key}": r for (path, key), r in found["pairs"].items()},
            }
            for backend, found in results.items()
        }
        args.json.write_text(json.dumps(raw, indent=1))


if __name__ == "__main__":
    main()

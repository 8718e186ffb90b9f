"""How the read path scales: synthetic datasets of 10k, 100k and 1M commitments.

    make bench-scale                                    # 10k, 100k, 1M on SQLite and PostgreSQL
    .venv/bin/python -m bench.scale --sizes 10000,100000 --backends sqlite

For each size it generates the dataset (`bench.synth`, cached in --data) and, per database,
bulk-loads it into a fresh database (`python -m app.seed.bulk load`, timed; on PostgreSQL
then VACUUM ANALYZE, which autovacuum would do but is off on the build machine), starts the real
app (1 uvicorn worker, uvloop + httptools, pinned to core 0, response cache and access log
off) and times, over one kept-alive connection, the median of --repeat requests of each
(after two warm-ups; the queries take turns, one request each a round):
- the filtered list's first page (`/commitments?area=digital`);
- a deep page: it follows `next` cursors (limit=100) to about the middle of that list, then
  times one page (limit=20) there;
- a selective filter: the commitments naming an entity that exactly 10 commitments name at
  every size (`?mentions=quillon-accord`);
- a search for a word in exactly 5 commitments at every size (`/search?q=zephyrite`), and
  for those commitments only (`&kind=commitment`);
- and, for context, the unfiltered first page, one dialogue, an entity named by ~1/40 of
  the commitments, a search for common words, `/meta` and `/areas`.
It prints ms per query at each size with the ratio to the smallest size, the totals each
query reports, load times, database sizes, and the server's resident memory (VmRSS) after
the queries; then it starts the app again with its response cache on (--cache-mib) and asks
for distinct pages until the cache is full (its `/metrics` gauges say so), and reads the
RSS again.
"""

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench import synth
from bench.common import (
    PYTHON,
    ROOT,
    Client,
    app_server,
    database,
    database_size,
    human_bytes,
    log,
    servers,
)

DATA = ROOT / "bench" / ".data"
FILL_AREAS = ["digital", "ai", "green", "trade", "health", "investment"]  # in the seed's vocabulary


def queries(meta: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("first page ?area=digital", "/commitments?area=digital"),
        ("deep page (cursor, middle)", "DEEP"),
        (
            f"selective ?mentions={meta['rare_entity']}",
            f"/commitments?mentions={meta['rare_entity']}",
        ),
        (f"search q={meta['search_term']}", "/search?" + urlencode({"q": meta["search_term"]})),
        (
            f"search q={meta['search_term']}&kind=commitment",
            "/search?" + urlencode({"q": meta["search_term"], "kind": "commitment"}),
        ),
        ("first page, no filter", "/commitments"),
        ("one dialogue (middle)", f"/dialogues/{meta['middle_dialogue']}"),
        (f"entity {meta['common_entity']}", f"/entities/{meta['common_entity']}"),
        ("search q=digital economy", "/search?" + urlencode({"q": "digital economy"})),
        ("/meta", "/meta"),
        ("/areas", "/areas"),
    ]


def timed(client: Client, targets: dict[str, str], repeat: int) -> dict[str, dict[str, Any]]:
    """Each target twice to warm up, then `repeat` rounds of one request to each target in
    turn: a passing disturbance (a neighbour on the VM, say) slows every query a little
    rather than one query a lot. The median and the fastest request, per target."""
    for target in targets.values():
        client.get(target)
        client.get(target)
    times: dict[str, list[float]] = {label: [] for label in targets}
    last: dict[str, tuple[int, bytes]] = {}
    for _ in range(repeat):
        for label, target in targets.items():
            status, body, took = client.get(target)
            times[label].append(took)
            last[label] = (status, body)
    results = {}
    for label, target in targets.items():
        status, body = last[label]
        total = None
        if status == 200 and body[:1] == b"{":
            total = json.loads(body).get("total")
        results[label] = {
            "target": target,
            "ms": statistics.median(times[label]) * 1000,
            "min_ms": min(times[label]) * 1000,
            "status": status,
            "total": total,
            "bytes": len(body),
        }
    return results


def deep_target(client: Client, budget: float) -> tuple[str, dict[str, Any]]:
    """Follow `next` (limit=100) to about the middle of the digital list; that page's URL."""
    target = "/commitments?area=digital&limit=100"
    started, pages, page_times = time.perf_counter(), 0, []
    while True:
        status, body, took = client.get(target)
        if status != 200:
            raise RuntimeError(f"{target} answered {status}")
        page = json.loads(body)
        pages += 1
        page_times.append(took)
        position = page["offset"] + len(page["items"])
        if position >= page["total"] // 2 or page["next"] is None:
            break
        if time.perf_counter() - started > budget:
            log(f"  the walk stopped at {position:,} of {page['total']:,}: over {budget:.0f} s")
            break
        target = page["next"]
    deep = page["next"] or target
    parts = urlsplit(deep)
    query = [p for p in parts.query.split("&") if not p.startswith("limit=")]
    walk = {
        "pages": pages,
        "walk_s": time.perf_counter() - started,
        "page_ms": statistics.mean(page_times) * 1000,
        "position": position,
    }
    return parts.path + "?" + "&".join([*query, "limit=20"]), walk


def load(path: Path, url: str, analyze: bool) -> dict[str, Any]:
    started = time.perf_counter()
    command = [PYTHON, "-m", "app.seed.bulk", "load", str(path), "--database-url", url]
    done = subprocess.run(
        [*command, "--timings", *(["--analyze"] * analyze)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        # every core for the loader (its workers), not just the client's one this process has
        preexec_fn=lambda: os.sched_setaffinity(0, range(os.cpu_count() or 1)),
    )
    if done.returncode != 0:
        raise RuntimeError(f"bulk load failed:\n{done.stdout}\n{done.stderr}")
    return {
        "seconds": time.perf_counter() - started,
        "timings": done.stdout.strip(),
        "bytes": database_size(url),
    }


def measure(size: int, backend: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    path, meta = synth.cached(size, args.data)
    budget = args.cache_mib * 2**20
    with database(backend, work) as url:
        log(f"[{size:,} {backend}] bulk load")
        analyze = args.analyze == "all" or args.analyze == backend
        loaded = load(path, url, analyze)
        loaded["analyzed"] = analyze
        log(f"  {loaded['seconds']:.1f} s, {human_bytes(loaded['bytes'])}")
        server = app_server(f"scale-{backend}-{size}", url, work, CACHE_BYTES="0")
        with servers(server):
            client = Client(server.base)
            targets = {}
            try:
                for label, target in queries(meta):
                    if target == "DEEP":
                        target, walk = deep_target(client, args.walk_budget)
                        loaded["walk"] = walk
                    targets[label] = target
                results = timed(client, targets, args.repeat)
                for label, r in results.items():
                    log(f"  {label}: {r['ms']:.1f} ms, total {r['total']}, {r['bytes']:,} B")
            finally:
                client.close()
            rss = server.rss_bytes()
        cached = app_server(f"scale-{backend}-{size}-cached", url, work, CACHE_BYTES=str(budget))
        with servers(cached):
            memory = fill_cache(cached, meta, budget)
            memory["rss"] = cached.rss_bytes()
            log(
                f"  cache full: {human_bytes(memory['cache_bytes'])}, RSS {human_bytes(memory['rss'])}"
            )
    return {"load": loaded, "queries": results, "rss": rss, "memory": memory, "meta": meta}


def cache_gauges(client: Client) -> dict[str, float]:
    _, body, _ = client.get("/metrics")
    return {
        line.split()[0]: float(line.split()[1])
        for line in body.decode().splitlines()
        if line.startswith("response_cache_")
    }


def fill_cache(server: Any, meta: dict[str, Any], budget: int) -> dict[str, Any]:
    """Ask for distinct pages of 100 commitments (about 150 KB each) until the response cache
    holds 95% of its budget, then report what it holds: the RSS is then read with it full."""
    client = Client(server.base)
    started, asked = time.perf_counter(), 0
    try:
        targets = (
            "/commitments?" + urlencode({**area, "sort": sort, "limit": 100, "offset": offset})
            for offset in range(0, 10_001, 100)
            for sort in ("id", "-id")
            for area in [{}, *({"area": a} for a in FILL_AREAS)]
        )
        gauges = cache_gauges(client)
        for target in targets:
            client.get(target)
            asked += 1
            if asked % 50 == 0:
                gauges = cache_gauges(client)
                if gauges.get("response_cache_bytes", 0) >= 0.95 * budget:
                    break
        gauges = cache_gauges(client)
    finally:
        client.close()
    return {
        "requests": asked,
        "seconds": time.perf_counter() - started,
        "cache_bytes": gauges.get("response_cache_bytes", 0),
        "entries": gauges.get("response_cache_entries", 0),
        "budget": budget,
    }


def report(found: dict[tuple[int, str], Any], sizes: list[int], backends: list[str]) -> str:
    def k(n: int) -> str:
        return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"

    out = []
    for backend in backends:
        first = found[(sizes[0], backend)]
        head = f"{backend:<40}" + "".join(f"{k(n) + ' ms':>11}" for n in sizes)
        head += "".join(f"{'x' + k(n):>8}" for n in sizes[1:])
        head += "   totals"
        out += [head, "-" * len(head)]
        for label in first["queries"]:
            row = [found[(n, backend)]["queries"][label] for n in sizes]
            line = f"{label:<40}" + "".join(f"{r['ms']:>11.1f}" for r in row)
            line += "".join(f"{r['ms'] / row[0]['ms']:>8.1f}" for r in row[1:])
            totals = " / ".join("-" if r["total"] is None else f"{r['total']:,}" for r in row)
            sizes_b = " / ".join(human_bytes(r["bytes"]) for r in row)
            line += f"   {totals}" + (f"   ({sizes_b})" if row[-1]["bytes"] > 100_000 else "")
            bad = [r["status"] for r in row if r["status"] != 200]
            out.append(line + (f"  ! status {bad}" if bad else ""))
        walks = [found[(n, backend)]["load"].get("walk") for n in sizes]
        out.append(
            "deep walk: "
            + "; ".join(
                f"{k(n)}: {w['pages']} pages of 100 to position {w['position']:,} in "
                f"{w['walk_s']:.1f} s ({w['page_ms']:.0f} ms/page)"
                for n, w in zip(sizes, walks, strict=True)
                if w
            )
        )
        analyzed = found[(sizes[0], backend)]["load"].get("analyzed")
        out.append(
            "planner statistics: "
            + ("gathered after the load (--analyze)" if analyzed else "none (as loaded)")
        )
        out.append(
            "bulk load: "
            + "; ".join(
                f"{k(n)}: {found[(n, backend)]['load']['seconds']:.1f} s, "
                f"{human_bytes(found[(n, backend)]['load']['bytes'])}"
                for n in sizes
            )
        )
        out.append(
            "server RSS after the queries (cache off): "
            + "; ".join(f"{k(n)}: {human_bytes(found[(n, backend)]['rss'])}" for n in sizes)
        )
        out.append(
            "server RSS with a full response cache: "
            + "; ".join(
                f"{k(n)}: {human_bytes(m['rss'])} (cache {human_bytes(m['cache_bytes'])} "
                f"of {human_bytes(m['budget'])}, {m['entries']:.0f} responses)"
                for n in sizes
                for m in [found[(n, backend)]["memory"]]
            )
        )
        out.append("")
    largest = sizes[-1]
    for backend in backends:
        out.append(f"bulk load of {k(largest)} on {backend}, where the time went:")
        out.append(found[(largest, backend)]["load"]["timings"])
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=7, help="timed requests per query")
    parser.add_argument("--walk-budget", type=float, default=300, help="seconds for the walk")
    parser.add_argument("--data", type=Path, default=DATA, help="where datasets are cached")
    parser.add_argument(
        "--analyze",
        choices=["none", "postgresql", "all"],
        default="postgresql",
        help="gather planner statistics after loading (default: on PostgreSQL, as its "
        "autovacuum would; SQLite has nothing that does it, nor does the app's loader)",
    )
    parser.add_argument(
        "--cache-mib", type=int, default=64, help="response cache budget for the memory check"
    )
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)
    sizes = sorted(int(n) for n in args.sizes.split(","))
    backends = args.backends.split(",")
    os.sched_setaffinity(0, {1})  # the client on core 1, the server on core 0
    found: dict[tuple[int, str], Any] = {}
    started = time.monotonic()
    args.data.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="databases-", dir=args.data) as tmp:
        for size in sizes:
            for backend in backends:
                found[(size, backend)] = measure(size, backend, args, Path(tmp))
    print(report(found, sizes, backends))
    print(f"(took {time.monotonic() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps({f"{n} {b}": v for (n, b), v in found.items()}, indent=1))


if __name__ == "__main__":
    main()

"""The ceiling: a raw ASGI app, no framework, answering with pre-serialised bytes.

At startup it reads the manifest named by BENCH_BASELINE, which `bench.run` writes after
fetching each URL from the real server:

    {"/dialogues/6": {"body": "/tmp/.../body-0", "headers": [["content-type", "..."], ...]}}

A request gets the exact response the real API served for its URL (path and query): the
same body and the same headers, less `date` and `server`, which uvicorn adds to both. That
includes the `x-request-id` the app sent when it was fetched: the app makes a new one for
every request, the baseline sends that one every time, so both responses carry the same
headers, of the same length but for a few digits (uvicorn spends a few per cent of a
request on each header). With BENCH_BARE=1 it sends only the content type and length
instead: the floor of what any response costs.

    BENCH_BASELINE=manifest.json python -m uvicorn bench.baseline:app --loop uvloop --http httptools
"""

import json
import os
from pathlib import Path
from typing import Any

Message = dict[str, Any]
PER_REQUEST = {"date", "server"}


def load(manifest: Path, bare: bool) -> dict[bytes, tuple[list[tuple[bytes, bytes]], bytes]]:
    responses = {}
    for url, entry in json.loads(manifest.read_text()).items():
        body = Path(entry["body"]).read_bytes()
        kept = [(k.encode(), v.encode()) for k, v in entry["headers"] if k not in PER_REQUEST]
        if bare:
            kept = [(k, v) for k, v in kept if k in (b"content-type", b"content-length")]
        responses[url.encode()] = (kept, body)
    return responses


RESPONSES = load(Path(os.environ["BENCH_BASELINE"]), os.environ.get("BENCH_BARE") == "1")
MISSING = ([(b"content-type", b"text/plain")], b"not in the baseline manifest\n")


async def app(scope: Message, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    query = scope["query_string"]
    target = scope["raw_path"] + (b"?" + query if query else b"")
    found = RESPONSES.get(target)
    headers, body = found or MISSING
    if found is None:
        headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200 if found else 404, "headers": headers})
    await send({"type": "http.response.body", "body": body})

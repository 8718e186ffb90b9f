"""The ceiling: a raw ASGI app, no framework, answering with pre-serialised bytes.

At startup it reads the manifest named by BENCH_BASELINE, which `bench.run` writes after
fetching each URL from the real server:

    {"/dialogues/6": {"body": "/tmp/.../body-0", "content_type": "application/json"}, ...}

A request gets the exact bytes the real API served for its URL (path and query), with the
same content type; with one URL in the manifest, every request gets those bytes.

    BENCH_BASELINE=manifest.json python -m uvicorn bench.baseline:app --loop uvloop --http httptools
"""

import json
import os
from pathlib import Path
from typing import Any

Message = dict[str, Any]


def load(manifest: Path) -> dict[bytes, tuple[bytes, bytes]]:
    responses = {}
    for url, entry in json.loads(manifest.read_text()).items():
        body = Path(entry["body"]).read_bytes()
        responses[url.encode()] = (entry["content_type"].encode(), body)
    return responses


RESPONSES = load(Path(os.environ["BENCH_BASELINE"]))
ONLY = next(iter(RESPONSES.values())) if len(RESPONSES) == 1 else None
MISSING = (b"text/plain", b"not in the baseline manifest\n")


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
    if ONLY is not None:
        content_type, body = ONLY
        status = 200
    else:
        query = scope["query_string"]
        target = scope["raw_path"] + (b"?" + query if query else b"")
        found = RESPONSES.get(target)
        status = 200 if found else 404
        content_type, body = found or MISSING
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

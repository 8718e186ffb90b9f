import datetime as dt
import io
import json
import zipfile
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from app import __version__
from app.api.deps import reads, stamp_version
from app.api.lists import csv_of
from app.read import Snapshot, placeholders

router = APIRouter(tags=["dataset"])
META_SOURCES = 100  # /meta lists this many sources; /sources lists them all
# The resources of a full download: name -> the kind of document each item is.
EXPORTED = {
    "dialogues": "dialogue",
    "commitments": "commitment",
    "statements": "statement",
    "indicators": "indicator",
    "participations": "participation",
    "context_events": "context_event",
    "people": "person",
    "series": "series",
    "areas": "area",
    "entities": "entity",
    "countries": "country",
    "sources": "source",
}


class SourceChecksum(BaseModel):
    id: str
    kind: str
    title: str
    publisher: str
    url: str | None
    sha256: str | None
    licence: str


class LoadedVersion(BaseModel):
    version: int
    loaded_at: str
    seed_sha256: str
    counts: dict[str, int]


class DatasetMeta(BaseModel):
    api_version: str = Field(examples=[__version__])
    dataset_version: int | None
    loaded_at: str | None
    seed_sha256: str | None
    counts: dict[str, int] = Field(description="Rows per table in this dataset version.")
    sources: list[SourceChecksum] = Field(
        description=f"The first {META_SOURCES} sources by id; `/sources` lists them all."
    )
    sources_total: int = Field(description="How many sources the dataset cites.")
    citation: str = Field(description="How to cite the dataset (naming its first sources).")
    downloads: dict[str, str]
    versions: list[LoadedVersion] = Field(
        description="Every load that changed something, newest first; see `/changes?since=N`."
    )


def loaded_version(row: dict[str, Any]) -> dict[str, Any]:
    """A `dataset_version` row as clients read it (SQLite returns its JSON and time as text)."""
    loaded_at, counts = row["loaded_at"], row["counts"]
    if isinstance(loaded_at, str):
        loaded_at = dt.datetime.fromisoformat(loaded_at)
    if isinstance(counts, str):
        counts = json.loads(counts)
    return {**row, "loaded_at": loaded_at.isoformat(), "counts": counts}


def meta_of(snap: Snapshot) -> dict[str, Any]:
    loads = [
        loaded_version(row)
        for row in snap.dicts(
            "SELECT version, loaded_at, seed_sha256, counts FROM dataset_version"
            " ORDER BY version DESC LIMIT 100"
        )
    ]
    row = next((v for v in loads if v["version"] == snap.version), None)
    listed = snap.dicts(
        "SELECT id, kind, title, publisher, url, sha256, licence FROM source ORDER BY id LIMIT ?",
        (META_SOURCES,),
    )
    sources_total = snap.stored_total("sources") or 0
    documents_cited = [s for s in listed if s["kind"] == "document"]
    more = sources_total - len(listed)
    citation = (
        f"Bilateral Facts API, dataset version {snap.version}"
        + (f" (loaded {row['loaded_at'][:10]})" if row else "")
        + ". Facts drawn from: "
        + "; ".join(
            f"{s['publisher']}, \u201c{s['title']}\u201d, {s['url']}" for s in documents_cited
        )
        + (f"; and {more} more sources (see /sources)" if more > 0 else "")
        + ". Each fact cites its own evidence; see each source's licence note."
    )
    return {
        "api_version": __version__,
        "dataset_version": snap.version,
        "loaded_at": row["loaded_at"] if row else None,
        "seed_sha256": row["seed_sha256"] if row else None,
        "counts": row["counts"] if row else {},
        "sources": listed,
        "sources_total": sources_total,
        "citation": citation,
        "downloads": {"json": "/export/dataset.json", "zip": "/export/dataset.zip"},
        "versions": loads,
    }


def json_response(body: bytes, snap: Snapshot, media_type: str = "application/json") -> Response:
    return stamp_version(Response(body, media_type=media_type), snap)


@router.get("/meta", summary="Dataset metadata", response_model=DatasetMeta)
@reads
def meta(snap: Snapshot) -> Response:
    """The dataset version and when it was loaded, counts per table, every source with its
    checksum and licence note, how to cite it, and the API's version."""
    return json_response(json.dumps(meta_of(snap), ensure_ascii=False).encode(), snap)


def exported(snap: Snapshot) -> dict[str, list[str]]:
    """Every exported resource's documents (JSON text), in key order."""
    kinds = list(EXPORTED.values())
    rows = snap.rows(
        f"SELECT kind, key, body FROM document WHERE kind IN ({placeholders(kinds)})", kinds
    )
    by_kind: dict[str, list[tuple[str, str]]] = {kind: [] for kind in EXPORTED.values()}
    for kind, key, body in rows:
        by_kind[kind].append((key, body))
    natural = lambda kv: (len(kv[0]), kv[0]) if kv[0].isdigit() else (0, kv[0])  # noqa: E731
    return {
        name: [b for _, b in sorted(by_kind[kind], key=natural)] for name, kind in EXPORTED.items()
    }


@router.get(
    "/export/dataset.json",
    summary="The whole dataset as one JSON document",
    responses={200: {"content": {"application/json": {"schema": {"type": "object"}}}}},
)
@reads
def export_json(snap: Snapshot) -> Response:
    """Every resource in full, with the dataset's version, checksums and citation."""
    meta = json.dumps(meta_of(snap), ensure_ascii=False)
    parts = [f'"{name}":[' + ",".join(bodies) + "]" for name, bodies in exported(snap).items()]
    body = '{"meta":' + meta + "," + ",".join(parts) + "}"
    response = json_response(body.encode(), snap)
    response.headers["Content-Disposition"] = 'attachment; filename="dataset.json"'
    return response


@router.get(
    "/export/dataset.zip",
    summary="The whole dataset as CSV files in a zip",
    responses={
        200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}
    },
    response_class=Response,
)
@reads
def export_zip(snap: Snapshot) -> Response:
    """One CSV per resource (one row per item, a header row), plus `meta.json` with the
    version, checksums and citation, and `CITATION.txt`."""
    meta = meta_of(snap)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:

        def add(name: str, data: bytes) -> None:
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))  # same bytes everywhere
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)

        add("meta.json", json.dumps(meta, ensure_ascii=False, indent=2).encode())
        add("CITATION.txt", (meta["citation"] + "\n").encode())
        for name, bodies in exported(snap).items():
            add(f"{name}.csv", csv_of(bodies))
    response = json_response(buffer.getvalue(), snap, media_type="application/zip")
    response.headers["Content-Disposition"] = 'attachment; filename="dataset.zip"'
    return response

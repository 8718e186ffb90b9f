#!/bin/sh
# Container entrypoint: migrate the database at DATABASE_URL and load the seed, then serve.
# `python -m app.seed load` takes a PostgreSQL advisory lock, so replicas may start together.
# Settings: DATABASE_URL, HOST (0.0.0.0), PORT (8000), WORKERS (2).
set -eu
cd "$(dirname "$0")/.."

python -m app.seed load

exec python -m app.serve \
    --host "${HOST:-0.0.0.0}" \
    --port "${PORT:-8000}" \
    --workers "${WORKERS:-2}"

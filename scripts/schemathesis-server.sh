#!/usr/bin/env bash
# Schemathesis (configured by schemathesis.toml) against a real uvicorn server on 127.0.0.1,
# serving a freshly loaded SQLite database. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DATABASE_URL="sqlite:///$work/facts.sqlite3" ACCESS_LOG=false
.venv/bin/python -m app.seed load
.venv/bin/python -m app.serve --host 127.0.0.1 --port "$port" &
server=$!
stop() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"; }
trap stop EXIT
for _ in $(seq 60); do
  curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break
  sleep 0.5
done
status=0
timeout 900 .venv/bin/schemathesis run "http://127.0.0.1:$port/openapi.json" || status=$?
stop
trap - EXIT
exit "$status"

# syntax=docker/dockerfile:1
# The read-only facts API: migrates and loads the seed at start, then serves on port 8000.
# Build: docker build -t bilateral-facts .   Run: docker compose up (see docker-compose.yml)

FROM python:3.11-slim-bookworm AS build

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Runtime dependencies only, from the pinned lock, into a venv the final stage copies whole.
COPY requirements.lock /tmp/requirements.lock
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.lock


FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/opt/venv/bin:$PATH" \
    HOST=0.0.0.0 \
    PORT=8000 \
    WORKERS=2

# An unprivileged user; it owns only data/, where the default SQLite database lives.
RUN groupadd --system --gid 10001 app \
    && useradd --system --no-log-init --uid 10001 --gid app \
        --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin app \
    && mkdir -p /app/data \
    && chown app:app /app/data

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
COPY requirements.lock alembic.ini ./
COPY migrations/ migrations/
COPY seed/ seed/
COPY app/ app/
COPY --chmod=0755 scripts/start.sh scripts/start.sh

USER 10001:10001
EXPOSE 8000

# Ready means the database answers and holds a loaded dataset (503 otherwise).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/ready' % os.environ.get('PORT', '8000'), timeout=4)"]

CMD ["scripts/start.sh"]

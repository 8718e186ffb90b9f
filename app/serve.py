"""`python -m app.serve`: check the settings, then serve the API with uvicorn.

Checking first matters with several workers: uvicorn's supervisor never imports the app, and
would restart a worker that dies of a bad setting for ever instead of stopping."""

import argparse

import uvicorn

from app.settings import load_settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.serve", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    args = parser.parse_args(argv)
    load_settings()  # a bad setting stops here, with a message that names it
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,  # the app writes its own access log, one line a request
        log_level="info",
    )


if __name__ == "__main__":
    main()

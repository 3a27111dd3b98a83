"""The real action server, recording how long each ``/webhook`` call and each lead write takes.

It is ``rasa run actions`` (the same Sanic app from ``rasa_sdk.endpoint.create_app``
with the ``actions`` package) plus a request/response middleware, and
``LeadWriter.save`` wrapped with a timer that calls the original method. Each
timing is one JSON line in the ``--timings`` file. Only the turn profile uses it;
the load runs use the plain ``rasa run actions``.

    python -m bench.timed_actions --port 5055 --timings timings.jsonl
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

_write_lock = threading.Lock()


def _recorder(path: Path) -> Callable[..., None]:
    def record(kind: str, started: float, seconds: float, **details: Any) -> None:
        line = json.dumps({"kind": kind, "started": started, "seconds": seconds, **details})
        with _write_lock, path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    return record


def time_lead_writes(record: Callable[..., None]) -> None:
    """Make every ``LeadWriter.save`` also record its duration (the write itself is unchanged)."""
    from leads.storage.outbox import LeadWriter

    save = LeadWriter.save

    @functools.wraps(save)
    def timed_save(self, *args: Any, **kwargs: Any):
        started, clock = time.time(), time.perf_counter()
        try:
            return save(self, *args, **kwargs)
        finally:
            record("db_save", started, time.perf_counter() - clock)

    LeadWriter.save = timed_save


def create_app(record: Callable[..., None]):
    """The action server's Sanic app with a timing middleware around ``/webhook``."""
    from rasa_sdk.endpoint import create_app as create_action_app

    app = create_action_app("actions")

    @app.middleware("request")
    async def start_clock(request) -> None:
        request.ctx.started, request.ctx.clock = time.time(), time.perf_counter()

    @app.middleware("response")
    async def stop_clock(request, response) -> None:
        if request.path == "/webhook" and hasattr(request.ctx, "clock"):
            try:
                action = (request.json or {}).get("next_action")
            except Exception:  # an unreadable body is the endpoint's business, not the timer's
                action = None
            record(
                "webhook",
                request.ctx.started,
                time.perf_counter() - request.ctx.clock,
                action=action,
                status=response.status,
                request_bytes=len(request.body or b""),
            )

    return app


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Command line: serve the actions on loopback with timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--timings", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    record = _recorder(Path(args.timings))
    time_lead_writes(record)
    create_app(record).run("127.0.0.1", args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()

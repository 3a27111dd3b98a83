"""The Rasa server's heap, settled once its model is loaded (see ``common/heap.py``).

Rasa loads the model after the server has started, and again whenever a new
model is put in place (``PUT /model``, a model server): a task of the server
waits for each model and settles the heap once it is in use.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Optional

from sanic import Blueprint, Sanic

from common.heap import settle

logger = logging.getLogger(__name__)

#: How often the task looks for a newly loaded model, in seconds.
CHECK_SECONDS = 2.0


def loaded_model(app: Sanic) -> Optional[Any]:
    """The model the server answers with now (``None`` while none is loaded)."""
    agent = getattr(app.ctx, "agent", None)
    processor = getattr(agent, "processor", None) if agent is not None else None
    return getattr(processor, "graph_runner", None) if processor is not None else None


async def settle_after_each_model(app: Sanic, check_seconds: float = CHECK_SECONDS) -> None:
    """Forever: once a model other than the last one seen is in use, settle the heap."""
    settled: Optional[int] = None
    while True:
        model = loaded_model(app)
        if model is not None and id(model) != settled:
            kept = settle()
            settled = id(model)
            logger.info("Model loaded: %d objects kept out of garbage collections.", kept)
        await asyncio.sleep(check_seconds)


def attach(blueprint: Blueprint) -> None:
    """Run the task while the server that registers ``blueprint`` runs."""

    @blueprint.listener("after_server_start")
    async def start_settling(app: Sanic, _loop: Any) -> None:
        app.ctx.heap_task = asyncio.ensure_future(settle_after_each_model(app))

    @blueprint.listener("before_server_stop")
    async def stop_settling(app: Sanic, _loop: Any) -> None:
        app.ctx.heap_task.cancel()

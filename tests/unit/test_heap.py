"""The heap settled after start: what is alive is kept out of collections, new garbage is still collected."""

import asyncio
import gc
import types
import weakref

from sanic import Blueprint, Sanic, response

from bot import heap
from common.heap import settle
from testkit.servers import free_port


class Node:
    """An object in a reference cycle: only the garbage collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_what_is_alive_is_kept_out_and_later_cycles_are_still_collected():
    try:
        kept = settle()
        assert kept == gc.get_freeze_count() > 0
        fresh = weakref.ref(Node())  # garbage made after: a cycle the collector must still find
        gc.collect()
        assert fresh() is None
    finally:
        gc.unfreeze()


def test_settling_again_collects_the_cycles_of_what_was_kept_before():
    """A model replaced by another: its objects, kept out at the first settling, are collected at the next."""
    try:
        old_model = Node()
        kept_before = weakref.ref(old_model)
        settle()
        del old_model
        gc.collect()
        assert kept_before() is not None  # kept out of collections while frozen
        settle()
        assert kept_before() is None
    finally:
        gc.unfreeze()


def test_the_server_settles_its_heap_once_for_each_model_it_loads():
    app = Sanic(f"heap_{free_port()}")
    blueprint = Blueprint("heap_test")
    heap.attach(blueprint)
    seen = []

    @blueprint.route("/")
    async def health(_request):
        return response.json({"status": "ok"})

    app.blueprint(blueprint)
    gc.unfreeze()

    @app.listener("after_server_start")
    async def load_models(app, _loop):
        async def script():
            await asyncio.sleep(0.3)
            seen.append(gc.get_freeze_count())  # no model yet: nothing settled
            app.ctx.agent = types.SimpleNamespace(processor=types.SimpleNamespace(graph_runner=object()))
            await asyncio.sleep(heap.CHECK_SECONDS + 0.5)
            seen.append(gc.get_freeze_count())
            gc.unfreeze()
            seen.append(gc.get_freeze_count())
            await asyncio.sleep(heap.CHECK_SECONDS + 0.5)
            seen.append(gc.get_freeze_count())  # the same model: not settled again
            app.ctx.agent.processor = types.SimpleNamespace(graph_runner=object())  # a new model
            await asyncio.sleep(heap.CHECK_SECONDS + 0.5)
            seen.append(gc.get_freeze_count())
            gc.unfreeze()
            app.stop()

        app.add_task(script())

    app.run("127.0.0.1", free_port(), access_log=False)  # until the script stops it
    assert seen[0] == 0 and seen[1] > 0 and seen[2] == seen[3] == 0 and seen[4] > 0

"""Every benchmark module imports (they run only under ``make bench``, so a broken import would hide until then)."""

import importlib
import pkgutil

import pytest

import bench

MODULES = sorted(info.name for info in pkgutil.iter_modules(bench.__path__))


def test_the_benchmark_has_its_modules():
    assert {"run", "load", "speed", "servers", "nlu_eval", "report", "stock_bot"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_module_imports(name):
    module = importlib.import_module(f"bench.{name}")
    assert module.__doc__, f"bench.{name} says what it is for"

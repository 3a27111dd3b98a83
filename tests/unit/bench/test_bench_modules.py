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


def test_the_encoder_sweep_trains_with_every_message_encoded(tmp_path):
    import yaml

    from bench.encoder_sweep import CLASSIFIER, THRESHOLDS, sweep_config

    config = yaml.safe_load(sweep_config(20.0, tmp_path).read_text(encoding="utf-8"))
    (classifier,) = [component for component in config["pipeline"] if component["name"] == CLASSIFIER]
    assert classifier["encoder_scale"] == 20.0
    assert classifier["encoder_below"] == max(THRESHOLDS) > 1
    assert min(THRESHOLDS) == 0

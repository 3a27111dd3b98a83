"""When the intent classifier reads the sentence encoder: cross-validated figures per ``encoder_below``.

Each fold is trained once with ``config.yml``'s pipeline (``encoder_scale``
as given, both regressions trained), then its test part is read at each
threshold: 0 never encodes (the word features alone), above 1 always does.
Only ``data/nlu`` is used, never the held-out sets.

    python -m bench.encoder_sweep --lang en --scale 10 --out en.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import yaml

from bench import metrics
from bench.nlu_eval import folds, gold, scores, train, training_data
from bench.settings import CONFIG
from common.languages import LANGUAGE_ENTITY

CLASSIFIER = "bot.nlu.IntentLogisticRegression"
THRESHOLDS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 1.01)


def sweep_config(scale: float, work: Path) -> Path:
    """``config.yml`` with the classifier's ``encoder_scale`` set and every message encoded (thresholds vary later)."""
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    for component in config["pipeline"]:
        if component["name"] == CLASSIFIER:
            component.update(encoder_scale=scale, encoder_below=max(THRESHOLDS))
    path = work / "config.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


async def _parse_at_thresholds(model: str, texts: Sequence[str]) -> Dict[float, List[Dict[str, Any]]]:
    """Each text parsed by the model at each threshold (the loaded classifier's ``encoder_below`` is changed)."""
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    nodes = agent.processor.graph_runner._instantiated_nodes
    (classifier,) = [node._component for name, node in nodes.items() if "IntentLogisticRegression" in name]
    parsed = {}
    for threshold in THRESHOLDS:
        classifier.encoder_below = threshold
        parsed[threshold] = [await agent.parse_message(text) for text in texts]
    return parsed


def sweep(language: str, scale: float, n_folds: int = 3) -> Dict[str, Dict[str, float]]:
    """Pooled cross-validated intent macro-F1, accuracy and entity F1 per threshold."""
    pooled: Dict[float, List[list]] = {threshold: [[], [], [], []] for threshold in THRESHOLDS}
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        config = sweep_config(scale, work)
        for number, (train_part, test_part) in enumerate(folds(training_data(language), n_folds), start=1):
            model, _ = train(train_part, config, work, f"fold{number}")
            parsed = asyncio.run(_parse_at_thresholds(model, [example.get("text") for example in test_part]))
            expected_intents, expected_entities = gold(test_part)
            for threshold, results in parsed.items():
                pooled[threshold][0] += expected_intents
                pooled[threshold][1] += expected_entities
                pooled[threshold][2] += [(result.get("intent") or {}).get("name") or "None" for result in results]
                pooled[threshold][3] += [
                    metrics.entity_spans(result.get("entities") or [], exclude=(LANGUAGE_ENTITY,)) for result in results
                ]
    summary = {}
    for threshold, (gold_intents, gold_entities, intents, entities) in pooled.items():
        figures = scores(gold_intents, gold_entities, intents, entities)
        summary[str(threshold)] = {key: figures[key] for key in ("macro_f1", "accuracy", "entity_f1")}
    return summary


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Runs the sweep for one language and writes the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", required=True)
    parser.add_argument("--scale", type=float, default=10.0, help="encoder_scale")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--out", required=True)
    arguments = parser.parse_args(argv)
    summary = sweep(arguments.lang, arguments.scale, arguments.folds)
    Path(arguments.out).write_text(json.dumps(summary, indent=1), encoding="utf-8")
    for threshold, figures in summary.items():
        print(arguments.lang, arguments.scale, threshold, figures)


if __name__ == "__main__":
    main()

"""Understanding per language: k-fold cross-validation and a held-out test set.

Each language is evaluated on its own data (``data/nlu/{lang}.yml`` plus the
shared regexes and lookup tables) with the project's own ``config.yml``
pipeline. A language's models are trained in this process with Rasa's Python
API, one after the other; ``make bench`` runs the languages as separate
processes at once (``BENCH_NLU_JOBS``), as each training uses about one core.

    python -m bench.nlu_eval --lang en --folds 5 --out en.json
    python -m bench.nlu_eval --lang en fr pl --deployed --out deployed.json
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

os.environ.setdefault("RASA_MAX_CACHE_SIZE", "0")  # no training cache: every timing is a real training
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter  # noqa: E402
from rasa.shared.nlu.training_data.loading import load_data  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402
from rasa.shared.nlu.training_data.training_data import TrainingData  # noqa: E402

from bench import metrics  # noqa: E402
from bench.settings import CONFIG, HELDOUT, MODEL, NLU_DIR, ROOT, SHARED_NLU_FILES  # noqa: E402
from common.languages import LANGUAGE_ENTITY  # noqa: E402

SEED = 7


def training_data(language: str) -> TrainingData:
    """The language's examples with the shared regexes and lookup tables."""
    files = [NLU_DIR / f"{language}.yml"] + [NLU_DIR / name for name in SHARED_NLU_FILES]
    loaded = [load_data(str(path)) for path in files if path.exists()]
    return loaded[0].merge(*loaded[1:])


def heldout_data(language: str) -> TrainingData:
    """The held-out test examples of the language (never used for training)."""
    path = HELDOUT / f"{language}.yml"
    if not path.exists():
        raise FileNotFoundError(f"no held-out test set at {path.relative_to(ROOT)}")
    return load_data(str(path))


def folds(data: TrainingData, n_folds: int, seed: int = SEED) -> List[Tuple[TrainingData, List[Message]]]:
    """Stratified folds (by intent): a training set with the shared features, and the test examples."""
    from sklearn.model_selection import StratifiedKFold

    examples = data.intent_examples
    labels = [example.get("intent") for example in examples]
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    result = []
    for train_index, test_index in splitter.split(examples, labels):
        train = TrainingData(
            training_examples=[examples[i] for i in train_index],
            regex_features=data.regex_features,
            lookup_tables=data.lookup_tables,
        )
        result.append((train, [examples[i] for i in test_index]))
    return result


def train(data: TrainingData, config: Path, work: Path, name: str) -> Tuple[str, Dict[str, float]]:
    """Train an NLU model on ``data``; returns its path and the wall and CPU seconds it took."""
    from rasa.model_training import train_nlu

    data_file = work / f"{name}.yml"
    RasaYAMLWriter().dump(data_file, data)
    wall, cpu = time.perf_counter(), time.process_time()
    model = train_nlu(str(config), str(data_file), str(work), fixed_model_name=name)
    timing = {"train_seconds": time.perf_counter() - wall, "train_cpu_seconds": time.process_time() - cpu}
    if model is None:
        raise RuntimeError(f"training {name} produced no model")
    return model, timing


Parsed = List[Dict[str, Any]]
Predicted = Tuple[List[str], List[set], Dict[str, float]]


async def _predict(model: str, batches: Sequence[Sequence[str]]) -> Tuple[List[Parsed], float, List[float]]:
    from rasa.core.agent import Agent

    start = time.perf_counter()
    agent = Agent.load(model)
    load_seconds = time.perf_counter() - start
    parsed, seconds = [], []
    for texts in batches:
        clock = time.perf_counter()
        parsed.append([await agent.parse_message(text) for text in texts])
        seconds.append(time.perf_counter() - clock)
    del agent
    gc.collect()
    return parsed, load_seconds, seconds


def predict_many(model: str, batches: Sequence[Sequence[Message]]) -> List[Predicted]:
    """For each batch of examples: predicted intents, entity spans (without the ``language`` entity), and timings.

    The model is loaded once for all batches.
    """
    parsed, load_seconds, seconds = asyncio.run(_predict(model, [[e.get("text") for e in b] for b in batches]))
    results = []
    for batch, batch_seconds in zip(parsed, seconds):
        intents = [(p.get("intent") or {}).get("name") or "None" for p in batch]
        entities = [metrics.entity_spans(p.get("entities") or [], exclude=(LANGUAGE_ENTITY,)) for p in batch]
        timing = {"load_seconds": load_seconds, "parse_ms_per_message": 1000 * batch_seconds / max(1, len(batch))}
        results.append((intents, entities, timing))
    return results


def predict(model: str, examples: Sequence[Message]) -> Predicted:
    """Predicted intents, entity spans and timings of one set of examples."""
    return predict_many(model, [examples])[0]


def gold(examples: Sequence[Message]) -> Tuple[List[str], List[set]]:
    """The annotated intents and entity spans."""
    return ([e.get("intent") for e in examples], [metrics.entity_spans(e.get("entities") or []) for e in examples])


def entity_mistakes(
    texts: Sequence[str], gold_entities: List[set], entities: List[set], limit: int = 8
) -> List[Dict[str, Any]]:
    """A few messages whose entities were not found exactly, with what was expected and found."""

    def shown(spans: set, text: str) -> List[str]:
        return [f"{kind}: {text[start:end]}" for kind, start, end in sorted(spans, key=lambda s: s[1])]

    found = [
        {"text": text, "expected": shown(expected, text), "found": shown(predicted, text)}
        for text, expected, predicted in zip(texts, gold_entities, entities)
        if expected != predicted
    ]
    return found[:limit]


def scores(
    gold_intents: List[str],
    gold_entities: List[set],
    intents: List[str],
    entities: List[set],
    texts: Sequence[str] = (),
) -> Dict[str, Any]:
    """Intent and entity figures of one evaluation."""
    intent = metrics.intent_scores(gold_intents, intents)
    entity = metrics.entity_scores(gold_entities, entities)
    return {
        "examples": intent["examples"],
        "accuracy": intent["accuracy"],
        "macro_f1": intent["macro_f1"],
        "entity_f1": entity["f1"],
        "entity_f1_overlap": metrics.entity_overlap_f1(gold_entities, entities),
        "entity_precision": entity["precision"],
        "entity_recall": entity["recall"],
        "entities": entity["entities"],
        "per_intent": intent["per_intent"],
        "per_entity": entity["per_type"],
        "confused_pairs": metrics.confused_pairs(gold_intents, intents, top=5),
        "entity_mistakes": entity_mistakes(texts, gold_entities, entities) if texts else [],
    }


def cross_validate(data: TrainingData, n_folds: int, config: Path, work: Path, log=print) -> Dict[str, Any]:
    """Pooled figures over the test parts of ``n_folds`` stratified folds, with each fold's training time."""
    gold_intents: List[str] = []
    gold_entities: List[set] = []
    intents: List[str] = []
    entities: List[set] = []
    texts: List[str] = []
    timings = []
    for number, (train_part, test_part) in enumerate(folds(data, n_folds), start=1):
        model, timing = train(train_part, config, work, f"fold{number}")
        predicted_intents, predicted_entities, predict_timing = predict(model, test_part)
        Path(model).unlink(missing_ok=True)
        expected_intents, expected_entities = gold(test_part)
        gold_intents += expected_intents
        gold_entities += expected_entities
        intents += predicted_intents
        entities += predicted_entities
        texts += [example.get("text") for example in test_part]
        timings.append(
            {"fold": number, "train_examples": len(train_part.training_examples), **timing, **predict_timing}
        )
        log(
            f"  fold {number}/{n_folds}: trained in {timing['train_seconds']:.0f} s "
            f"({timing['train_cpu_seconds']:.0f} s CPU), model loaded in {predict_timing['load_seconds']:.0f} s"
        )
    return {"folds": n_folds, **scores(gold_intents, gold_entities, intents, entities, texts), "fold_timings": timings}


def heldout(data: TrainingData, test: TrainingData, config: Path, work: Path, log=print) -> Dict[str, Any]:
    """Figures on the held-out set of a model trained on all of the language's training data."""
    model, timing = train(data, config, work, "full")
    examples = test.intent_examples
    intents, entities, predict_timing = predict(model, examples)
    size = Path(model).stat().st_size
    Path(model).unlink(missing_ok=True)
    log(f"  held-out model: trained in {timing['train_seconds']:.0f} s ({timing['train_cpu_seconds']:.0f} s CPU)")
    texts = [example.get("text") for example in examples]
    return {
        **scores(*gold(examples), intents, entities, texts),
        **timing,
        **predict_timing,
        "model_bytes": size,
        "train_examples": len(data.training_examples),
    }


def deployed_model(languages: Sequence[str]) -> Dict[str, Any]:
    """Figures of the assistant's trained model (all languages together) on each held-out set."""
    tests = [heldout_data(language).intent_examples for language in languages]
    results = {}
    for language, examples, (intents, entities, timing) in zip(languages, tests, predict_many(str(MODEL), tests)):
        texts = [example.get("text") for example in examples]
        results[language] = {**scores(*gold(examples), intents, entities, texts), **timing}
    return results


def evaluate(language: str, n_folds: int, heldout_model: bool = True, log=print) -> Dict[str, Any]:
    """Cross-validation (``n_folds`` > 1) and the held-out figures of a model trained on all the language's data."""
    data, test = training_data(language), heldout_data(language)

    def tagged(line: str) -> None:  # languages may be evaluated at once: each line says which
        log(f"NLU {language}: {line.strip()}")

    with tempfile.TemporaryDirectory(prefix=f"bench-nlu-{language}-") as folder:
        work = Path(folder)
        config = CONFIG
        log(f"NLU {language}: {len(data.intent_examples)} training, {len(test.intent_examples)} held-out examples")
        return {
            "language": language,
            "training_examples": len(data.intent_examples),
            "cv": cross_validate(data, n_folds, config, work, tagged) if n_folds > 1 else None,
            "heldout": heldout(data, test, config, work, tagged) if heldout_model else None,
        }


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Command line: evaluate languages and write their figures as JSON, keyed by language."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", nargs="+", required=True)
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds; 0 or 1: none")
    parser.add_argument("--no-heldout-model", action="store_true", help="train no model for the held-out set")
    parser.add_argument(
        "--deployed", action="store_true", help="only evaluate models/lead-assistant.tar.gz on the held-out sets"
    )
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    def log(line: str) -> None:
        print(f"[bench] {line}", flush=True)

    if args.deployed:
        result = {language: {"deployed_heldout": figures} for language, figures in deployed_model(args.lang).items()}
        for language, figures in result.items():
            log(
                f"deployed model, held-out {language}: macro-F1 {figures['deployed_heldout']['macro_f1']:.3f}, "
                f"entity F1 {figures['deployed_heldout']['entity_f1']:.3f}"
            )
    else:
        result = {language: evaluate(language, args.folds, not args.no_heldout_model, log) for language in args.lang}
    Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""The training data and texts are complete in English, French and Polish."""

import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml

from common.languages import LANGUAGES

ROOT = Path(__file__).resolve().parents[2]

MIN_EXAMPLES = 25
ENTITY = re.compile(r"\[[^\]]+\](?:\((\w+)(?::[^)]*)?\)|\{\"entity\":\s*\"(\w+)\")")


def load(path):
    return yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def domain():
    return load("domain.yml")


@pytest.fixture(scope="module")
def nlu():
    data = {}
    for lang in LANGUAGES:
        data[lang] = [e for e in load(f"data/nlu/{lang}.yml")["nlu"] if "intent" in e]
    return data


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_intent_has_enough_examples_in_each_language(domain, nlu, lang):
    counts = Counter()
    for block in nlu[lang]:
        counts[block["intent"]] += len([l for l in block["examples"].splitlines() if l.strip().startswith("- ")])
    for intent in domain["intents"]:
        assert counts[intent] >= MIN_EXAMPLES, f"{lang}: {intent} has {counts[intent]} examples"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_entity_is_annotated_in_each_language(domain, nlu, lang):
    seen = defaultdict(int)
    for block in nlu[lang]:
        for match in ENTITY.finditer(block["examples"]):
            seen[match.group(1) or match.group(2)] += 1
    for entity in domain["entities"]:
        if entity == "language":
            continue  # set by the tokenizer, not annotated
        assert seen[entity] > 0, f"{lang}: entity {entity} is never annotated"


def test_every_response_exists_in_english_french_and_polish(domain):
    for name, variants in domain["responses"].items():
        languages = set()
        for variant in variants:
            conditions = variant.get("condition") or []
            value = next((c["value"] for c in conditions if c.get("name") == "language"), "en")
            languages.add(value)
        if name == "utter_languages":
            continue  # one trilingual sentence
        assert languages == set(LANGUAGES), f"{name} has {sorted(languages)}"


def _texts(node, path=""):
    if isinstance(node, dict):
        if set(node) >= set(LANGUAGES):
            yield path, node
        for key, value in node.items():
            yield from _texts(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _texts(value, f"{path}[{index}]")


def test_catalog_texts_exist_in_each_language():
    catalog = load("config/catalog.yml")
    found = list(_texts(catalog))
    assert len(found) > 20
    for path, texts in found:
        for lang in LANGUAGES:
            assert texts[lang] not in (None, ""), f"{path} lacks {lang}"


def test_lexicon_labels_exist_in_each_language():
    for path, texts in _texts(load("config/lexicon.yml")["labels"]):
        assert all(texts.get(lang) for lang in LANGUAGES), path

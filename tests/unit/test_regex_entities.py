"""The patterns of data/nlu/regex.yml, read by Rasa's RegexEntityExtractor as config.yml configures it."""

from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

import pytest
import yaml
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def extractor(tmp_path_factory):
    """Rasa's RegexEntityExtractor with the project's settings, trained on the project's patterns."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.extractors.regex_entity_extractor import RegexEntityExtractor

    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    settings = next(step for step in pipeline if step["name"] == "RegexEntityExtractor")
    config = {**RegexEntityExtractor.get_default_config(), **{k: v for k, v in settings.items() if k != "name"}}
    storage = LocalModelStorage(tmp_path_factory.mktemp("regex"))
    context = ExecutionContext(GraphSchema({}), "test")
    trained = RegexEntityExtractor.create(config, storage, Resource("regex"), context)
    # Rasa keeps the patterns of the entities its training data annotates: the English examples name them all.
    trained.train(load_data(str(ROOT / "data/nlu/regex.yml")).merge(load_data(str(ROOT / "data/nlu/en.yml"))))
    return RegexEntityExtractor.load(config, storage, Resource("regex"), context)


def found(extractor, text: str) -> List[Tuple[str, str]]:
    message = Message(data={TEXT: text})
    extractor.process([message])
    return [(e["entity"], e["value"]) for e in message.get(ENTITIES, [])]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("I'm with Oakhurst Group", [("company", "Oakhurst Group")]),
        ("we're Brookes Haulage Ltd, about 80 drivers", [("company", "Brookes Haulage Ltd")]),
        ("je suis chez Durand SARL, une PME", [("company", "Durand SARL")]),
        ("pracuję w Metalpol S.A.", [("company", "Metalpol S.A.")]),
        # words that only look like a legal form or a group are no company
        ("it's a dental group with 12 clinics", []),
        ("chaque conseiller a sa propre boîte", []),
        ("I'm on the steering group", []),
    ],
)
def test_a_company_is_a_capitalised_name_ending_with_its_legal_form(extractor, text, expected):
    assert [entity for entity in found(extractor, text) if entity[0] == "company"] == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("we use zendesk and HubSpot", [("vendor", "zendesk"), ("vendor", "HubSpot")]),
        ("on est sur intercom", [("vendor", "intercom")]),
        ("we moved to Front last year", [("vendor", "Front")]),
        # names that are also words count only as names
        ("the front desk can't keep up", []),
        ("I'd gladly see a demo", []),
    ],
)
def test_vendor_names_that_are_also_words_count_only_when_capitalised(extractor, text, expected):
    assert [entity for entity in found(extractor, text) if entity[0] == "vendor"] == expected

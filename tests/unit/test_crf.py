"""The CRF entity extractor stored as trained: loaded, it finds what Rasa's retrained CRF finds."""

import itertools
import math
import random
from typing import Dict, List, Tuple

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.crf import ORDER_FILE, StoredCRFEntityExtractor, best_bilou_tags, model_file
from bot.nlu import MultilingualTokenizer

EXAMPLES: List[Tuple[str, List[Tuple[str, str]]]] = [
    ("We use Zendesk at the moment", [("Zendesk", "vendor")]),
    ("Right now it is Freshdesk", [("Freshdesk", "vendor")]),
    ("Our tool is Intercom and it is slow", [("Intercom", "vendor")]),
    ("I am Anna Nowak from Acme", [("Anna Nowak", "person"), ("Acme", "company")]),
    ("This is John Smith of Globex", [("John Smith", "person"), ("Globex", "company")]),
    ("My name is Claire Martin, Martin Bakeries", [("Claire Martin", "person"), ("Martin Bakeries", "company")]),
    ("Nothing to add", []),
    ("Hello there", []),
]
UNSEEN = ["We use Zendesk today", "I am Claire Nowak from Globex", "hello", "", "!!!"]
CONTEXT = ExecutionContext(GraphSchema({}), "test")


def message(text: str, spans: List[Tuple[str, str]] = ()) -> Message:
    entities = []
    for value, kind in spans:
        start = text.index(value)
        entities.append({"start": start, "end": start + len(value), "value": value, "entity": kind})
    return Message(data={TEXT: text, INTENT: "inform", ENTITIES: entities})


class Pipeline:
    """Tokenizer and featurizer trained on the examples, as in the assistant's pipeline."""

    def __init__(self, storage: LocalModelStorage, examples=EXAMPLES) -> None:
        self.tokenizer = MultilingualTokenizer(MultilingualTokenizer.get_default_config())
        config = CountVectorsFeaturizer.get_default_config()
        self.featurizer = CountVectorsFeaturizer.create(config, storage, Resource("words"), CONTEXT)
        self.data = TrainingData([message(text, spans) for text, spans in examples])
        self.tokenizer.process_training_data(self.data)
        self.featurizer.train(self.data)
        self.featurizer.process_training_data(self.data)

    def read(self, extractor: CRFEntityExtractor, texts: List[str]) -> List[List[tuple]]:
        messages = [Message(data={TEXT: text}) for text in texts]
        self.tokenizer.process(messages)
        self.featurizer.process(messages)
        extractor.process(messages)
        return [
            [
                (e["entity"], e["value"], e["start"], e["end"], round(e["confidence_entity"], 9))
                for e in m.get(ENTITIES)
                if e.get("extractor") == extractor.name
            ]
            for m in messages
        ]


def trained(cls, storage: LocalModelStorage, pipeline: Pipeline, name: str) -> CRFEntityExtractor:
    config = {**cls.get_default_config(), "max_iterations": 30}
    extractor = cls.create(config, storage, Resource(name), CONTEXT)
    extractor.train(pipeline.data)
    return extractor


def test_the_stored_crf_finds_what_rasas_retrained_crf_finds(tmp_path):
    storage = LocalModelStorage(tmp_path)
    pipeline = Pipeline(storage)
    stored = trained(StoredCRFEntityExtractor, storage, pipeline, "stored")
    trained(CRFEntityExtractor, storage, pipeline, "rasa")  # stores its training set
    config = {**StoredCRFEntityExtractor.get_default_config(), "max_iterations": 30}
    loaded = StoredCRFEntityExtractor.load(config, storage, Resource("stored"), CONTEXT)
    rasa_loaded = CRFEntityExtractor.load(config, storage, Resource("rasa"), CONTEXT)  # trains again

    found = pipeline.read(loaded, UNSEEN)
    assert found == pipeline.read(stored, UNSEEN) == pipeline.read(rasa_loaded, UNSEEN)
    assert [kind for kind, *_ in found[0]] == ["vendor"]
    assert found[2:] == [[], [], []]


def test_the_trained_crfs_are_stored_and_not_the_training_set(tmp_path):
    storage = LocalModelStorage(tmp_path)
    trained(StoredCRFEntityExtractor, storage, Pipeline(storage), "stored")
    with storage.read_from(Resource("stored")) as folder:
        names = sorted(path.name for path in folder.iterdir())
    assert names == sorted([ORDER_FILE, model_file("entity")])


def test_without_entities_to_learn_the_loaded_extractor_finds_nothing(tmp_path):
    storage = LocalModelStorage(tmp_path)
    pipeline = Pipeline(storage, [(text, []) for text, _ in EXAMPLES])
    trained(StoredCRFEntityExtractor, storage, pipeline, "empty")
    config = StoredCRFEntityExtractor.get_default_config()
    loaded = StoredCRFEntityExtractor.load(config, storage, Resource("empty"), CONTEXT)
    assert pipeline.read(loaded, UNSEEN) == [[], [], [], [], []]


LABELS = ["O"] + [f"{prefix}-{kind}" for kind in ("benefit", "person") for prefix in "BILU"]


def valid_bilou(tags: List[str]) -> bool:
    """An entity is U-x, or B-x, I-x..., L-x; nothing else opens or closes one."""
    open_kind = None
    for tag in tags:
        prefix, _, kind = tag.partition("-")
        if open_kind is not None:
            if prefix not in ("I", "L") or kind != open_kind:
                return False
            open_kind = None if prefix == "L" else open_kind
        elif prefix in ("I", "L"):
            return False
        elif prefix == "B":
            open_kind = kind
    return open_kind is None


def log_score(marginals, tags, outside_weight):
    return sum(
        math.log(max(token[tag] * (outside_weight if tag == "O" else 1.0), 1e-12))
        for token, tag in zip(marginals, tags)
    )


def test_the_sequence_read_is_the_most_probable_valid_bilou_sequence():
    randomness = random.Random(3)
    for _ in range(200):
        length = randomness.randint(1, 4)
        weight = randomness.choice([1.0, 0.5, 0.2])
        marginals = []
        for _ in range(length):
            values = [randomness.random() ** 3 for _ in LABELS]
            marginals.append({label: value / sum(values) for label, value in zip(LABELS, values)})
        found = best_bilou_tags(marginals, weight)
        every = [list(tags) for tags in itertools.product(LABELS, repeat=length) if valid_bilou(list(tags))]
        best = max(log_score(marginals, tags, weight) for tags in every)
        assert valid_bilou(found)
        assert math.isclose(log_score(marginals, found, weight), best, abs_tol=1e-9)
    assert best_bilou_tags([]) == []


def probabilities(**given: float) -> Dict[str, float]:
    rest = (1 - sum(given.values())) / (len(LABELS) - len(given))
    return {label: given.get(label.replace("-", "_"), rest) for label in LABELS}


def test_a_weight_below_one_keeps_a_phrase_the_crf_is_unsure_of():
    unsure = [probabilities(O=0.5, B_benefit=0.4), probabilities(O=0.5, L_benefit=0.4)]
    assert best_bilou_tags(unsure) == ["O", "O"]
    assert best_bilou_tags(unsure, outside_weight=0.5) == ["B-benefit", "L-benefit"]
    # Token by token the middle word would be "outside" and the phrase cut in two; as a sequence it holds.
    phrase = [probabilities(B_benefit=0.8), probabilities(O=0.45, I_benefit=0.4), probabilities(L_benefit=0.8)]
    assert best_bilou_tags(phrase) == ["B-benefit", "I-benefit", "L-benefit"]


def test_the_extractor_reads_whole_sequences_with_a_weight_per_language(tmp_path):
    storage = LocalModelStorage(tmp_path)
    pipeline = Pipeline(storage)
    config = {
        **StoredCRFEntityExtractor.get_default_config(),
        "max_iterations": 30,
        "decoding": "sequence",
        "outside_weight": {"en": 0.5},
    }
    extractor = StoredCRFEntityExtractor.create(config, storage, Resource("sequence"), CONTEXT)
    extractor.train(pipeline.data)
    assert (extractor.outside_weight("en"), extractor.outside_weight("pl"), extractor.outside_weight(None)) == (
        0.5,
        1.0,
        1.0,
    )
    found = pipeline.read(extractor, UNSEEN)
    assert [(kind, value) for kind, value, *_ in found[0]] == [("vendor", "Zendesk")]
    assert found[2:] == [[], [], []]


def test_the_extractor_applies_its_language_s_weight_where_the_two_readings_differ(tmp_path):
    """With "outside" weighted almost to nothing, a whole English message is read as entities.

    Rasa's token-by-token reading of the same CRF finds the vendor alone, and
    so does the sequence read of a Polish message, whose weight stays 1.
    """
    storage = LocalModelStorage(tmp_path)
    pipeline = Pipeline(storage)
    texts = ["We use Zendesk today", "Używamy teraz Zendesk"]
    config = {
        **StoredCRFEntityExtractor.get_default_config(),
        "max_iterations": 30,
        "decoding": "sequence",
        "outside_weight": {"en": 1e-9},
    }
    extractor = StoredCRFEntityExtractor.create(config, storage, Resource("sequence"), CONTEXT)
    extractor.train(pipeline.data)
    english, polish = pipeline.read(extractor, texts)
    covered = sum(end - start for _, _, start, end, _ in english)
    assert covered == len("WeuseZendesktoday")
    assert [(kind, value) for kind, value, *_ in polish] == [("vendor", "Zendesk")]

    tokens = StoredCRFEntityExtractor.create({**config, "decoding": "tokens"}, storage, Resource("sequence"), CONTEXT)
    tokens.train(pipeline.data)
    assert [(kind, value) for kind, value, *_ in pipeline.read(tokens, texts)[0]] == [("vendor", "Zendesk")]


@pytest.mark.parametrize(
    "option", [{"decoding": "viterbi"}, {"outside_weight": 0}, {"outside_weight": {"en": -1}}, {"outside_weight": "x"}]
)
def test_a_wrong_decoding_option_is_refused(tmp_path, option):
    config = {**StoredCRFEntityExtractor.get_default_config(), **option}
    with pytest.raises(ValueError):
        StoredCRFEntityExtractor.create(config, LocalModelStorage(tmp_path), Resource("wrong"), CONTEXT)

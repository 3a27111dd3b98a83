"""The CRF entity extractor stored as trained: loaded, it finds what Rasa's retrained CRF finds."""

from typing import List, Tuple

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.crf import ORDER_FILE, StoredCRFEntityExtractor, model_file
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

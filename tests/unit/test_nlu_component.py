"""The multilingual tokenizer: real spaCy tokenizers per language, language entity."""

from rasa.shared.nlu.constants import ENTITIES, METADATA, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu import MultilingualTokenizer


def tokenizer() -> MultilingualTokenizer:
    return MultilingualTokenizer(MultilingualTokenizer.get_default_config())


def tokens(text: str, metadata=None):
    message = Message(data={TEXT: text, METADATA: metadata or {}})
    return [t.text for t in tokenizer().tokenize(message, TEXT)], message


def test_french_elisions_are_split_by_the_french_rules():
    words, message = tokens("Qu'est-ce que l'équipe IT en pense ?")
    assert "l'" in words and "équipe" in words
    assert message.get("language") == "fr"


def test_polish_text_is_tokenized_as_polish():
    words, message = tokens("Dzień dobry, mamy za dużo zgłoszeń.")
    assert words[:3] == ["Dzień", "dobry", ","]
    assert message.get("language") == "pl"


def test_emoji_only_and_empty_text_do_not_break_tokenization():
    assert tokens("😀😀")[0]
    assert tokens("")[0] == []


def test_language_entity_added_at_prediction_and_hint_used_for_short_text():
    component = tokenizer()
    clear = Message(data={TEXT: "Bonjour, nous cherchons un outil pour notre service client"})
    short = Message(data={TEXT: "ok", METADATA: {"locale": "pl-PL"}})
    unclear = Message(data={TEXT: "ok"})
    component.process([clear, short, unclear])
    assert [e["value"] for e in clear.get(ENTITIES) if e["entity"] == "language"] == ["fr"]
    assert [e["value"] for e in short.get(ENTITIES) if e["entity"] == "language"] == ["pl"]
    assert not [e for e in unclear.get(ENTITIES, []) if e["entity"] == "language"]


def test_the_intent_classifier_gives_no_intent_to_a_message_without_features(tmp_path):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
    from rasa.shared.nlu.constants import INTENT
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.nlu import IntentLogisticRegression

    storage, context = LocalModelStorage(tmp_path), ExecutionContext(GraphSchema({}), "test")
    featurizer = CountVectorsFeaturizer.create(
        CountVectorsFeaturizer.get_default_config(), storage, Resource("words"), context
    )
    classifier = IntentLogisticRegression.create(
        IntentLogisticRegression.get_default_config(), storage, Resource("intents"), context
    )
    examples = [
        Message(data={TEXT: text, INTENT: intent})
        for text, intent in (
            ("hello there", "greet"),
            ("hi", "greet"),
            ("good morning", "greet"),
            ("how much is it", "ask_pricing"),
            ("what does it cost", "ask_pricing"),
            ("price please", "ask_pricing"),
        )
    ]
    data = TrainingData(examples)
    tokenizer().process_training_data(data)
    featurizer.train(data)
    featurizer.process_training_data(data)
    classifier.train(data)

    hello, empty, unknown = (Message(data={TEXT: t}) for t in ("hello", "", "zzzz"))
    messages = [hello, empty, unknown]
    tokenizer().process(messages)
    featurizer.process(messages)
    classifier.process(messages)
    assert hello.get(INTENT)["name"] == "greet"
    assert empty.get(INTENT) == {"name": None, "confidence": 0.0}
    assert unknown.get(INTENT) == {"name": None, "confidence": 0.0}

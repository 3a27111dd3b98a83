"""The multilingual sentence encoder and the intent classifier that reads its vectors (real model, no mocks)."""

import numpy as np
import pytest
from rasa.shared.nlu.constants import INTENT

from bot.encoder import DIMENSIONS, MAX_CHARACTERS, SentenceVectors, sentence_vectors
from tests.unit.test_nlu_component import trained_classifier


def test_vectors_are_normalised_and_one_per_text_in_order():
    vectors = SentenceVectors()
    texts = ["how much does it cost?", "we need a chatbot", "how much does it cost?"]
    rows = vectors(texts)
    assert rows.shape == (3, DIMENSIONS)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-3)
    assert np.array_equal(rows[0], rows[2])
    assert not np.allclose(rows[0], rows[1])
    assert vectors([]).shape == (0, DIMENSIONS)


def test_meaning_is_shared_across_languages():
    """A question on price is closer to the same question in French and Polish than to a request for a human."""
    price, prix, cena, human = SentenceVectors()(
        ["How much does it cost per month?", "Combien ça coûte par mois ?", "Ile to kosztuje miesięcznie?",
         "Can I talk to a real person?"]
    )  # fmt: skip
    assert price @ prix > price @ human
    assert price @ cena > price @ human


def test_the_cache_is_bounded_and_keeps_the_latest_texts():
    vectors = SentenceVectors(capacity=3)
    vectors([f"message number {i}" for i in range(5)])
    assert list(vectors._cache) == ["message number 2", "message number 3", "message number 4"]
    vectors(["message number 2"])  # read again: now the latest
    vectors(["message number 9"])
    assert list(vectors._cache) == ["message number 4", "message number 2", "message number 9"]


@pytest.mark.parametrize("text", ["", "   ", "😀😀😀", "<script>alert(1)</script>", "a" * 200_000, "\u202eevil"])
def test_odd_texts_get_a_vector(text):
    rows = SentenceVectors()([text])
    assert rows.shape == (1, DIMENSIONS) and np.isfinite(rows).all()


def test_long_texts_are_cut_before_encoding():
    vectors = SentenceVectors()
    head = "we need help with support tickets " * 20
    assert len(head) > MAX_CHARACTERS
    assert np.array_equal(vectors([head])[0], vectors([head + "and something else entirely"])[0])


EXAMPLES = [
    ("how much does it cost", "ask_pricing"),
    ("what is the price", "ask_pricing"),
    ("is it expensive", "ask_pricing"),
    ("what are your rates", "ask_pricing"),
    ("can I talk to a person", "request_human"),
    ("put me through to an agent", "request_human"),
    ("I want a human", "request_human"),
    ("connect me with your sales team", "request_human"),
    ("hello there", "greet"),
    ("good morning", "greet"),
    ("hi", "greet"),
    ("hey, hello", "greet"),
]
#: Sentences none of whose content words is in EXAMPLES.
UNSEEN = [
    ("Combien faut-il payer chaque mois ?", "ask_pricing"),
    ("Ile zapłacimy za licencję?", "ask_pricing"),
    ("Je voudrais parler à quelqu'un de chez vous", "request_human"),
    ("Poproszę o kontakt z konsultantem", "request_human"),
    ("Bonjour à tous", "greet"),
]


def test_the_encoder_reads_what_the_words_alone_miss(tmp_path):
    (tmp_path / "on").mkdir()
    (tmp_path / "off").mkdir()
    _, with_encoder = trained_classifier(
        tmp_path / "on", EXAMPLES, char_ngrams=True, encoder_scale=10, encoder_below=1.0
    )
    _, without = trained_classifier(tmp_path / "off", EXAMPLES, char_ngrams=True)
    texts = [text for text, _ in UNSEEN]
    expected = [intent for _, intent in UNSEEN]
    right_with = sum(m.get(INTENT)["name"] == e for m, e in zip(with_encoder(*texts), expected))
    right_without = sum(m.get(INTENT)["name"] == e for m, e in zip(without(*texts), expected))
    assert right_with >= 4 and right_with > right_without


def test_a_confident_message_is_not_encoded(tmp_path):
    classifier, read = trained_classifier(tmp_path, EXAMPLES, char_ngrams=True, encoder_scale=10, encoder_below=0.3)
    assert classifier.encoded is not None
    text = "how much does it cost, what is the price"
    (message,) = read(text)
    assert message.get(INTENT)["confidence"] >= 0.3
    assert "how much does it cost, what is the price" not in sentence_vectors._cache


def test_both_regressions_are_stored_and_loaded(tmp_path):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from bot.nlu import IntentLogisticRegression

    classifier, _ = trained_classifier(tmp_path, EXAMPLES, encoder_scale=10)
    loaded = IntentLogisticRegression.load(
        classifier.config, LocalModelStorage(tmp_path), Resource("intents"), ExecutionContext(GraphSchema({}), "test")
    )
    assert loaded.encoded is not None
    assert np.array_equal(loaded.encoded.coef_, classifier.encoded.coef_)
    assert np.array_equal(loaded.clf.coef_, classifier.clf.coef_)
    assert loaded.encoded.coef_.shape[1] == classifier.clf.coef_.shape[1] + DIMENSIONS


def test_without_the_encoder_nothing_else_is_trained(tmp_path):
    classifier, _ = trained_classifier(tmp_path, EXAMPLES)
    assert classifier.encoded is None
    assert not list(tmp_path.rglob("encoded.skops"))

"""Clause cues for the CRF: clauses cut where a reader would cut them, probabilities learnt, stored and loaded."""

from typing import List, Tuple

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.clauses import WEIGHTS_FILE, ClauseFeaturizer, clauses
from bot.encoder import DIMENSIONS
from bot.nlu import LANGUAGE_ATTRIBUTE, MultilingualTokenizer

CONTEXT = ExecutionContext(GraphSchema({}), "clauses")
TOKENIZER = MultilingualTokenizer(MultilingualTokenizer.get_default_config())


def tokenised(text: str, spans: List[Tuple[str, str]] = ()) -> Message:
    entities = []
    for value, kind in spans:
        start = text.index(value)
        entities.append({"start": start, "end": start + len(value), "value": value, "entity": kind})
    message = Message(data={TEXT: text, INTENT: "inform", ENTITIES: entities})
    TOKENIZER.process_training_data(TrainingData([message]))
    return message


def clause_words(text: str) -> List[str]:
    message = tokenised(text)
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    return [
        " ".join(token.text for token in tokens[begin:end])
        for begin, end in clauses(tokens, message.get(LANGUAGE_ATTRIBUTE))
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("I decide, but my CFO signs the contract.", ["I decide", "but my CFO signs the contract"]),
        ("je recommande et notre directrice décide", ["je recommande", "et notre directrice décide"]),
        ("ja tylko rekomenduję, a decyduje prezes", ["ja tylko rekomenduję", "a decyduje prezes"]),
        ("i think i decide", ["i think i decide"]),  # the English pronoun is not the Polish "i"
        ("!!! ...", []),
        ("", []),
    ],
)
def test_a_message_is_cut_at_punctuation_and_at_conjunctions(text, expected):
    assert clause_words(text) == expected


EXAMPLES = [
    ("I make the final decision, we use Zendesk", [("I make the final decision", "authority")]),
    ("the decision is mine", [("the decision is mine", "authority")]),
    ("I decide on software", [("I decide", "authority")]),
    ("I am the one who decides, really", [("I am the one who decides", "authority")]),
    ("I sign the contracts myself", [("I sign the contracts", "authority")]),
    ("I approve the budget and the contracts", [("I approve the budget", "authority")]),
    ("mostly a lower monthly bill", [("lower monthly bill", "benefit")]),
    ("paying less every month", [("paying less", "benefit")]),
    ("lower costs for the team", [("lower costs", "benefit")]),
    ("we use Freshdesk today", []),
    ("hello there", []),
    ("what does it cost", []),
    ("my name is Anna", []),
    ("thanks, bye", []),
]


def trained(storage: LocalModelStorage, encoder_scale: float = 0.0) -> Tuple[ClauseFeaturizer, TrainingData]:
    data = TrainingData([tokenised(text, spans) for text, spans in EXAMPLES])
    config = {**ClauseFeaturizer.get_default_config(), "encoder_scale": encoder_scale}
    featurizer = ClauseFeaturizer.create(config, storage, Resource("clauses"), CONTEXT)
    featurizer.train(data)
    return featurizer, data


def features(featurizer: ClauseFeaturizer, text: str) -> np.ndarray:
    message = tokenised(text)
    featurizer.process([message])
    sequence, sentence = message.get_dense_features(TEXT)
    assert sentence is None  # nothing for the intent classifier: it reads sentence features only
    return sequence.features


def test_each_token_gets_its_clause_probabilities(tmp_path):
    featurizer, _ = trained(LocalModelStorage(tmp_path))
    rows = features(featurizer, "we use Freshdesk, the decision is mine")
    # tokens: we use Freshdesk , the decision is mine
    assert rows.shape == (8, 2)
    authority = rows[:, 0]
    assert authority[4:].min() > authority[:3].max()  # the second clause reads as the visitor's part
    assert (rows[4:] == rows[4]).all() and (rows[:3] == rows[0]).all()  # one figure per clause
    assert rows[3].tolist() == [0, 0]  # the comma belongs to no clause
    benefit = features(featurizer, "lower bills every month")[:, 1]
    assert benefit.min() > features(featurizer, "hello there")[:, 1].max()


def test_training_examples_are_read_by_regressions_that_never_saw_them(tmp_path):
    featurizer, data = trained(LocalModelStorage(tmp_path))
    featurizer.process_training_data(data)
    first = data.training_examples[0]
    crossfitted = first.get_dense_features(TEXT)[0].features
    direct = features(featurizer, first.get(TEXT))
    assert crossfitted.shape == direct.shape
    assert crossfitted[0, 0] < direct[0, 0]  # out of fold, the example's own words do not vouch for it


def test_stored_regressions_are_plain_arrays_and_load_to_the_same_figures(tmp_path):
    storage = LocalModelStorage(tmp_path)
    featurizer, _ = trained(storage)
    with storage.read_from(Resource("clauses")) as model_dir:
        with np.load(model_dir / WEIGHTS_FILE, allow_pickle=False) as stored:
            assert sorted(stored.files) == ["authority", "benefit"]
    loaded = ClauseFeaturizer.load(ClauseFeaturizer.get_default_config(), storage, Resource("clauses"), CONTEXT)
    text = "honestly I decide, cheaper would be nice"
    assert np.allclose(features(loaded, text), features(featurizer, text))


def test_with_the_encoder_a_clause_in_words_never_trained_on_is_read_by_its_meaning(tmp_path):
    (tmp_path / "plain").mkdir()
    (tmp_path / "encoded").mkdir()
    plain, _ = trained(LocalModelStorage(tmp_path / "plain"))
    encoded, _ = trained(LocalModelStorage(tmp_path / "encoded"), encoder_scale=2)
    # Polish, and an English wording none of the examples uses: no n-gram of the clause vouches for it
    for text, column in [("decyzja należy do mnie", 0), ("spending less", 1)]:
        assert features(encoded, text)[0, column] > features(plain, text)[0, column] + 0.05
    for text in ["we use Zendesk", "hi"]:  # and what holds neither reads no higher than before
        assert features(encoded, text).max() <= features(plain, text).max() + 0.02
    # the first regressions as without the encoder, and second ones that also read the sentence vector
    assert sorted(encoded.weights) == ["authority", "authority.encoded", "benefit", "benefit.encoded"]
    for entity in ["authority", "benefit"]:
        assert np.array_equal(encoded.weights[entity], plain.weights[entity])
        assert len(encoded.weights[entity + ".encoded"]) == len(plain.weights[entity]) + DIMENSIONS
    text = "honestly I decide, cheaper would be nice"
    loaded = ClauseFeaturizer.load(
        {**ClauseFeaturizer.get_default_config(), "encoder_scale": 2},
        LocalModelStorage(tmp_path / "encoded"),
        Resource("clauses"),
        CONTEXT,
    )
    assert np.allclose(features(loaded, text), features(encoded, text))


def test_clauses_the_first_regressions_rule_out_are_not_encoded(tmp_path):
    """With ``encoder_from`` above every clause's figure, nothing is encoded: the figures are those without it."""
    (tmp_path / "plain").mkdir()
    plain, _ = trained(LocalModelStorage(tmp_path / "plain"))
    storage = LocalModelStorage(tmp_path)
    data = TrainingData([tokenised(text, spans) for text, spans in EXAMPLES])
    config = {**ClauseFeaturizer.get_default_config(), "encoder_scale": 2, "encoder_from": 0.999}
    featurizer = ClauseFeaturizer.create(config, storage, Resource("clauses"), CONTEXT)
    featurizer.train(data)
    assert sorted(featurizer.weights) == ["authority", "benefit"]
    for text in ["decyzja należy do mnie", "spending less, I decide"]:
        assert np.array_equal(features(featurizer, text), features(plain, text))


def test_training_examples_are_encoded_where_the_first_regressions_do_not_rule_them_out(tmp_path):
    """Out of fold, a clause under ``encoder_from`` keeps the first regressions' figure; the others get new ones."""
    (tmp_path / "plain").mkdir()
    plain, plain_data = trained(LocalModelStorage(tmp_path / "plain"))
    plain.process_training_data(plain_data)
    first = [message.get_dense_features(TEXT)[0].features for message in plain_data.training_examples]
    threshold = float(np.median([rows.max() for rows in first]))
    data = TrainingData([tokenised(text, spans) for text, spans in EXAMPLES])
    config = {**ClauseFeaturizer.get_default_config(), "encoder_scale": 2, "encoder_from": threshold}
    featurizer = ClauseFeaturizer.create(config, LocalModelStorage(tmp_path), Resource("clauses"), CONTEXT)
    featurizer.train(data)
    featurizer.process_training_data(data)
    below = above = 0
    for before, message in zip(first, data.training_examples):
        after = message.get_dense_features(TEXT)[0].features
        for old, new in zip(before, after):
            if not old.any():
                continue  # punctuation
            if old.max() < threshold:
                below += 1
                assert np.array_equal(old, new)
            elif not np.allclose(old, new):
                above += 1
    assert below and above


def test_without_stored_regressions_every_clause_reads_as_holding_nothing(tmp_path):
    config = ClauseFeaturizer.get_default_config()
    empty = ClauseFeaturizer.load(config, LocalModelStorage(tmp_path), Resource("missing"), CONTEXT)
    rows = features(empty, "I decide, cheaper please")
    assert rows.shape == (5, 2) and rows.max() == 0


@pytest.mark.parametrize("change, message", [({"entities": []}, "entities"), ({"encoder_scale": -1}, "encoder_scale")])
def test_a_configuration_without_entities_or_with_a_negative_encoder_scale_is_refused(tmp_path, change, message):
    with pytest.raises(ValueError, match=message):
        ClauseFeaturizer.create(
            {**ClauseFeaturizer.get_default_config(), **change},
            LocalModelStorage(tmp_path),
            Resource("clauses"),
            CONTEXT,
        )


@pytest.mark.parametrize("text", ["!!!", "...", "🙂🙂", "<b>", "a"])
def test_messages_without_clauses_or_words_get_features_all_the_same(tmp_path, text):
    featurizer, _ = trained(LocalModelStorage(tmp_path))
    tokens = tokenised(text).get(TOKENS_NAMES[TEXT]) or []
    rows = features(featurizer, text)
    assert rows.shape == (len(tokens), 2)
    outside = [index for index, token in enumerate(tokens) if not any(c.isalnum() for c in token.text)]
    assert (rows[outside] == 0).all()  # punctuation and emoji belong to no clause

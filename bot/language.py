"""Rule-based language identification for English, French and Polish.

The assistant must answer in the visitor's language, keep it stable across
short replies ("ok") and switch when the visitor switches. A short text that
does not clearly belong to one language therefore yields ``None``, and the
caller keeps the language it already had.

A text is scored per language on the letters only one of the three uses, its
common words, and how its other words are built (Polish "rz", "sz" and
endings, French elisions and endings, English "th" and contractions); an
e-mail address or a link counts for nothing, and letters of other languages
("ñ", "ß", "ü") outweighing ours make the text none of the three.
"""

from __future__ import annotations

import re
from typing import Dict, Optional

from common.languages import LANGUAGES as SUPPORTED

_WORDS: Dict[str, frozenset] = {
    "en": frozenset(
        """the a an and or but is are was were be been am i i'm im we we're you your
        our my me us it it's its this that these those what which who whom how why
        when where do does did don't doesn't can can't could would should will won't
        have has had not no yes yeah yep nope hi hello hey thanks thank please with
        for from about of to in on at by just also very much many some any anyone
        else there their they them he she his her who's need want looking use using
        price cost company team support customers people sure okay right great good
        bye morning afternoon evening what's how's there's that's we've i've i'll
        you're they're isn't aren't wasn't didn't wouldn't haven't let's here now
        then than more less most soon later today tomorrow week month year get got
        make go going through via since someone something anything nothing really
        time money saving call talk human matters like feels would've into our
        out up down over after before because so if only all every each other
        same who'd we'll they'll mine yours ours whatever""".split()
    ),
    "fr": frozenset(
        """le la les un une des du de et ou mais est sont était être je j'ai nous
        vous tu il elle ils elles on notre nos votre vos mon ma mes ton ta ce cette
        ces cet qui que quoi quel quelle quels comment pourquoi quand où oui non
        merci bonjour bonsoir salut pas ne plus très avec pour sur dans chez par
        aussi alors donc c'est qu'est-ce qu'il d'accord ça cela combien besoin
        avons avez sommes êtes fait faire équipe entreprise société coût prix
        client clients moi toi lui leur leurs au aux y en se sa son ses vos
        cherchons utilisons voudrais aimerais peut peux bien suis es ont avoir
        sera serait tout tous toute toutes rien si sans depuis avant après encore
        déjà toujours jamais beaucoup peu trop moins chose quelque dont car puis
        comme vraiment assez voilà parfait bonne bon journée soirée svp stp
        demain matin aujourd'hui vrai humain laissez allez passez mois ans
        quelqu'un personne nous-mêmes ici là-bas vais va vont fais font dit
        veux veut voulons pouvons devons faut gagner moins cher""".split()
    ),
    "pl": frozenset(
        """i w we na z ze do od po za o a ale lub albo czy jest są był była być jestem
        jesteśmy nie tak to ten ta te tego tej ich nas nasz nasza nasze naszej
        mój moja moje pan pani państwo państwa co kto jak dlaczego kiedy gdzie ile
        dzień dobry cześć witam dziękuję dzięki proszę się mam mamy chcę chcemy
        szukamy używamy potrzebujemy firma firmy firmie zespół klientów klienci
        koszt cena bardzo też już jeszcze może można który która które dla przez
        oraz jako mnie mi nam was wam dobrze zgadza ja ty on ona my wy oni ma
        macie masz jaki jaka jakie jakiś jakieś że żeby ze zeby bo więc wiec
        tylko bez przy nad pod przed między teraz tam tu tutaj będzie bedzie
        będę bede juz moze prosze dziekuje czesc jestes jesteś pewnie jasne
        okej spoko sprawy widzenia zobaczenia weekendu racja prawda sama
        nic wszystko coś cos trochę troche dużo duzo mało malo mniej więcej
        wiecej niż niz gdy jeśli jesli jezeli jeżeli zawsze nigdy dziś dzis
        jutro rano potem""".split()
    ),
}

# Letters that only one of the three languages uses.
_LETTERS = {
    "pl": set("ąćęłńśźżĄĆĘŁŃŚŹŻ"),
    "fr": set("àâæçèêëîïôœùûÿÀÂÆÇÈÊËÎÏÔŒÙÛŸ"),
}
# Letters of the three that other languages use too (Spanish, Portuguese, Hungarian...): half as telling.
_SHARED_LETTERS = {"pl": set("óÓ"), "fr": set("éÉ")}
# Letters and marks of other languages and not of English, French or Polish: such a text is none of ours.
_OTHER_LETTERS = set("ñßäöüáíúìòãõ¿¡ÑÄÖÜÁÍÚÌÒÃÕ")

# How words of each language are often built, for words that no list holds
# (Polish "rz", "sz", "cz" and endings, French elisions and endings, English
# "th", "wh", "-ing" and contractions): each such word counts half a word.
_SHAPES = {
    "en": re.compile(r"^(?:th|wh)|ing$|n't$|'(?:s|re|ve|ll|d)$"),
    "fr": re.compile(r"^(?:l|d|j|n|qu|c|s|m|t)'\w|(?:eaux?|eux|euse|ière|aient|ait|ez|ée)$"),
    "pl": re.compile(r"rz|sz|cz|dz|^w[bcdfgjklmnpstwz]|(?:ych|ami|owi|ego|emy|imy|esz|uje|ują|owac|ować|cie)$"),
}

# Short replies that identify a language on their own.
_MARKERS = {
    "oui": "fr",
    "ouais": "fr",
    "non merci": "fr",
    "merci": "fr",
    "bonjour": "fr",
    "salut": "fr",
    "d'accord": "fr",
    "tak": "pl",
    "nie": "pl",
    "dzięki": "pl",
    "dzieki": "pl",
    "dziękuję": "pl",
    "dziekuje": "pl",
    "cześć": "pl",
    "czesc": "pl",
    "witam": "pl",
    "yes": "en",
    "no": "en",
    "thanks": "en",
    "hello": "en",
    "hi": "en",
    "hey": "en",
    "yep": "en",
    "nope": "en",
    "sure": "en",
    "thank you": "en",
}

# An address names no language ("sam.w@…", "…@onet.pl"): it is left out before the words are counted.
_ADDRESS_STARTS = ("http://", "https://", "www.")
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)


def normalize_locale(hint: Optional[str]) -> Optional[str]:
    """Map a locale such as ``fr-FR`` or ``pl_PL`` to a supported language."""
    if not isinstance(hint, str):
        return None
    code = hint.strip().lower().replace("_", "-").split("-")[0]
    return code if code in SUPPORTED else None


def detect_language(text: Optional[str], hint: Optional[str] = None) -> Optional[str]:
    """Return ``en``, ``fr`` or ``pl`` when ``text`` clearly is one of them.

    ``hint`` (a locale from the channel) decides only when the text itself
    is not conclusive.
    """
    fallback = normalize_locale(hint)
    if not text or not isinstance(text, str):
        return fallback
    parts = text[:2000].split()
    text = " ".join(part for part in parts if "@" not in part and not part.lower().startswith(_ADDRESS_STARTS))
    lowered = text.strip().lower()
    bare = lowered.strip(" !?.,;:")
    if bare in _MARKERS:
        return _MARKERS[bare]

    scores = {lang: 0.0 for lang in SUPPORTED}
    for lang, letters in _LETTERS.items():
        scores[lang] += 1.5 * sum(1 for ch in lowered if ch in letters)
    for lang, letters in _SHARED_LETTERS.items():
        scores[lang] += 0.75 * sum(1 for ch in lowered if ch in letters)
    other = 1.5 * sum(1 for ch in lowered if ch in _OTHER_LETTERS)
    # a capitalised word inside the text is a name ("Polisa Plus", "Help Scout"), not a word of the language
    words = _TOKEN.findall(text.strip())
    tokens = [w.lower() for i, w in enumerate(words) if i == 0 or len(w) == 1 or not w[:1].isupper()]
    for token in tokens:
        for lang, words in _WORDS.items():
            if token in words:
                scores[lang] += 1.0
            elif len(token) > 2 and _SHAPES[lang].search(token):
                scores[lang] += 0.5
    best = max(scores, key=lambda lang: scores[lang])
    ranked = sorted(scores.values(), reverse=True)
    if other >= ranked[0]:
        return fallback
    if ranked[0] >= 2.0 and ranked[0] >= 1.5 * ranked[1] + 0.5:
        return best
    if ranked[0] >= 1.0 and ranked[1] == 0 and len(tokens) <= 3:
        return best
    return fallback

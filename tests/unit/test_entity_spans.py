"""The entity span convention of data/nlu/README.md, applied to all annotated data (training and held out)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.nlu import PHRASE_TAILS, SPAN_LEADING_WORDS, SPAN_LEADING_WORDS_IN, SPAN_TRAILING_WORDS, tail_start
from common.languages import LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
ENTITY = re.compile(r"\[([^\]]+)\](?:\((\w+)(?::[^)]*)?\)|\{\"entity\":\s*\"(\w+)\"[^}]*\})")
#: The words opening a clause that says what should happen: a benefit in such a clause begins with them.
OPENING_WORDS = re.compile(r"(?:^|\s)(?:so that|que|qu['’]|żeby|zeby|aby)\s*$", re.IGNORECASE)
LEADING = SPAN_LEADING_WORDS  # the words a span must not start with, per entity


FILES = ("data/nlu/{}.yml", "bench/heldout/{}.yml")


def spans(language: str):
    for name in FILES:
        yield from spans_of(ROOT / name.format(language))


def spans_of(path: Path):
    for line in path.read_text(encoding="utf-8").splitlines():
        for match in ENTITY.finditer(line):
            yield match.group(1), match.group(2) or match.group(3)


def benefits_with_what_precedes(language: str):
    """Each benefit span of the language's files with the text just before it (annotations removed)."""
    for name in FILES:
        for line in (ROOT / name.format(language)).read_text(encoding="utf-8").splitlines():
            for match in ENTITY.finditer(line):
                if (match.group(2) or match.group(3)) == "benefit":
                    before = ENTITY.sub(lambda found: found.group(1), line[: match.start()])
                    yield match.group(1), before


@pytest.mark.parametrize("language", LANGUAGES)
def test_entity_spans_follow_the_written_convention(language):
    wrong = []
    for span, kind in spans(language):
        if span != span.strip() or re.search(r"^[^\w\[+(]|[,;:!?]$", span):
            wrong.append((kind, span, "space or punctuation at an edge"))
        if kind in LEADING and re.match(LEADING[kind], span, re.IGNORECASE):
            wrong.append((kind, span, "starts with a word that stays outside"))
        only_here = SPAN_LEADING_WORDS_IN.get(language, {}).get(kind)
        if only_here and re.match(only_here, span, re.IGNORECASE):
            wrong.append((kind, span, "starts with a word that stays outside in this language"))
        if kind in ("authority", "benefit") and re.search(SPAN_TRAILING_WORDS[language], span, re.IGNORECASE):
            wrong.append((kind, span, "ends with a word that stays outside"))
        if kind in PHRASE_TAILS and tail_start(span, kind) < len(span):
            wrong.append((kind, span, "holds what follows the phrase (whom it is for, what it is about, when, ...)"))
    assert not wrong, wrong[:20]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_benefit_clause_keeps_the_word_that_opens_it(language):
    outside = [
        (span, before[-30:]) for span, before in benefits_with_what_precedes(language) if OPENING_WORDS.search(before)
    ]
    assert not outside, outside[:20]

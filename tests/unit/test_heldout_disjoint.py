"""Held out means held out: no evaluation text is a training example, exactly or nearly.

Texts are compared after normalising case, accents and punctuation (and
entity annotations); a near duplicate is a text whose normalised form differs
from a training example's by at most a few characters.
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pytest
import yaml

from common.languages import LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
#: Two texts this similar (after normalising) are the same sentence with a word changed or a typo.
NEAR = 0.9
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def normalise(text: str) -> str:
    """Lower case, no accents, no punctuation, no entity annotations, single spaces."""
    text = _ANNOTATION.sub(r"\1", text).lower().replace("ł", "l")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]|_", " ", text).split())


def examples(path: Path) -> Iterator[str]:
    """The example texts of a Rasa NLU file."""
    for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
        for line in str(block.get("examples") or "").splitlines():
            if line.strip().startswith("- "):
                yield line.strip()[2:]


@lru_cache(maxsize=None)
def training_texts(language: str) -> Tuple[str, ...]:
    """Every training example of ``language``, normalised."""
    return tuple(sorted({normalise(t) for t in examples(ROOT / "data" / "nlu" / f"{language}.yml")}))


def near_duplicate(text: str, training: Tuple[str, ...]) -> Optional[str]:
    """The training example ``text`` (normalised) repeats exactly or nearly, if any."""
    if text in training:
        return text
    matcher = SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(text)
    for other in training:
        if abs(len(other) - len(text)) > max(3, len(text) // 8):
            continue
        matcher.set_seq1(other)
        if matcher.real_quick_ratio() >= NEAR and matcher.quick_ratio() >= NEAR and matcher.ratio() >= NEAR:
            return other
    return None


def conversation_texts(language: str) -> List[str]:
    """What the visitors of the whole-conversation tests write."""
    folder = ROOT / "tests" / "integration" / "conversations" / "data"
    texts: List[str] = []
    for path in sorted(folder.glob(f"{language}*.yml")):
        for conversation in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            for turn in conversation.get("turns") or []:
                texts.append(turn if isinstance(turn, str) else str(turn.get("say", "")))
    return texts


def duplicates(texts: List[str], language: str) -> Dict[str, str]:
    training = training_texts(language)
    found = {}
    for text in texts:
        match = near_duplicate(normalise(text), training)
        if match is not None:
            found[text] = match
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_heldout_sentences_are_not_training_examples(language):
    texts = list(examples(ROOT / "bench" / "heldout" / f"{language}.yml"))
    assert len(texts) >= 300
    found = duplicates(texts, language)
    assert not found, f"{len(found)} held-out texts repeat training data: {list(found.items())[:10]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_conversation_test_messages_are_not_training_examples(language):
    texts = [t for t in conversation_texts(language) if len(normalise(t).split()) >= 4]
    assert texts, f"no whole-conversation tests in {language}"
    found = duplicates(texts, language)
    assert not found, f"{len(found)} conversation messages repeat training data: {list(found.items())[:10]}"


_COMPANY = re.compile(r"\[([^\]]+)\](?:\(company\)|\{\"entity\":\s*\"company\"[^}]*\})")


def company_names(path: Path) -> set:
    """The company names annotated in a Rasa NLU file, normalised."""
    return {normalise(name) for name in _COMPANY.findall(path.read_text(encoding="utf-8"))}


@pytest.mark.parametrize("language", LANGUAGES)
def test_companies_of_the_heldout_sets_are_not_named_in_training_data(language):
    heldout = company_names(ROOT / "bench" / "heldout" / f"{language}.yml")
    assert len(heldout) >= 10
    shared = heldout & company_names(ROOT / "data" / "nlu" / f"{language}.yml")
    assert not shared, f"held-out company names also in training data: {sorted(shared)}"


def test_the_comparison_sees_through_case_accents_and_punctuation():
    training = (normalise("Czy są jakieś ukryte opłaty?"),)
    assert near_duplicate(normalise("czy sa jakies UKRYTE oplaty"), training)
    assert near_duplicate(normalise("czy są jakieś ukryte opłaty!!"), training)
    assert near_duplicate(normalise("czy są jakies ukryte oplaty tu?"), training)
    assert near_duplicate(normalise("Jak długo trwa wdrożenie?"), training) is None

"""The plausibility gate: text that is not language is never stored as a fact.

Repeated characters, keyboard mashing, code, SQL, markup, emoji only,
placeholder values ("null", "undefined", "NaN"), control characters and
sentences in a language other than English, French or Polish are not an
answer: the assistant says it did not understand, and nothing is kept.
A person's name must also look like a name.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Optional

#: Values that programs write when there is no value.
PLACEHOLDERS = frozenset(
    {"null", "undefined", "nan", "nil", "none none", "[object object]", "n/a n/a", "lorem ipsum", "test test"}
)
_SQL = re.compile(
    r"(\b(drop|truncate|alter|create)\s+(table|database|schema)\b|\bunion\s+(all\s+)?select\b|\bselect\s+\*\s+from\b|\bselect\b.+\bfrom\b.+\bwhere\b"
    r"|\binsert\s+into\s+\w+\s*(\(|values)|\bdelete\s+from\s+\w+\s*(where|;|$)|\bupdate\s+\w+\s+set\b|\bor\s+'?1'?\s*=\s*'?1|'\s*;|;\s*--|--\s*$|/\*|\*/"
    r"|\bexec(ute)?\s*\(|\bxp_\w+|\bsleep\s*\(\s*\d|['\"]\s*\)\s*;?\s*$)",
    re.IGNORECASE | re.MULTILINE,
)
_CODE = re.compile(
    r"(<\s*/?\s*[a-z!][^>]*>|\{\{|\}\}|\$\{|=>|\bfunction\s*\(|\balert\s*\(|\beval\s*\(|\bconsole\.\w+|\bimport\s+\w+;"
    r"|\bdef\s+\w+\s*\(|\breturn\s+\w+;|\b(document|window)\.\w+|\bjavascript:|&#x?[0-9a-f]+;|\w+\(\s*\)\s*;|^\s*/\w+\{)",
    re.IGNORECASE,
)
_TAG = re.compile(r"<\s*/?\s*[a-z!][^>]*>", re.IGNORECASE)
#: Keyboard rows typed without thinking (QWERTY, AZERTY, QWERTZ).
_MASH_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "azertyuiop", "qsdfghjklm", "wxcvbn", "qwertzuiop", "yxcvbnm")
_MASH_GRAMS = frozenset(row[i : i + 4] for row in _MASH_ROWS for i in range(len(row) - 3)) - {"erty", "azer"}
_VOWELS = set("aeiouyàâäéèêëîïôöùûüÿąęóœæ")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", re.UNICODE)
#: Function words of other common languages (and not of English, French or Polish).
_FOREIGN = frozenset(
    """und der das nicht wir ich ist mit für eine einen unser unsere unseren bitte danke wie haben sind auch
    el los las nuestro nuestra nuestros estamos una para pero muy también gracias tenemos somos puede
    gli della sono siamo nostro nostra perché anche grazie abbiamo questo
    het een wij niet onze voor bedankt hebben zijn ook
    não nós nosso nossa obrigado temos""".split()
)
_NAME_WORD = re.compile(r"^[^\W\d_][^\W\d_'’.-]*(?:['’-][^\W\d_]+)*\.?$", re.UNICODE)
_NAME_PARTICLES = frozenset({"de", "du", "des", "la", "le", "van", "von", "der", "den", "di", "da", "dos", "del", "mc"})


def control_characters(text: str) -> bool:
    """Invisible control or formatting characters (right-to-left overrides, zero-width joiners…)."""
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") and ch not in "\n\t\r" for ch in text)


def _mashed(word: str) -> bool:
    """A token that nobody writes: a long run without vowels, a keyboard row, a syllable stuttered."""
    low = word.lower()
    if len(low) >= 4 and len(set(low)) == 1:
        return True
    if re.search(r"(.)\1{3,}", low):
        return True
    if any(low[i : i + 4] in _MASH_GRAMS for i in range(len(low) - 3)):
        return True
    consonants = max((len(m) for m in re.findall(r"[^aeiouyàâäéèêëîïôöùûüÿąęóœæ]+", low)), default=0)
    if consonants >= 6:
        return True
    if len(low) >= 6 and re.fullmatch(r"(\w{2,3})\1{2,}\w{0,2}", low):
        return True  # "sdfsdfsdf", "lalala"
    return len(low) >= 5 and not (set(low) & _VOWELS)


def foreign_language(text: str) -> bool:
    """A sentence in a language other than English, French or Polish."""
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < 3:
        return False
    hits = sum(1 for w in words if w in _FOREIGN)
    return hits >= 2 and hits / len(words) >= 0.2


def why_implausible(text: Optional[str]) -> Optional[str]:
    """Why ``text`` is not language a fact can come from; ``None`` when it is."""
    if not isinstance(text, str) or not text.strip():
        return "empty"
    if control_characters(text):
        return "control characters"
    stripped = " ".join(text.split()).lower().strip(" .!?\"'")
    if stripped in PLACEHOLDERS or stripped.strip("()[]{}<>") in PLACEHOLDERS:
        return "placeholder"
    if _SQL.search(text):
        return "sql"
    without_tags = _TAG.sub(" ", text)
    if _CODE.search(without_tags) or (without_tags != text and len(_WORD.findall(without_tags)) < 3):
        return "code or markup"  # a sentence with a stray tag in it is still a sentence (shown escaped)
    words = _WORD.findall(text)
    letters = sum(len(w) for w in words)
    if letters < 2:
        return "no words"  # emoji, digits or punctuation only
    if re.search(r"(\S)\1{9,}", text):
        return "repeated characters"
    mashed = [w for w in words if _mashed(w)]
    if mashed and (len(mashed) >= len(words) / 3 or sum(len(w) for w in mashed) >= letters / 2):
        return "keyboard mashing"
    if letters / max(1, len(re.sub(r"\s", "", text))) < 0.35 and len(words) < 3:
        return "mostly symbols"
    if foreign_language(text):
        return "other language"
    return None


def plausible_text(text: Optional[str]) -> bool:
    """Whether ``text`` is language a fact may be read from."""
    return why_implausible(text) is None


def plausible_name(value: Optional[str]) -> bool:
    """Whether ``value`` looks like a person's name: one to four words of letters, each capitalised."""
    if not isinstance(value, str) or not plausible_text(value):
        return False
    words = value.split()
    if not 1 <= len(words) <= 4 or len(value) > 80:
        return False
    for word in words:
        if word.lower() in _NAME_PARTICLES and len(words) > 1:
            continue
        if not _NAME_WORD.match(word) or not word[0].isupper():
            return False
        if len(word) > 3 and word.isupper():
            return False  # "TABLE", "DROP": shouting is not a name
    return any(len(w.strip(".")) >= 2 for w in words)


def plausible_label(value: Optional[str]) -> bool:
    """Whether ``value`` can be stored as a role, a company or a vendor: some real words, nothing else."""
    if not isinstance(value, str) or not plausible_text(value):
        return False
    return bool(re.search(r"[^\W\d_]{2,}", value)) and not re.search(r"[<>{}\\;`|]", value)

"""Reads people out of free answers: "our CFO Anna Kowalska and the IT team".

Names and roles come from the NLU entities (``person``, ``job_title``); the
lexicon decides each person's stance: someone who decides, an ally, or a
possible saboteur with the concern the visitor voiced.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

from actions.resources import lexicon

Entity = Dict[str, Any]
Person = Dict[str, Optional[str]]

_SENTENCE = re.compile(r"[^.!?;\n]+[.!?;]?")
_PRONOUN_START = re.compile(
    r"^\s*(he|she|they|il|elle|ils|elles|on|ona|on|oni|one|ten|ta|that|who|qui|kt[oó]ry|kt[oó]ra)\b",
    re.IGNORECASE,
)
MAX_CONCERN = 300
_NEGATION_BEFORE = re.compile(r"\b(not|n't|never|ne|nie|pas|jamais)\s*(\w+\s*)?$", re.IGNORECASE)


def _sentences(text: str) -> List[Tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in _SENTENCE.finditer(text) if m.group().strip()]


def _spans(entities: List[Entity], kind: str, text: str) -> List[Entity]:
    found = []
    for ent in entities:
        if ent.get("entity") != kind or not isinstance(ent.get("start"), int):
            continue
        if ent["end"] <= ent["start"]:
            continue
        found.append({**ent, "surface": text[ent["start"] : ent["end"]]})
    unique: Dict[Tuple[int, int], Entity] = {}
    for ent in sorted(found, key=lambda e: (e["start"], -e["end"])):
        if not any(s <= ent["start"] < e for (s, e) in unique):
            unique[(ent["start"], ent["end"])] = ent
    return list(unique.values())


def parse_people(
    text: str,
    entities: List[Entity],
    language: Optional[str],
    default_stance: str = "influencer",
    exclude: Tuple[str, ...] = (),
) -> List[Person]:
    """People named in ``text`` with role, stance and concern.

    ``default_stance`` applies when nothing in the sentence says otherwise
    (an answer to "might anyone push back?" defaults to ``saboteur``).
    """
    lex = lexicon()
    persons = [
        p
        for p in _spans(entities, "person", text)
        if str(p.get("value", "")).strip().lower() not in {e.lower() for e in exclude if e}
    ]
    titles = _spans(entities, "job_title", text)
    people: List[Person] = []
    used_titles: set = set()
    anchors: List[Tuple[int, Person]] = []
    for person in persons:
        title = _nearest_title(person, titles, persons, used_titles)
        if title is not None:
            used_titles.add(id(title))
        entry = {
            "name": str(person.get("value") or person["surface"]).strip(),
            "role": _value(title),
            "stance": None,
            "concern": None,
        }
        people.append(entry)
        anchors.append((person["start"], entry))
    for title in titles:
        if id(title) not in used_titles:
            entry = {"name": None, "role": _value(title), "stance": None, "concern": None}
            people.append(entry)
            anchors.append((title["start"], entry))

    sentences = _sentences(text)
    for index, (start, end, sentence) in enumerate(sentences):
        members = [entry for pos, entry in anchors if start <= pos < end]
        if not members:
            continue
        stance = _stance(sentence, language, default_stance)
        concern_parts = [sentence.strip()] if stance == "saboteur" else []
        # "Ben hates new tools. He'll say it's a security risk."
        for follow in sentences[index + 1 :]:
            if any(follow[0] <= pos < follow[1] for pos, _ in anchors):
                break
            if _PRONOUN_START.search(follow[2]) or lex.matches("pushback", language, follow[2]):
                if lex.matches("pushback", language, follow[2]):
                    stance = "saboteur"
                    concern_parts.append(follow[2].strip())
            else:
                break
        for entry in members:
            entry["stance"] = stance
            if stance == "saboteur":
                entry["concern"] = " ".join(concern_parts)[:MAX_CONCERN] or None
    for entry in people:
        entry["stance"] = entry["stance"] or default_stance
    return people


def _value(entity: Optional[Entity]) -> Optional[str]:
    if entity is None:
        return None
    return str(entity.get("value") or entity["surface"]).strip()


def _nearest_title(person: Entity, titles: List[Entity], persons: List[Entity], used: set) -> Optional[Entity]:
    best, best_gap = None, 40
    for title in titles:
        if id(title) in used:
            continue
        if title["end"] <= person["start"]:
            gap = person["start"] - title["end"]
            between = (title["end"], person["start"])
        elif title["start"] >= person["end"]:
            gap = title["start"] - person["end"]
            between = (person["end"], title["start"])
        else:
            continue
        if any(between[0] <= other["start"] < between[1] for other in persons):
            continue
        if gap < best_gap:
            best, best_gap = title, gap
    return best


def _stance(sentence: str, language: Optional[str], default: str) -> str:
    lex = lexicon()
    if lex.matches("pushback", language, sentence):
        return "saboteur"
    for pattern in lex.patterns("third_party_decides", language):
        for match in pattern.finditer(sentence):
            if not _NEGATION_BEFORE.search(sentence[max(0, match.start() - 14) : match.start()]):
                return "decision_maker"
    return default


def describe(person: Person) -> str:
    """``Name (role)``, ``Name`` or ``role``, for summaries."""
    name, role = person.get("name"), person.get("role")
    if name and role:
        return f"{name} ({role})"
    return name or role or ""

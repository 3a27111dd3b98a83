"""Turns one visitor message into facts about the lead (slot updates).

Everything the visitor says is read here, in one place, whatever question is
open: a single long message can fill several facts, and an answer to the
current question is read in the light of that question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from actions import catalog
from actions.conversation import (
    CONTACT_QUESTIONS,
    CONTROL_INTENTS,
    ENDING_INTENTS,
    FREE_TEXT_QUESTIONS,
    INTEREST_ORDER,
    PEOPLE_QUESTIONS,
    QUESTION_INTENTS,
    STATED_INFORMATION,
    WHO_QUESTIONS,
    wants_to_end,
)
from actions.parsing import EMAIL, EMAIL_LIKE, find_budget, find_phones, in_address, valid_email, valid_phone
from actions.people import describe, parse_people
from actions.plausibility import plausible_label, plausible_name, plausible_text
from actions.resources import lexicon

NAME_ENTITIES = ("person", "company", "job_title", "vendor")
MARKUP = re.compile(r"[<>{}\\/\u2060]")
MAX_TEXT = 2000
CAPITALISED = r"[A-ZÀ-ÝĄĆĘŁŃÓŚŹŻ][\w&.'-]*"
#: Capitalised words that open a sentence without being a name.
NOT_NAMES = frozenset(
    "our my the his her their nobody someone everyone notre mon ma nos personne quelqu nasz nasza moj mój moja nikt"
    " ktoś it he she they il elle on ona oni we nous that this there which what who ce cela ça to tam ten ta"
    " yes no maybe possibly probably perhaps also only just oui non peut-être tak nie może być także też"
    " everybody anyone nobody tout tous chacun każdy wszyscy czy co kto jak kiedy gdzie dlaczego a i oraz"
    " is are do does what when how why est-ce quand comment pourquoi sinon anyway raczej chyba właściwie naprawdę"
    " szczerze honestly well alors bon bah euh ok okay sure thanks hello hi hey exactly correct right merci bonjour"
    " salut parfait exactement dzięki dzieki cześć czesc witam dobrze jasne"
    " nothing none else sorry nope nah not really rien aucun aucune pas vraiment pardon désolé désolée"
    " nic żaden żadna żadne brak przepraszam sorki niezupełnie"
    " d autre autres other others inny inna inne nikogo".split()
)
#: Questions whose answer may name or correct the visitor's company.
COMPANY_QUESTIONS = (None, "company", "contact_name", "contact_email", "contact_phone")
#: "Jane Doe from Acme": the company a referring customer works for.
EMPLOYER = re.compile(rf"\b(?:from|at|chez|de chez|z firmy|w firmie)\s+({CAPITALISED}(?:\s+{CAPITALISED})*)")
#: A message of digits only, such as a phone number: read for contact details, checked by validation.
PHONE_ONLY = re.compile(r"\+?[\d\s().-]{1,30}")
MAX_FIELD = 300


@dataclass
class Turn:
    """The latest visitor message as the NLU understood it."""

    text: str
    intent: Optional[str]
    entities: List[Dict[str, Any]] = field(default_factory=list)
    language: str = "en"
    confidence: float = 1.0

    @classmethod
    def from_latest_message(cls, message: Dict[str, Any], language: Optional[str]) -> "Turn":
        written = str(message.get("text") or "")
        text = written[:MAX_TEXT]
        intent = (message.get("intent") or {}).get("name")
        entities = [
            e
            for e in message.get("entities") or []
            if e.get("entity") != "language" and _plausible_entity(e) and not _phone_in_address(e, written)
        ]
        detected = [e.get("value") for e in message.get("entities") or [] if e.get("entity") == "language"]
        return cls(
            text=text,
            intent=intent,
            entities=entities,
            language=(detected[-1] if detected else language) or "en",
            confidence=float((message.get("intent") or {}).get("confidence") or 0.0),
        )

    def values(self, kind: str) -> List[str]:
        """Entity values of one kind, in order, without repeats."""
        seen: List[str] = []
        for ent in self.entities:
            value = ent.get("value")
            if ent.get("entity") == kind and isinstance(value, str) and value.strip() and value not in seen:
                if kind in NAME_ENTITIES and MARKUP.search(value):
                    continue  # markup or a typed command is never a name
                seen.append(value.strip())
        return seen

    @property
    def is_answer(self) -> bool:
        """Whether the message can be an answer to the open question."""
        return self.intent not in QUESTION_INTENTS + CONTROL_INTENTS and has_words(self.text)


def says_not_deciding(text: str, language: Optional[str]) -> bool:
    """Whether the visitor says they do not decide ("I don't decide", "je ne fais que recommander")."""
    return any(lexicon().matches(f"authority.{level}", language, text) for level in ("none", "influencer"))


def _a_name(value: Any) -> bool:
    """Whether ``value`` looks like a name and is not a capitalised reply or opening word ("Tak, zgadza się")."""
    return isinstance(value, str) and value.strip().lower() not in NOT_NAMES and plausible_name(value)


def _plausible_entity(entity: Dict[str, Any]) -> bool:
    """A name that looks like a name; a role, company or vendor made of words."""
    value = entity.get("value")
    if entity.get("entity") == "person":
        return _a_name(value)
    if entity.get("entity") in ("company", "vendor", "job_title"):
        if not plausible_label(value if isinstance(value, str) else None) or _only_reply_words(value):
            return False
        return entity.get("entity") == "job_title" or not _opens_like_a_sentence(value)
    return True


#: Words a company or tool the NLU found does not open with: possessives and negations ("Our support lead",
#: "Pas de frein", "Nasza specjalistka ds"). A company typed as the answer to "which company?" is kept as typed.
NOT_NAME_OPENINGS = frozenset(
    "our my your their notre mon ma mes nos votre vos leur leurs nasz nasza nasze naszej naszego mój moja moje"
    " twój twoja wasz wasza pas nie not no".split()
)


def _opens_like_a_sentence(value: str) -> bool:
    """Whether ``value`` opens with a possessive or a negation, as a sentence does and a name does not."""
    words = re.findall(r"[^\W\d_]+", value.lower())
    return bool(words) and words[0] in NOT_NAME_OPENINGS


def _only_reply_words(value: str) -> bool:
    """A reply ("Nothing.", "Personne d'autre", "Nie, przepraszam") rather than a name: every word one of them."""
    words = re.findall(r"[^\W\d_]+", value.lower())
    return bool(words) and all(word in NOT_NAMES for word in words)


def _phone_in_address(entity: Dict[str, Any], text: str) -> bool:
    """A "phone number" found among the digits of an e-mail address ("sarah.34656785@…")."""
    start, end = entity.get("start"), entity.get("end")
    if entity.get("entity") != "phone" or not isinstance(start, int) or not isinstance(end, int):
        return False
    return in_address(text, start, end)


#: Questions whose answer is a few words of the visitor's own (a name, a company, a tool).
SHORT_ANSWER_QUESTIONS = FREE_TEXT_QUESTIONS + ("contact_email", "contact_phone", "referrer")


#: Intents a short name or tool given as an answer is sometimes mistaken for.
MISREAD_SHORT_ANSWERS = QUESTION_INTENTS + ("out_of_scope", "affirm", "greet")
#: What tells a real one of these intents from a short answer misread as it.
SAID_IN_WORDS = {"affirm": "plain_yes", "greet": "greeting"}


def _few_words(text: str) -> bool:
    """At most six words, and no question mark."""
    return "?" not in (text or "") and len((text or "").split()) <= 6


def short_free_answer(text: str, requested: Optional[str]) -> bool:
    """A few words, not a question, given to a question that expects a name or a tool."""
    return requested in SHORT_ANSWER_QUESTIONS and _few_words(text)


def short_benefit_answer(text: str, requested: Optional[str]) -> bool:
    """A few words naming a benefit, not a question, given to the question on benefits."""
    if requested != "benefits" or not _few_words(text):
        return False
    lex = lexicon()
    if lex.matches_in_any_language("question_opening", text):
        return False
    return any(lex.matches_in_any_language(f"benefits.{benefit}", text) for benefit in lex.keys("benefits"))


def answer_intent(intent: Optional[str], confidence: float, text: str, requested: Optional[str]) -> Optional[str]:
    """The intent of a message read against the open question.

    "Zielony Liść" to "which company?" is a name even when the classifier
    reads a greeting, a question or a yes; a stop or goodbye that is not clear
    (``conversation.wants_to_end``) is read as the answer.
    """
    if short_free_answer(text, requested) and intent in MISREAD_SHORT_ANSWERS:
        words = SAID_IN_WORDS.get(intent or "")
        if not words or not lexicon().matches_in_any_language(words, text):
            return "inform"
    if short_benefit_answer(text, requested) and intent in QUESTION_INTENTS:
        return "inform"  # "cheaper" to "what matters most?" is the answer, not a question on price
    if intent in ENDING_INTENTS and requested and not wants_to_end(intent, confidence, text, requested):
        return "inform"
    return intent


def has_words(text: str) -> bool:
    """Real words (not only emoji, digits or punctuation)."""
    return bool(re.search(r"[^\W\d_]{2,}", text or ""))


def clean(text: str, limit: int = MAX_FIELD) -> str:
    """Collapse whitespace and cap length; the visitor's words are kept as said."""
    return re.sub(r"\s+", " ", text or "").strip()[:limit]


def raise_interest(current: Optional[str], new: str) -> str:
    """Interest only moves up the scale within a conversation."""
    if current not in INTEREST_ORDER:
        return new
    return new if INTEREST_ORDER.index(new) > INTEREST_ORDER.index(current) else current


def _same_person(a: Dict[str, Any], b: Dict[str, Any]) -> bool:
    """The same person: same name (or "Dana" for "Dana Whitfield"), or, both unnamed, the same role."""
    name_a, name_b = (a.get("name") or "").lower().split(), (b.get("name") or "").lower().split()
    if name_a and name_b:
        return name_a == name_b or (name_a[0] == name_b[0] and (len(name_a) == 1 or len(name_b) == 1))
    if name_a or name_b:
        return False
    return bool(a.get("role")) and (a.get("role") or "").lower() == (b.get("role") or "").lower()


def _merge_people(existing: Optional[List[Dict[str, Any]]], new: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    merged = [dict(p) for p in existing or []]
    for person in new:
        match = next((p for p in merged if _same_person(p, person)), None)
        if match is None:
            merged.append(dict(person))
        else:
            if len((person.get("name") or "").split()) > len((match.get("name") or "").split()):
                match["name"] = person["name"]
            for attr in ("role", "concern"):
                match[attr] = person.get(attr) or match.get(attr)
            if person.get("stance") in ("saboteur", "decision_maker") and match.get("stance") != "saboteur":
                match["stance"] = person["stance"]
    return merged


class FactExtractor:
    """Reads one turn against the facts already known."""

    def __init__(self, turn: Turn, slots: Dict[str, Any], requested: Optional[str]) -> None:
        turn.intent = answer_intent(turn.intent, turn.confidence, turn.text, requested)
        self.turn = turn
        self.slots = slots
        self.requested = requested
        self.lang = turn.language
        self.lex = lexicon()
        self.updates: Dict[str, Any] = {}
        #: The benefits this message names, known before or not.
        self.named_benefits: List[str] = []

    # -- helpers -------------------------------------------------------
    def get(self, slot: str) -> Any:
        return self.updates.get(slot, self.slots.get(slot))

    def set(self, slot: str, value: Any) -> None:
        if self.slots.get(slot) != value or slot in self.updates:
            self.updates[slot] = value

    def says(self, path: str) -> bool:
        return self.lex.matches(path, self.lang, self.turn.text)

    @property
    def yes(self) -> bool:
        return self.turn.intent == "affirm"

    @property
    def no(self) -> bool:
        return self.turn.intent == "deny" or (self.turn.intent != "affirm" and self.says("nobody"))

    # -- the facts -----------------------------------------------------
    def run(self) -> Dict[str, Any]:
        """All slot updates for this turn; none from text that is not language."""
        if not plausible_text(self.turn.text) and not PHONE_ONLY.fullmatch(self.turn.text.strip()):
            return self.updates
        if self.turn.intent == "existing_customer":
            self.set("existing_customer", True)
        if self.turn.intent == "job_seeker":
            self.set("disqualify", "job_seeker")
        if self.turn.intent in CONTROL_INTENTS and self.turn.intent not in ("greet",):
            return self.updates
        self._interest()
        self._contact()
        if self.turn.intent not in QUESTION_INTENTS or self.turn.intent == "compare":
            self._vendor()
        if self.answering or self.turn.intent == "greet":
            self._authority()
            self._need()
            self._people()
            self._benefits()
            self._timeline_and_budget()
        if self.answering:
            self._answer_requested()
        if (
            self.requested == "interest_stage"
            and self.get("interest_stage") is None
            and "interest_level" in self.updates
        ):
            self.set("interest_stage", self.updates["interest_level"])  # a question about price answers it too
        return self.updates

    @property
    def answering(self) -> bool:
        """An answer, or a question with statements around it ("Is there a trial? Anyway, I recommend…")."""
        if self.turn.is_answer:
            return True
        if self.turn.intent not in QUESTION_INTENTS:
            return False
        statements = [s for s in re.split(r"(?<=[.!?])\s+", self.turn.text) if not s.rstrip().endswith("?")]
        return any(len(s.split()) >= 3 for s in statements)

    def _interest(self) -> None:
        """Interest from what the message is about, never from words inside an answer about something else."""
        signals = list(self.get("interest_signals") or [])
        level = self.get("interest_level")
        found: List[tuple] = []
        intent = self.turn.intent
        vendors = self.turn.values("vendor")
        if intent == "ask_product":
            found.append(("information", "asked what the product does"))
        elif intent == "ask_benefits":
            found.append(("benefits", "asked how it would help them"))
        elif intent == "ask_pricing":
            found.append(("purchase", "asked about pricing"))
        elif intent == "ask_purchase":
            found.append(("purchase", "asked how to buy or when to start"))
        elif intent == "compare":
            found.append(("comparison", f"compared with {', '.join(vendors)}" if vendors else "asked how it compares"))
        if self.answering and self.requested not in WHO_QUESTIONS:  # a colleague's worry is no signal
            topics = " ".join(self._topic_clauses())
            comparing = self.lex.matches("interest.comparison", self.lang, topics)
            if comparing:
                found.append(
                    ("comparison", f"comparing with {', '.join(vendors)}" if vendors else "looking at options")
                )
            if self.lex.matches("interest.purchase", self.lang, topics) and (not comparing or "?" in self.turn.text):
                found.append(("purchase", "talked about buying or starting"))
            if not found and self.lex.matches("interest.lower", self.lang, topics):
                level, found = "information", [("information", STATED_INFORMATION)]
                self.set("interest_level", level)
        for new_level, signal in found:
            level = raise_interest(level, new_level)
            if signal not in signals:
                signals.append(signal)
        if found:
            self.set("interest_level", level)
            self.set("interest_signals", signals)

    def _topic_clauses(self) -> List[str]:
        """The message's clauses that are not about who decides or who holds the budget."""
        clauses = re.split(r"[.;!?\n]+|,|\b(?:but|mais|ale|and|et|i)\b", self.turn.text, flags=re.IGNORECASE)
        about_role = ("authority.decision_maker", "authority.influencer", "authority.none", "third_party_decides")
        return [c for c in clauses if c and c.strip() and not any(self.says_in(path, c) for path in about_role)]

    def says_in(self, path: str, text: str) -> bool:
        return self.lex.matches(path, self.lang, text)

    def _contact(self) -> None:
        text = self.turn.text
        emails = [e for e in self.turn.values("email") if valid_email(e)] or EMAIL.findall(text)
        if emails:
            self.set("contact_email", emails[0].strip(".,;"))
            if self.get("consent") is None:
                self.set("consent", True)
        elif self.requested == "contact_email" and self.turn.is_answer and EMAIL_LIKE.search(text):
            self.set("contact_email", EMAIL_LIKE.search(text).group())  # rejected by validation, with a hint
        phones = [p for p in self.turn.values("phone") if valid_phone(p)] or find_phones(text)
        if phones and not (self.requested in ("need",) and not self.turn.values("phone")):
            self.set("contact_phone", clean(phones[0], 40))
        others = {v.lower() for v in self.turn.values("vendor") + self.turn.values("person")}
        companies = [c for c in self.turn.values("company") if c.lower() not in others]
        if self.requested in ("contact_name", "company") and len(text.split()) <= 4:
            companies = []  # a short answer to either question is kept as typed ("Clinique Saint-Roch")
        if self.requested not in COMPANY_QUESTIONS and self.turn.is_answer:
            if self.get("company") or len(text.split()) <= 4:
                # a short answer to another question ("Spreadsheets.", "Jestem prezesem zarządu") answers that
                # question, and a known company is not replaced by a name read in such an answer
                companies = []
        if companies and self.requested != "referrals":
            self.set("company", clean(companies[0], 120))
        if self.requested != "referrals":
            match = self.lex.search("own_name", self.lang, text)
            persons = self.turn.values("person")
            if match:
                candidate = match.group(1).strip()
                named = next((p for p in persons if p.split()[0] == candidate.split()[0]), None)
                capitalized = all(word[:1].isupper() for word in candidate.split())
                if capitalized and (named or len(candidate.split()) >= 2):
                    self.set("contact_name", clean(named or candidate, 120))

    def _vendor(self) -> None:
        vendors = self.turn.values("vendor")
        if not vendors:
            return
        if self.requested == "current_vendor" or self.says("uses_vendor"):
            self.set("current_vendor", ", ".join(vendors))

    def _authority(self) -> None:
        values = self.turn.values("authority")
        authority = values[0] if values and values[0] in ("decision_maker", "influencer", "none") else None
        # what the visitor says in words wins over the tagger; "not me who signs, but I recommend" is an influencer
        for level in ("influencer", "none", "decision_maker"):
            if self.says(f"authority.{level}"):
                authority = level
                break
        if authority is None and self.requested == "authority":
            if self.yes:
                authority = "decision_maker"
            elif self.turn.intent == "deny":
                authority = "none"
        if authority:
            self.set("authority", authority)
            if authority == "decision_maker" and self.requested != "decision_maker":
                self.set("decision_maker", None)

    def _need(self) -> None:
        text = self.turn.text
        category = catalog.category_for(text, self.lang)
        if self.requested == "need" and self.answering and not self.no and not self._about_role_only():
            self.set("need", clean(text))
            self.set("need_category", category or self.get("need_category"))
        elif not self.get("need") and self.turn.intent not in CONTROL_INTENTS:
            sentences = [
                s
                for s in re.split(r"(?<=[.!?…])\s+|\n+", text)
                if not s.rstrip().endswith("?")
                and (catalog.category_for(s, self.lang) or self.says_in("need_statement", s))
                and not self.lex.matches("not_a_need", self.lang, s)
            ]
            if not sentences and self._opening_statement():
                sentences = [text]  # the first thing a visitor says about themselves is what they came for
            if sentences:
                self.set("need", clean(" ".join(sentences)))
                self.set("need_category", catalog.category_for(" ".join(sentences), self.lang) or category)
        elif category and self.get("need_category") is None and self.get("need"):
            self.set("need_category", category)
        if self.get("need") and self.get("interest_level") is None:
            self.set("interest_level", "information")
            self.set("interest_signals", list(self.get("interest_signals") or []) + ["stated a need"])

    def _opening_statement(self) -> bool:
        """A first message of some length that says what the visitor came for (before any question)."""
        other = {"authority", "contact_email", "contact_phone", "contact_name", "stakeholders", "existing_customer"}
        return (
            self.requested is None
            and self.turn.intent == "inform"
            and len(self.turn.text.split()) >= 6
            and not self.get("authority")
            and not other & set(self.updates)
        )

    def _about_role_only(self) -> bool:
        """A message that only says who decides (it answers another question than the need)."""
        return "authority" in self.updates and not catalog.category_for(self.turn.text, self.lang)

    def _people(self) -> None:
        if self.requested in CONTACT_QUESTIONS:
            return  # a name given with contact details is the visitor's, not a colleague's
        names_someone = bool(self.turn.values("person") or self.turn.values("job_title"))
        if self.requested in WHO_QUESTIONS and self.no and not (self.requested == "decision_maker" and names_someone):
            return  # "nobody", "raczej nie": no one to read ("no, our CFO does" still names who decides)
        default = "saboteur" if self.requested == "blockers" else "influencer"
        if self.requested == "decision_maker" or self.updates.get("authority") in ("none", "influencer"):
            default = "decision_maker"  # "not me who signs, it's our CEO": the people named decide
        elif "authority" in self.updates:
            default = "influencer"
        exclude = tuple(x for x in (self.get("contact_name"),) if x)
        entities = self.turn.entities + self._names_the_tagger_missed()
        people = parse_people(self.turn.text, entities, self.lang, default, exclude)
        own_titles = self._own_title(people)
        people = [p for p in people if p not in own_titles]
        if self.requested not in PEOPLE_QUESTIONS:
            # unasked, someone is part of the buying center only if something is said about them
            people = [p for p in people if p["stance"] != default or (p.get("name") and p.get("role"))]
        if not people:
            return
        stakeholders = _merge_people(self.get("stakeholders"), people)
        self.set("stakeholders", stakeholders)
        deciders = [p for p in people if p["stance"] == "decision_maker"]
        if deciders:
            self.set("decision_maker", describe(deciders[0]))
            if self.get("authority") is None and not self.turn.values("authority"):
                self.set("authority", "influencer" if self.says("authority.influencer") else "none")
        saboteurs = [p for p in people if p["stance"] == "saboteur"]
        allies = [p for p in people if p["stance"] == "influencer"]
        if saboteurs:
            self.set("blockers", _merge_people(self.get("blockers"), saboteurs))
        if allies:
            self.set("allies", _merge_people(self.get("allies"), allies))

    def _names_the_tagger_missed(self) -> List[Dict[str, Any]]:
        """People the visitor already named ("Gareth" for Gareth Lloyd), and, answering a question about
        people, a capitalised first name opening a sentence ("Dana is wary of…")."""
        text, found = self.turn.text, []
        tagged = [(e.get("start"), e.get("end")) for e in self.turn.entities if e.get("entity") == "person"]

        def free(start: int, end: int) -> bool:
            return not any(isinstance(s, int) and s < end and start < e for s, e in tagged + found_spans)

        found_spans: List[tuple] = []
        for person in self.get("stakeholders") or []:
            name = person.get("name") or ""
            for candidate in {name, name.split()[0] if name else ""} - {""}:
                for match in re.finditer(rf"(?<!\w){re.escape(candidate)}(?!\w)", text):
                    if free(match.start(), match.end()):
                        found.append({"entity": "person", "value": name, "start": match.start(), "end": match.end()})
                        found_spans.append((match.start(), match.end()))
        follow = (self.lex.raw.get("named_subject") or {}).get(self.lang) or []
        if self.requested in PEOPLE_QUESTIONS and follow:
            opening = re.compile(rf"(?:^|[.;!?,]\s+)({CAPITALISED})\s+(?={follow[0]})")
            for match in opening.finditer(text):
                word = match.group(1)
                if _a_name(word) and free(match.start(1), match.end(1)):
                    found.append({"entity": "person", "value": word, "start": match.start(1), "end": match.end(1)})
                    found_spans.append((match.start(1), match.end(1)))
        return found

    def _own_title(self, people: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """A title the visitor gives themselves ("I'm the COO") is theirs, not a colleague's."""
        match = re.search(r"\b(i'?m|i am|je suis|jestem|pracuj[eę] jako)\b", self.turn.text, re.IGNORECASE)
        if not match:
            return []
        anchor = match.end()
        named = self.lex.search("own_name", self.lang, self.turn.text)
        if named and not all(word[:1].isupper() for word in named.group(1).split()):
            named = None  # "I'm the COO": no name follows
        if named and named.start() <= match.start() < named.end(1):
            anchor = named.end(1)  # "I'm Sarah Collins, head of support": the title follows the name
        own = [
            p
            for p in people
            if not p.get("name")
            and p.get("role")
            and 0 <= self.turn.text.lower().find(p["role"].lower(), anchor) - anchor <= 12
        ]
        if own and self.get("job_title") is None:
            self.set("job_title", own[0]["role"])
        return own

    def _benefits(self) -> None:
        if self.requested in WHO_QUESTIONS:
            return  # a concern or a colleague's wish is not the visitor's priority
        text = self.turn.text
        if "blockers" in self.updates:  # "Frédéric worries about the cost": the cost is his concern
            text = " ".join(c for c in re.split(r"(?<=[.;!?])\s+", text) if not self.says_in("pushback", c))
        found: List[str] = []
        for entity in self.turn.entities:
            value, start, end = entity.get("value"), entity.get("start"), entity.get("end")
            words = self.turn.text[start:end] if isinstance(start, int) and isinstance(end, int) else ""
            if entity.get("entity") == "benefit" and value in self.lex.keys("benefits") and words in text:
                if value not in found:
                    found.append(value)
        for benefit in self.lex.keys("benefits"):
            if benefit not in found and self.lex.matches(f"benefits.{benefit}", self.lang, text):
                if self.requested != "benefits" and not self.says("priority"):
                    continue  # keywords alone count only when priorities are the topic ("costs matter most")
                found.append(benefit)
        self.named_benefits = found
        if found:
            current = list(self.get("benefits") or [])
            self.set("benefits", current + [b for b in found if b not in current])
            level = raise_interest(self.get("interest_level"), "benefits")
            if level != self.get("interest_level"):
                self.set("interest_level", level)
                self.set("interest_signals", list(self.get("interest_signals") or []) + ["talked about benefits"])

    def _timeline_and_budget(self) -> None:
        match = self.lex.search("timeline", self.lang, self.turn.text)
        if match:
            self.set("timeline", clean(match.group(), 80))
        budget = find_budget(self.turn.text)
        if budget:
            self.set("budget", budget)

    # -- the answer to the open question ---------------------------------
    def _answer_requested(self) -> None:
        if self.requested in FREE_TEXT_QUESTIONS + ("benefits",) and self._is_other_fact():
            return  # "ops@acme.com" is not the name of a vendor
        if self.requested not in ("authority", "decision_maker", "summary_confirmed") and self._corrects_role():
            return  # "sorry, it's not me who signs": a correction, not an answer to the open question
        handler = getattr(self, f"_answer_{self.requested}", None)
        if handler is not None:
            handler()

    def _corrects_role(self) -> bool:
        """The visitor speaks about their own part in the decision (often correcting it)."""
        return "authority" in self.updates or self.says("correction")

    def _is_other_fact(self) -> bool:
        """Whether the message is a contact detail or a bare yes rather than a free answer."""
        if self.turn.intent == "affirm":
            return True
        contact = {"contact_email", "contact_phone"} & set(self.updates)
        return bool(contact) and self.requested not in contact

    def _answer_decision_maker(self) -> None:
        if self.get("decision_maker") is None and not self.no:
            self.set("decision_maker", clean(self.turn.text, 160))
            self.set(
                "stakeholders",
                _merge_people(
                    self.get("stakeholders"),
                    [{"name": None, "role": clean(self.turn.text, 160), "stance": "decision_maker", "concern": None}],
                ),
            )
        elif self.get("decision_maker") is None and not self._restates_own_role():
            self.set("decision_maker", "unknown")

    def _restates_own_role(self) -> bool:
        """ "No, I don't decide" to "who will decide?": the visitor's own part again, not who decides instead."""
        own_role = {"none", "influencer"} & set(self.turn.values("authority")) or says_not_deciding(
            self.turn.text, self.lang
        )
        return bool(own_role) and not self.turn.values("person") and not self.turn.values("job_title")

    def _answer_allies(self) -> None:
        if "allies" in self.updates:
            return
        if self.no or "blockers" in self.updates or "decision_maker" in self.updates:
            self.set("allies", list(self.get("allies") or []))
            return
        entry = {"name": None, "role": clean(self.turn.text, 160), "stance": "influencer", "concern": None}
        self.set("allies", _merge_people(self.get("allies"), [entry]))
        self.set("stakeholders", _merge_people(self.get("stakeholders"), [entry]))

    def _answer_blockers(self) -> None:
        if "blockers" in self.updates:
            return
        if self.no:
            self.set("blockers", list(self.get("blockers") or []))
            return
        entry = {"name": None, "role": None, "stance": "saboteur", "concern": clean(self.turn.text)}
        self.set("blockers", _merge_people(self.get("blockers"), [entry]))
        self.set("stakeholders", _merge_people(self.get("stakeholders"), [entry]))

    def _answer_benefits(self) -> None:
        if "benefits" in self.updates:
            return
        if self.no:
            self.set("benefits", [])
        elif has_words(self.turn.text) and not self.updates.keys() & {
            "authority",
            "decision_maker",
            "current_vendor",
            "blockers",
        }:
            # no benefit of the catalog fits: the visitor's own words are kept for the rep
            self.set("benefits", list(self.get("benefits") or []))
            signal = f"what matters to them: {clean(self.turn.text, 200)}"
            self.set("interest_signals", list(self.get("interest_signals") or []) + [signal])
            self.set("interest_level", raise_interest(self.get("interest_level"), "benefits"))

    def _answer_interest_stage(self) -> None:
        """Where the visitor stands: a button or their own words; the level only goes up."""
        if "interest_stage" in self.updates:
            return
        said = next((lvl for lvl in reversed(INTEREST_ORDER) if self.says(f"interest_answer.{lvl}")), None)
        if said is None:
            return
        current = self.get("interest_level")
        self.set("interest_level", raise_interest(current, said))
        signal = f"said where they stand: {clean(self.turn.text, 120)}"
        self.set("interest_signals", list(self.get("interest_signals") or []) + [signal])
        self.set("interest_stage", said)

    def _answer_current_vendor(self) -> None:
        if "current_vendor" in self.updates:
            return
        if self.named_benefits and not self.turn.values("vendor"):
            return  # "Faster replies.": what they want, not what they use (the question stays open)
        named = re.search(rf"(?<!^)(?<![.!?]\s)\b{CAPITALISED}", self.turn.text.strip())
        if (self.says("no_vendor") or self.turn.intent == "deny") and not named:
            self.set("current_vendor", "none")
        else:
            self.set("current_vendor", clean(self.turn.text.strip(" .!"), 120))

    def _answer_consent(self) -> None:
        if self.yes:
            self.set("consent", True)
        elif self.turn.intent == "deny" or self.no:
            self.set("consent", False)

    def _answer_contact_name(self) -> None:
        if "contact_name" in self.updates:
            return
        persons = self.turn.values("person")
        if persons:
            self.set("contact_name", clean(persons[0], 120))
        elif self.turn.intent == "deny":
            self.set("consent", False)
        elif len(self.turn.text.split()) <= 5:
            self.set("contact_name", clean(self.turn.text.strip(" .!"), 120))

    def _answer_contact_email(self) -> None:
        if "contact_email" not in self.updates and self.turn.intent == "deny":
            self.set("consent", False)

    def _answer_company(self) -> None:
        if "company" not in self.updates:
            self.set("company", clean(self.turn.text.strip(" .!"), 120))

    def _answer_contact_phone(self) -> None:
        if "contact_phone" in self.updates:
            return
        if self.says("skip") or self.no:
            self.set("contact_phone", "")
        else:
            self.set("contact_phone", clean(self.turn.text, 40))  # checked by validation

    def _answer_referrals(self) -> None:
        if self.no:
            self.set("referrals", [])
            return
        people = parse_people(self.turn.text, self.turn.entities, self.lang, "unknown")
        emails = EMAIL.findall(self.turn.text)
        companies = self.turn.values("company")
        if not people:
            people = [{"name": None, "role": None, "stance": "unknown", "concern": None}]
        referrals = []
        for index, person in enumerate(people):
            referrals.append(
                {
                    "name": person.get("name"),
                    "role": person.get("role"),
                    "company": companies[index] if index < len(companies) else (companies[0] if companies else None),
                    "email": emails[index] if index < len(emails) else None,
                    "note": clean(self.turn.text),
                }
            )
        self.set("referrals", referrals)

    def _answer_referrer(self) -> None:
        """The referring customer says who they are: name and e-mail, or their company."""
        text = self.turn.text
        if not self.get("contact_name"):
            persons = self.turn.values("person")
            head = re.split(r"[,;(]|\s[-–—]\s|\b(?:from|at|de|chez|z|ze)\b", EMAIL.sub("", text))[0].strip(" .")
            if persons:
                self.set("contact_name", clean(persons[0], 120))
            elif plausible_name(head) and len(head.split()) >= 2:
                self.set("contact_name", clean(head, 120))
        employer = EMPLOYER.search(text)
        if not self.get("company") and employer and plausible_label(employer.group(1)):
            self.set("company", clean(employer.group(1), 120))
        if not self.get("company") and not self.get("contact_name") and len(text.split()) <= 6:
            self.set("company", clean(text.strip(" .!"), 120))
        self.set("referrer", clean(text, 200))

    def _answer_summary_confirmed(self) -> None:
        changed = {
            k
            for k in self.updates
            if k not in ("interest_level", "interest_signals", "summary_confirmed", "correction_pending")
        }
        if self.yes and not changed:
            self.set("summary_confirmed", True)
            self.set("correction_pending", False)
            return
        if changed:
            self.set("correction_pending", False)
            return
        for field_name in self.lex.keys("correction_fields"):
            if self.lex.matches(f"correction_fields.{field_name}", self.lang, self.turn.text):
                for slot in CORRECTION_SLOTS[field_name]:
                    self.set(slot, None)
                self.set("correction_pending", False)
                return
        self.set("correction_pending", True)


CORRECTION_SLOTS = {
    "need": ("need", "need_category"),
    "authority": ("authority", "decision_maker"),
    "allies": ("allies", "blockers"),
    "benefits": ("benefits",),
    "contact": ("contact_name", "contact_email", "company", "contact_phone"),
}


def extract_facts(message: Dict[str, Any], slots: Dict[str, Any], requested: Optional[str]) -> Dict[str, Any]:
    """Slot updates for the latest message, given the slots already known."""
    turn = Turn.from_latest_message(message, slots.get("language"))
    return FactExtractor(turn, slots, requested).run()

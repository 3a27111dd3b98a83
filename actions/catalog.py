"""What is sold, read from ``config/catalog.yml``: categories, savings, FAQs, prices."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from actions.resources import catalog_data
from common.languages import language_of, localized


def _keywords(entry: Dict[str, Any], language: Optional[str]) -> List[str]:
    words = entry.get("keywords", {}) or {}
    return [w.lower() for w in (words.get(language_of(language)) or [])]


def _score(text: str, keywords: List[str]) -> int:
    """How many keywords start a word of ``text`` ("lent" counts in "lent", not in "débrouillent")."""
    lowered = text.lower()
    return sum(1 for word in keywords if word and re.search(rf"(?<!\w){re.escape(word.lower())}", lowered))


def category_for(text: str, language: Optional[str]) -> Optional[str]:
    """The catalog category whose keywords best match ``text``, if any."""
    best, best_score = None, 0
    for category in catalog_data().get("categories", []):
        score = _score(text, _keywords(category, language))
        if score > best_score:
            best, best_score = category["id"], score
    return best


def category(category_id: Optional[str]) -> Optional[Dict[str, Any]]:
    """One category by id."""
    return next((c for c in catalog_data().get("categories", []) if c["id"] == category_id), None)


def category_label(category_id: Optional[str], language: Optional[str]) -> Optional[str]:
    """The category's name in ``language``."""
    found = category(category_id)
    return localized(found.get("label"), language) if found else None


def savings_pitch(category_id: Optional[str], language: Optional[str]) -> str:
    """How the product saves money for this kind of need, with the catalog's figure."""
    found = category(category_id) or (catalog_data().get("categories") or [{}])[0]
    savings = found.get("savings", {})
    return localized(savings.get("pitch"), language).replace("{percent}", str(savings.get("percent", "")))


def benefit_label(benefit_id: str, language: Optional[str]) -> str:
    """A benefit's name in ``language``."""
    entry = catalog_data().get("benefits", {}).get(benefit_id, {})
    return localized(entry.get("label"), language) or benefit_id


def benefit_pitch(benefit_id: str, language: Optional[str]) -> str:
    """One sentence on how the product delivers a benefit."""
    return localized(catalog_data().get("benefits", {}).get(benefit_id, {}).get("pitch"), language)


def pricing_answer(language: Optional[str]) -> str:
    """The price list, in words."""
    return localized(catalog_data().get("pricing", {}).get("answer"), language)


def faq_answer(text: str, language: Optional[str], vendor: Optional[str] = None) -> str:
    """The FAQ answer that best matches ``text``; the overview when none does."""
    faqs = catalog_data().get("faqs", [])
    best, best_score = None, 0
    for faq in faqs:
        score = _score(text, _keywords(faq, language))
        if score > best_score:
            best, best_score = faq, score
    if best is None:
        best = next((f for f in faqs if f.get("id") == "overview"), faqs[0] if faqs else {})
    return (
        comparison_answer(vendor, language)
        if best.get("id") == "comparison"
        else localized(best.get("answer"), language)
    )


def comparison_answer(vendor: Optional[str], language: Optional[str]) -> str:
    """How the product compares with ``vendor`` (or with others in general)."""
    faq = next((f for f in catalog_data().get("faqs", []) if f.get("id") == "comparison"), {})
    if vendor:
        return localized(faq.get("answer"), language).replace("{vendor}", vendor)
    return localized(faq.get("answer_generic") or faq.get("answer"), language)


def company_name() -> str:
    """The selling company's product name."""
    return catalog_data().get("company", {}).get("product", "")

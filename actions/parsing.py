"""Patterns for contact details and money, in one place: e-mail, phone, budget."""

from __future__ import annotations

import re
from typing import Dict, Iterable, Optional, Union

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
#: Anything with an @: what a visitor typed as an address, even a broken one.
EMAIL_LIKE = re.compile(r"\S*@\S*")
PHONE = re.compile(r"(?<![\w@])\+?\(?\d[\d\s().-]{6,}\d(?!\w)")
BUDGET = re.compile(
    r"(?P<cur1>[$€£]|usd|eur|gbp|pln)?\s?(?P<amount>\d[\d\s.,]*\d|\d)\s?(?P<k>k)?\s?"
    r"(?P<cur2>[$€£]|usd|eur|euros?|gbp|pln|zł|zl|złotych|zlotych|dollars?)?",
    re.IGNORECASE,
)
CURRENCIES = {
    "$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD",
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR",
    "£": "GBP", "gbp": "GBP",
    "pln": "PLN", "zł": "PLN", "zl": "PLN", "złotych": "PLN", "zlotych": "PLN",
}  # fmt: skip


def valid_email(value: Optional[str]) -> bool:
    """A complete address: something@domain.tld."""
    return bool(value) and EMAIL.fullmatch(value.strip()) is not None


def is_free_mail(value: str, free_domains: Iterable[str]) -> bool:
    """Whether the address is at one of ``free_domains`` (consumer mail providers)."""
    return value.rsplit("@", 1)[-1].lower() in set(free_domains)


def valid_phone(value: Optional[str]) -> bool:
    """Seven to fifteen digits, in any usual format."""
    digits = re.sub(r"\D", "", value or "")
    return 7 <= len(digits) <= 15


def find_phones(text: str) -> list:
    """Phone numbers written in ``text``, in order (digits of an e-mail address are none)."""
    return [
        m.group().strip()
        for m in PHONE.finditer(text)
        if valid_phone(m.group()) and not in_address(text, m.start(), m.end())
    ]


def in_address(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` lies within something written as an e-mail address (anything with an @)."""
    return any(m.start() <= start and end <= m.end() for m in EMAIL_LIKE.finditer(text))


def find_budget(text: str) -> Optional[Dict[str, Union[float, str]]]:
    """The first amount with a currency (``{"amount": 20000.0, "currency": "EUR"}``); phone numbers are not money."""
    for found in BUDGET.finditer(text):
        currency = (found.group("cur1") or found.group("cur2") or "").lower()
        if not currency or PHONE.fullmatch(found.group().strip()):
            continue
        amount = found.group("amount")
        if re.search(r"\d[.,]\d{3}\b", amount):  # 20,000 or 20.000: thousands separators
            raw = re.sub(r"[\s,]", "", amount).replace(".", "")
        else:  # 1,5k or 1.5k: a decimal point
            raw = re.sub(r"\s", "", amount).replace(",", ".")
        try:
            value = float(raw) * (1000 if found.group("k") else 1)
        except ValueError:
            continue
        return {"amount": value, "currency": CURRENCIES.get(currency, currency.upper())}
    return None

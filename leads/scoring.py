"""Scores a lead and gives it a status, with reasons a rep can read.

The concept: ``qualified`` needs a need, interest, and a decision maker or
influencer; ``nurture`` is a real prospect with something missing;
``disqualified`` is no need, a job seeker, a competitor or spam; ``partial`` is
a conversation that has not finished. Saboteurs lower nothing: they are risks.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List, Tuple

import yaml

from common import settings
from leads import labels

DISQUALIFY_REASONS = {
    "job_seeker": "The visitor is looking for a job, not buying.",
    "competitor": "The visitor works for a competitor.",
    "spam": "The conversation is spam.",
    "no_need": "The visitor said they have no need for the product.",
}


@lru_cache(maxsize=1)
def config() -> Dict[str, Any]:
    """Weights and thresholds from ``config/scoring.yml``."""
    with open(settings.config_dir() / "scoring.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _who(person: Dict[str, Any]) -> str:
    name, role = person.get("name"), person.get("role")
    if name and role:
        return f"{name} ({role})"
    return name or role or "Someone"


def risks(lead: Dict[str, Any]) -> List[str]:
    """Each saboteur, with their concern, as a sentence."""
    found = []
    for person in lead.get("stakeholders") or []:
        if person.get("stance") == "saboteur":
            concern = person.get("concern")
            found.append(f"{_who(person)} may block the purchase" + (f": {concern}" if concern else "."))
    return found


def score(lead: Dict[str, Any]) -> Tuple[int, str, List[str], List[str]]:
    """``(score, status, reasons, risks)`` for a lead in the contract's shape."""
    weights = config()["weights"]
    need = (lead.get("need") or {}).get("summary")
    category = (lead.get("need") or {}).get("category")
    level = (lead.get("interest") or {}).get("level")
    authority = lead.get("authority") or "unknown"
    contact = lead.get("contact") or {}
    reasons: List[str] = []
    points = 0
    if need:
        points += weights["need"]
        reasons.append(f'Stated a need: "{need[:120]}".')
        if category:
            points += weights["need_category"]
    else:
        reasons.append("No need stated yet.")
    if level:
        points += weights["interest"].get(level, 0)
        reasons.append(f"Interest: {labels.text('interest', level, 'en').lower()}.")
    else:
        reasons.append("No sign of interest yet.")
    points += weights["authority"].get(authority, 0)
    reasons.append(
        {
            "decision_maker": "Makes the purchase decision.",
            "influencer": "Influences the purchase decision.",
            "none": "Does not decide the purchase.",
        }.get(authority, "Role in the decision unknown.")
    )
    decider = next((p for p in lead.get("stakeholders") or [] if p.get("stance") == "decision_maker"), None)
    if authority != "decision_maker" and decider:
        points += weights["decision_maker_named"]
        reasons.append(f"The decision is made by {_who(decider)}.")
    if lead.get("consent") and contact.get("email"):
        points += weights["consent_and_email"]
        reasons.append("Agreed to be contacted and left an e-mail address.")
    elif not lead.get("consent"):
        reasons.append("Did not agree to be contacted.")
    if lead.get("confirmed"):
        points += weights["confirmed"]
    if lead.get("timeline"):
        points += weights["timeline"]
        reasons.append(f"Timeline: {lead['timeline']}.")
    points = max(0, min(100, points))

    disqualify = lead.get("disqualify")
    if disqualify:
        return 0, "disqualified", [DISQUALIFY_REASONS.get(disqualify, disqualify)], risks(lead)
    if not lead.get("finished", True):
        status = "partial"
        reasons.append("The conversation has not finished.")
    elif need and level and authority in ("decision_maker", "influencer") and points >= config()["qualified_threshold"]:
        status = "qualified"
    elif need or level:
        status = "nurture"
    else:
        status = "disqualified"
        reasons.append("No need and no interest were expressed.")
    return points, status, reasons, risks(lead)

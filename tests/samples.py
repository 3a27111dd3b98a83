"""Sample records shared by the tests."""

from __future__ import annotations


def lead(conversation_id: str = "c-1", **overrides):
    """A finished, qualified lead in the contract's shape."""
    record = {
        "conversation_id": conversation_id,
        "channel": "rest",
        "language": "en",
        "contact": {
            "name": "Tom Baker",
            "email": "tom@greenleafdental.com",
            "phone": None,
            "company": "Greenleaf Dental",
            "job_title": "COO",
        },
        "need": {"summary": "Our front desks drown in appointment calls", "category": "phone_calls"},
        "interest": {"level": "comparison", "signals": ["mentioned Podium"]},
        "authority": "influencer",
        "stakeholders": [
            {"name": "Maria Lopez", "role": "CEO", "stance": "decision_maker", "concern": None},
            {"name": "Ben", "role": "IT contractor", "stance": "saboteur", "concern": "he'll say it's a security risk"},
        ],
        "benefits": ["upfront_savings"],
        "current_vendor": "Podium",
        "timeline": None,
        "budget": None,
        "consent": True,
        "confirmed": True,
        "finished": True,
    }
    record.update(overrides)
    return record

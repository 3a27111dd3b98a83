"""The scoring rules of the concept, pinned."""

from leads.scoring import score
from tests.samples import lead


def test_need_interest_and_influence_make_a_qualified_lead():
    points, status, reasons, risks = score(lead())
    assert status == "qualified" and points >= 60
    assert "Influences the purchase decision." in reasons
    assert any("Maria Lopez (CEO)" in r for r in reasons)


def test_a_saboteur_is_a_risk_and_costs_no_points():
    without = lead(stakeholders=[lead()["stakeholders"][0]])
    assert score(lead())[0] == score(without)[0]
    assert score(lead())[3] == ["Ben (IT contractor) may block the purchase: he'll say it's a security risk"]
    assert score(without)[3] == []


def test_no_authority_means_nurture_even_with_a_strong_need():
    _, status, reasons, _ = score(lead(authority="none"))
    assert status == "nurture"
    assert "Does not decide the purchase." in reasons


def test_unfinished_conversation_is_partial():
    assert score(lead(finished=False))[1] == "partial"


def test_job_seekers_and_competitors_are_disqualified():
    assert score(lead(disqualify="job_seeker"))[:2] == (0, "disqualified")
    assert score(lead(disqualify="competitor"))[2] == ["The visitor works for a competitor."]


def test_nothing_said_is_disqualified():
    empty = lead(
        need={"summary": None, "category": None},
        interest={"level": None, "signals": []},
        authority="unknown",
        stakeholders=[],
        consent=False,
        confirmed=False,
    )
    points, status, reasons, _ = score(empty)
    assert status == "disqualified" and points == 0
    assert "No need and no interest were expressed." in reasons

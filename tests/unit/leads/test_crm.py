"""CRM connectors against local HubSpot, Salesforce and Pipedrive servers: one record per lead, kept up to date."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from sqlalchemy import select

from leads import crm
from leads.crm import mapping
from leads.crm.http import retry_after
from leads.crm.sync import queue_if_handed_off, queue_stale, states
from leads.delivery import deliver_pending, enqueue_handoff
from leads.routing import Route
from leads.storage.db import session_scope
from leads.storage.models import Attempt, CrmRecord, Delivery, Lead
from leads.storage.repository import save_lead
from tests.fakes.hubspot import HubSpot
from tests.fakes.pipedrive import Pipedrive
from tests.fakes.salesforce import Salesforce
from tests.samples import lead

HUBSPOT_TOKEN = "pat-eu1-test-token"
PIPEDRIVE_TOKEN = "pipedrive-test-token"
SF_ID, SF_SECRET = "3MVG9-test-client", "sf-test-secret"
HOSTILE = "<script>alert(1)</script> \"quoted\" & 'single' 😀 '; DROP TABLE leads; --"
LATER = timedelta(hours=2)


@pytest.fixture
def crms(monkeypatch):
    """The three local CRMs, and the variables that switch their connectors on."""
    hubspot, salesforce, pipedrive = HubSpot(HUBSPOT_TOKEN), Salesforce(SF_ID, SF_SECRET), Pipedrive(PIPEDRIVE_TOKEN)
    for name, value in {
        "HUBSPOT_TOKEN": HUBSPOT_TOKEN,
        "HUBSPOT_API_URL": hubspot.url,
        "SALESFORCE_CLIENT_ID": SF_ID,
        "SALESFORCE_CLIENT_SECRET": SF_SECRET,
        "SALESFORCE_URL": salesforce.url,
        "PIPEDRIVE_API_TOKEN": PIPEDRIVE_TOKEN,
        "PIPEDRIVE_API_URL": pipedrive.url,
    }.items():
        monkeypatch.setenv(name, value)
    yield {"hubspot": hubspot, "salesforce": salesforce, "pipedrive": pipedrive}
    for server in (hubspot, salesforce, pipedrive):
        server.stop()


def hand_off(db_url: str, record: dict) -> str:
    with session_scope(db_url) as session:
        saved = save_lead(session, record)
        enqueue_handoff(session, saved, Route(None, True, "test", True), {"team_queue": {"name": "Sales team"}})
        return saved.id


def change(db_url: str, record: dict) -> int:
    """The conversation goes on: the lead is written again, and its CRM updates queued."""
    with session_scope(db_url) as session:
        saved = save_lead(session, record)
        return queue_if_handed_off(session, saved.id)


def records(db_url: str, lead_id: str) -> dict:
    with session_scope(db_url) as session:
        rows = session.execute(select(CrmRecord).where(CrmRecord.lead_id == lead_id)).scalars()
        return {row.crm: dict(row.object_ids) for row in rows}


def test_each_connector_is_on_only_with_its_credentials(monkeypatch):
    for name in ("HUBSPOT_TOKEN", "SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET", "PIPEDRIVE_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SALESFORCE_URL", "https://acme.my.salesforce.com")
    assert crm.enabled() == []
    monkeypatch.setenv("SALESFORCE_CLIENT_ID", "id")
    assert crm.enabled() == []  # the secret is missing too
    monkeypatch.setenv("SALESFORCE_CLIENT_SECRET", "secret")
    monkeypatch.setenv("PIPEDRIVE_API_TOKEN", "token")
    assert crm.enabled() == ["salesforce", "pipedrive"]


def test_a_handed_off_lead_makes_one_record_in_each_crm_with_the_mapped_fields(db_url, crms):
    record = lead("crm-1", contact={**lead()["contact"], "phone": "+44 20 7946 0958"})
    record["need"] = {"summary": f"Too many calls {HOSTILE}", "category": "phone_calls"}
    lead_id = hand_off(db_url, record)
    assert deliver_pending(db_url, lead_id=lead_id) == {"delivered": 3, "failed": 0}

    hubspot = crms["hubspot"]
    [contact] = hubspot.objects["contacts"].values()
    assert contact["properties"] == {
        "email": "tom@greenleafdental.com",
        "firstname": "Tom",
        "lastname": "Baker",
        "phone": "+44 20 7946 0958",
        "company": "Greenleaf Dental",
        "jobtitle": "COO",
    }
    [deal] = hubspot.objects["deals"].values()
    assert deal["properties"]["dealname"] == "Greenleaf Dental"
    assert deal["properties"]["pipeline"] == "default" and deal["properties"]["dealstage"] == "appointmentscheduled"
    assert deal["properties"]["description"].endswith(HOSTILE)  # a text property: kept as typed
    [note] = hubspot.objects["notes"].values()
    body = note["properties"]["hs_note_body"]
    assert "<script>" not in body and "&lt;script&gt;" in body and "<br>" in body
    ids = records(db_url, lead_id)["hubspot"]
    assert ("deals", ids["deal"], ids["contact"], 3) in hubspot.associations
    assert ("notes", ids["note"], ids["contact"], 202) in hubspot.associations
    assert ("notes", ids["note"], ids["deal"], 214) in hubspot.associations
    assert all(r["headers"]["Authorization"] == f"Bearer {HUBSPOT_TOKEN}" for r in hubspot.requests)
    assert [r["path"] for r in hubspot.calls("POST")] == [
        "/crm/v3/objects/contacts/batch/upsert",
        "/crm/v3/objects/deals",
        "/crm/v3/objects/notes",
    ]

    salesforce = crms["salesforce"]
    [token_request] = salesforce.calls("POST", "/services/oauth2/token")
    assert token_request["body"] == {"grant_type": "client_credentials", "client_id": SF_ID, "client_secret": SF_SECRET}
    [sf_lead] = salesforce.leads.values()
    assert sf_lead["LastName"] == "Baker" and sf_lead["FirstName"] == "Tom" and sf_lead["Company"] == "Greenleaf Dental"
    assert sf_lead["Email"] == "tom@greenleafdental.com" and sf_lead["LeadSource"] == "Chat assistant"
    assert sf_lead["Qualification_Status__c"] == "qualified" and sf_lead["Need_Category__c"] == "phone_calls"
    assert sf_lead["Authority__c"] == "influencer" and sf_lead["Current_Vendor__c"] == "Podium"
    assert 'Too many calls <script>alert(1)</script> "quoted"' in sf_lead["Description"]  # plain text there

    pipedrive = crms["pipedrive"]
    [person] = pipedrive.persons.values()
    assert person["name"] == "Tom Baker"
    assert person["email"] == [{"value": "tom@greenleafdental.com", "primary": True, "label": "work"}]
    [pd_lead] = pipedrive.leads.values()
    assert pd_lead["title"] == "Greenleaf Dental" and pd_lead["person_id"] == person["id"]
    [pd_note] = pipedrive.notes.values()
    assert pd_note["lead_id"] == pd_lead["id"] and "&lt;script&gt;" in pd_note["content"]
    assert all(r["headers"]["x-api-token"] == PIPEDRIVE_TOKEN for r in pipedrive.requests)


def test_a_conversation_that_goes_on_updates_the_same_records(db_url, crms):
    lead_id = hand_off(db_url, lead("crm-2"))
    deliver_pending(db_url, lead_id=lead_id)
    first = records(db_url, lead_id)
    budget = {"amount": 20000, "currency": "EUR"}
    assert change(db_url, lead("crm-2", timeline="next quarter", budget=budget)) == 3
    assert deliver_pending(db_url, lead_id=lead_id) == {"delivered": 3, "failed": 0}
    assert records(db_url, lead_id) == first

    hubspot, salesforce, pipedrive = crms["hubspot"], crms["salesforce"], crms["pipedrive"]
    assert [len(hubspot.objects[k]) for k in ("contacts", "deals", "notes")] == [1, 1, 1]
    [deal] = hubspot.objects["deals"].values()
    assert deal["properties"]["amount"] == 20000
    assert [r["path"] for r in hubspot.calls("PATCH")] == [
        f"/crm/v3/objects/contacts/{first['hubspot']['contact']}",
        f"/crm/v3/objects/deals/{first['hubspot']['deal']}",
        f"/crm/v3/objects/notes/{first['hubspot']['note']}",
    ]
    [sf_lead] = salesforce.leads.values()
    assert sf_lead["Timeline__c"] == "next quarter"
    assert [r["path"] for r in salesforce.calls("PATCH")] == [
        f"/services/data/v59.0/sobjects/Lead/{first['salesforce']['lead']}"
    ]
    assert len(salesforce.calls("POST", "/services/oauth2/token")) == 1  # the token is kept
    [pd_lead] = pipedrive.leads.values()
    assert pd_lead["value"] == budget and len(pipedrive.persons) == 1 and len(pipedrive.notes) == 1

    # written again without a change: nothing is queued, nothing is sent
    sent = len(hubspot.requests) + len(salesforce.requests) + len(pipedrive.requests)
    assert change(db_url, lead("crm-2", timeline="next quarter", budget=budget)) == 0
    with session_scope(db_url) as session:
        assert queue_stale(session) == 0
    assert deliver_pending(db_url, lead_id=lead_id) == {"delivered": 0, "failed": 0}
    assert len(hubspot.requests) + len(salesforce.requests) + len(pipedrive.requests) == sent


def test_a_lead_not_handed_off_is_not_sent(db_url, crms):
    with session_scope(db_url) as session:
        partial = save_lead(session, lead("crm-partial", finished=False))
        assert queue_if_handed_off(session, partial.id) == 0
    assert not any(server.requests for server in crms.values())


def test_429_and_500_are_retried_and_the_lead_arrives(db_url, crms):
    crms["hubspot"].fail_next(1, 429, "7")
    crms["salesforce"].fail_next(2, 500)  # the token, then the first Lead request
    crms["pipedrive"].fail_next(1, 429, format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), True))
    lead_id = hand_off(db_url, lead("crm-3"))
    assert deliver_pending(db_url, lead_id=lead_id) == {"delivered": 0, "failed": 3}
    with session_scope(db_url) as session:
        waiting = {d.target: d for d in session.execute(select(Delivery).where(Delivery.lead_id == lead_id)).scalars()}
        now = datetime.now(timezone.utc)
        assert waiting["hubspot"].last_status_code == 429
        assert timedelta(seconds=5) < _aware(waiting["hubspot"].next_attempt_at) - now <= timedelta(seconds=7)
        assert timedelta(seconds=25) < _aware(waiting["pipedrive"].next_attempt_at) - now <= timedelta(seconds=30)
        assert waiting["salesforce"].last_status_code == 500 and "UNKNOWN_EXCEPTION" in waiting["salesforce"].last_error
        shown = {s["crm"]: s for s in states(session, lead_id)}
        assert shown["hubspot"]["status"] == "pending" and "429" in shown["hubspot"]["last_error"]
    assert deliver_pending(db_url, lead_id=lead_id) == {"delivered": 0, "failed": 0}  # not due yet
    result = deliver_pending(db_url, datetime.now(timezone.utc) + LATER, lead_id=lead_id)
    assert result["delivered"] + result["failed"] == 3
    if result["failed"]:  # the Salesforce token was refused first, then the Lead: one more try
        assert deliver_pending(db_url, datetime.now(timezone.utc) + 2 * LATER, lead_id=lead_id)["failed"] == 0
    assert len(crms["hubspot"].objects["deals"]) == 1 and len(crms["salesforce"].leads) == 1
    assert len(crms["pipedrive"].leads) == 1
    with session_scope(db_url) as session:
        attempts = session.execute(select(Attempt.ok).join(Delivery).where(Delivery.lead_id == lead_id)).scalars()
        assert sorted(attempts).count(False) >= 3
        assert {s["status"] for s in states(session, lead_id)} == {"delivered"}


def test_a_step_that_fails_half_way_is_not_made_twice(db_url, crms):
    pipedrive = crms["pipedrive"]
    lead_id = hand_off(db_url, lead("crm-4"))
    original = pipedrive.answer

    def fail_leads(method, path, headers, query, body):
        if path == "/api/v1/leads":
            return 500, pipedrive.error_body(500), {}
        return original(method, path, headers, query, body)

    pipedrive.answer = fail_leads
    deliver_pending(db_url, lead_id=lead_id)
    assert len(pipedrive.persons) == 1 and not pipedrive.leads
    pipedrive.answer = original
    deliver_pending(db_url, datetime.now(timezone.utc) + LATER, lead_id=lead_id)
    assert len(pipedrive.persons) == 1 and len(pipedrive.leads) == 1
    assert [r["method"] for r in pipedrive.calls(prefix="/api/v1/persons")] == ["POST", "PUT"]


def test_an_expired_salesforce_token_is_renewed(db_url, crms):
    lead_id = hand_off(db_url, lead("crm-5"))
    deliver_pending(db_url, lead_id=lead_id)
    crms["salesforce"].expire_tokens()
    change(db_url, lead("crm-5", timeline="in May"))
    assert deliver_pending(db_url, lead_id=lead_id)["failed"] == 0
    [sf_lead] = crms["salesforce"].leads.values()
    assert sf_lead["Timeline__c"] == "in May"


def test_handed_off_leads_that_changed_are_found_by_the_retry_job(db_url, crms):
    lead_id = hand_off(db_url, lead("crm-6"))
    deliver_pending(db_url, lead_id=lead_id)
    with session_scope(db_url) as session:
        assert queue_stale(session) == 0
        stored = session.get(Lead, lead_id)  # changed behind the pipeline's back (a write replayed from the outbox)
        stored.timeline, stored.updated_at = "this summer", datetime.now(timezone.utc) + timedelta(seconds=5)
    with session_scope(db_url) as session:
        assert queue_stale(session) == 1  # only Salesforce maps the timeline
        assert queue_stale(session) == 0  # queued once
    deliver_pending(db_url, lead_id=lead_id)
    [sf_lead] = crms["salesforce"].leads.values()
    assert sf_lead["Timeline__c"] == "this summer"


def test_two_updates_of_one_crm_record_never_cross(db_url, crms):
    lead_id = hand_off(db_url, lead("crm-7"))
    now = datetime.now(timezone.utc)
    with session_scope(db_url) as session:
        first = session.execute(
            select(Delivery).where(Delivery.lead_id == lead_id, Delivery.target == "hubspot")
        ).scalar_one()
        first.status, first.next_attempt_at = "sending", now + timedelta(seconds=60)  # another process sends it
        second = Delivery(lead_id=lead_id, target="hubspot", url=first.url, body=first.body, headers={})
        session.add(second)
    deliver_pending(db_url, lead_id=lead_id)
    assert not crms["hubspot"].requests  # waits for the one being sent
    assert len(crms["salesforce"].leads) == 1
    deliver_pending(db_url, now + timedelta(seconds=120), lead_id=lead_id)  # the lease ran out
    assert len(crms["hubspot"].objects["deals"]) == 1


def test_hubspot_refuses_a_second_contact_with_the_same_email():
    hubspot = HubSpot(HUBSPOT_TOKEN)
    try:
        headers = {"authorization": f"Bearer {HUBSPOT_TOKEN}", "content-type": "application/json"}
        body = {"properties": {"email": "a@b.example"}}
        assert hubspot.answer("POST", "/crm/v3/objects/contacts", headers, {}, body)[0] == 201
        status, answer, _ = hubspot.answer("POST", "/crm/v3/objects/contacts", headers, {}, body)
        assert status == 409 and answer["category"] == "CONFLICT"
        assert hubspot.answer("POST", "/crm/v3/objects/contacts", {}, {}, body)[0] == 401
    finally:
        hubspot.stop()


def test_mapping_rules():
    known = {"company": "Ü" * 300, "name": None, "score": 80}
    assert mapping.section({"Company": {"from": "company", "max": 255}}, known) == {"Company": "Ü" * 255}
    assert mapping.section({"LastName": {"from": "name", "default": "(unknown)"}}, known) == {"LastName": "(unknown)"}
    assert mapping.section({"Name": "name", "Score": "score", "Src": {"value": "chat"}}, known) == {
        "Score": 80,
        "Src": "chat",
    }
    with pytest.raises(ValueError):
        mapping.section({"X": "no_such_field"}, known)


def test_retry_after_in_seconds_or_as_a_date():
    now = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
    assert retry_after("10", now) == 10
    assert retry_after(format_datetime(now + timedelta(seconds=90), True), now) == 90
    assert retry_after("soon", now) is None and retry_after(None, now) is None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "language, up_to_date, waiting, error",
    [
        ("en", "Up to date", "Not there yet: next try", "Last error"),
        ("fr", "À jour", "Pas encore transmis : prochain essai", "Dernière erreur"),
        ("pl", "Aktualne", "Jeszcze nie dotarło: kolejna próba", "Ostatni błąd"),
    ],
)
def test_the_lead_page_shows_each_crms_state_in_the_reps_language(language, up_to_date, waiting, error):
    from leads.rep_page import crm_html

    shown = crm_html(
        [
            {"crm": "hubspot", "status": "delivered", "attempts": 1, "delivered_at": "2026-11-30T10:00:00+00:00"},
            {
                "crm": "salesforce",
                "status": "pending",
                "attempts": 2,
                "last_error": "HTTP 500: <b>boom</b>",
                "next_attempt_at": "2026-11-30T10:05:00+00:00",
            },
        ],
        language,
    )
    assert "HubSpot" in shown and up_to_date in shown and "Salesforce" in shown and waiting in shown
    assert error in shown and "&lt;b&gt;boom&lt;/b&gt;" in shown and "<b>boom" not in shown
    assert crm_html([], language) == ""


def test_a_record_deleted_in_the_crm_is_made_again(db_url, crms):
    lead_id = hand_off(db_url, lead("crm-8"))
    deliver_pending(db_url, lead_id=lead_id)
    before = records(db_url, lead_id)
    crms["hubspot"].objects["deals"].clear()  # a rep deleted them in the CRM
    crms["salesforce"].leads.clear()
    crms["pipedrive"].leads.clear()
    crms["pipedrive"].notes.clear()
    change(db_url, lead("crm-8", timeline="before Christmas", budget={"amount": 5000, "currency": "GBP"}))
    assert deliver_pending(db_url, lead_id=lead_id) == {"delivered": 3, "failed": 0}
    after = records(db_url, lead_id)
    assert after["hubspot"]["contact"] == before["hubspot"]["contact"]
    assert after["hubspot"]["deal"] != before["hubspot"]["deal"] and len(crms["hubspot"].objects["deals"]) == 1
    assert after["salesforce"]["lead"] != before["salesforce"]["lead"] and len(crms["salesforce"].leads) == 1
    assert after["pipedrive"]["person"] == before["pipedrive"]["person"] and len(crms["pipedrive"].leads) == 1

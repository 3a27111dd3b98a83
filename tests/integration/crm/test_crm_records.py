"""Qualified conversations over the REST channel and the widget reach HubSpot, Salesforce and Pipedrive.

One record per CRM per lead, with the fields of the mapping (``config/crm.yml``);
the conversation goes on and the same records are updated; a CRM that answers
429 or 500 gets the lead after a retry.
"""

from __future__ import annotations

import asyncio
import urllib.request
import uuid
from typing import Any, Dict, List

from sqlalchemy import select

from leads.crm import mapping
from leads.storage.db import session_scope
from leads.storage.models import Attempt, CrmRecord, Delivery, Lead
from leads.storage.repository import lead_to_contract
from testkit.conversations import qualifying_turns
from testkit.polling import wait_for
from testkit.servers import http
from tests.integration.browser.test_socket_channel import Client
from tests.integration.crm.conftest import API_TOKEN


def say_rest(stack, sender: str, text: str) -> None:
    status, replies = http("POST", f"{stack.url}/webhooks/rest/webhook", {"sender": sender, "message": text})
    assert status == 200 and isinstance(replies, list), (status, replies)


def lead_of(stack, conversation_id: str) -> Dict[str, Any]:
    with session_scope(stack.db_url) as session:
        lead = session.execute(select(Lead).where(Lead.conversation_id == conversation_id)).scalar_one_or_none()
        return lead_to_contract(lead) if lead else {}


def crm_ids(stack, lead_id: str) -> Dict[str, Dict[str, str]]:
    with session_scope(stack.db_url) as session:
        rows = session.execute(select(CrmRecord).where(CrmRecord.lead_id == lead_id, CrmRecord.digest.is_not(None)))
        return {row.crm: dict(row.object_ids) for row in rows.scalars()}


def in_crms(stack, email: str) -> Dict[str, List[Dict[str, Any]]]:
    """What each CRM holds for one person (by e-mail)."""
    hubspot, salesforce, pipedrive = (stack.crms[name] for name in ("hubspot", "salesforce", "pipedrive"))
    contacts = {i: o for i, o in hubspot.objects["contacts"].items() if o["properties"].get("email") == email}
    deals = {deal for kind, deal, to, _ in hubspot.associations if kind == "deals" and to in contacts}
    persons = [p for p in pipedrive.persons.values() if any(e["value"] == email for e in p.get("email") or [])]
    person_ids = {p["id"] for p in persons}
    return {
        "hubspot_contacts": [{"id": i, **o["properties"]} for i, o in contacts.items()],
        "hubspot_deals": [{"id": d, **hubspot.objects["deals"][d]["properties"]} for d in sorted(deals)],
        "hubspot_notes": [
            {"id": n, **hubspot.objects["notes"][n]["properties"]}
            for kind, n, to, type_id in hubspot.associations
            if kind == "notes" and type_id == 202 and to in contacts
        ],
        "salesforce_leads": [{"id": i, **f} for i, f in salesforce.leads.items() if f.get("Email") == email],
        "pipedrive_persons": persons,
        "pipedrive_leads": [lead for lead in pipedrive.leads.values() if lead.get("person_id") in person_ids],
    }


def rep_page(stack, lead_id: str, language: str) -> str:
    """The lead's page as a rep sees it (signed in with the leads token)."""
    request = urllib.request.Request(
        f"{stack.leads_url}/reps/leads/{lead_id}?lang={language}", headers={"Authorization": f"Bearer {API_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.read().decode()


def one_each(stack, email: str) -> Dict[str, List[Dict[str, Any]]]:
    held = in_crms(stack, email)
    return held if all(len(objects) == 1 for objects in held.values()) else {}


def assert_mapped(stack, lead: Dict[str, Any], held: Dict[str, List[Dict[str, Any]]]) -> None:
    """Every property each CRM holds is what the mapping makes of the stored lead."""
    url = f"{stack.leads_url}/reps/leads/{lead['id']}"
    hubspot = mapping.payload("hubspot", lead, url)["objects"]
    assert {k: v for k, v in held["hubspot_contacts"][0].items() if k != "id"} == hubspot["contact"]
    assert {k: v for k, v in held["hubspot_deals"][0].items() if k != "id"} == hubspot["deal"]
    salesforce = mapping.payload("salesforce", lead, url)["objects"]["lead"]
    assert {k: v for k, v in held["salesforce_leads"][0].items() if k != "id"} == salesforce
    pipedrive = mapping.payload("pipedrive", lead, url)["objects"]
    assert held["pipedrive_persons"][0]["name"] == pipedrive["person"]["name"]
    assert held["pipedrive_leads"][0]["title"] == pipedrive["lead"]["title"]


def test_a_qualified_rest_conversation_makes_one_record_per_crm_then_updates_it(stack):
    sender = f"crm-rest-{uuid.uuid4().hex[:8]}"
    email = f"sarah.{sender[-8:]}@northbay-logistics.com"
    for text in qualifying_turns(email):
        say_rest(stack, sender, text)
    lead = wait_for(lambda: (found := lead_of(stack, f"rest_{sender}")) and found["handoff"] and found)
    held = wait_for(lambda: one_each(stack, email))
    ids = wait_for(lambda: (found := crm_ids(stack, lead["id"])) and len(found) == 3 and found)
    lead = lead_of(stack, f"rest_{sender}")
    assert lead["status"] == "qualified" and lead["contact"]["email"] == email
    assert held["hubspot_contacts"][0]["company"] == "Northbay Logistics"
    assert held["salesforce_leads"][0]["LastName"] == "Collins"
    assert held["salesforce_leads"][0]["Qualification_Status__c"] == "qualified"
    assert_mapped(stack, lead, held)

    # The conversation goes on: the lead changes, and the same records are updated.
    assert not lead["contact"]["phone"]
    say_rest(stack, sender, "By the way, you can also call me on +44 20 7946 0958.")
    changed = wait_for(lambda: (found := lead_of(stack, f"rest_{sender}")) and found["contact"]["phone"] and found)
    phone = changed["contact"]["phone"]
    assert phone.replace(" ", "").endswith("2079460958"), phone

    def updated() -> bool:
        held = one_each(stack, email)
        return bool(held) and all(
            (
                held["hubspot_contacts"][0].get("phone") == phone,
                held["salesforce_leads"][0].get("Phone") == phone,
                (held["pipedrive_persons"][0].get("phone") or [{}])[0].get("value") == phone,
            )
        )

    wait_for(updated)
    assert crm_ids(stack, lead["id"]) == ids  # the same objects, updated
    hubspot = stack.crms["hubspot"]
    assert any(r["path"] == f"/crm/v3/objects/contacts/{ids['hubspot']['contact']}" for r in hubspot.calls("PATCH"))
    salesforce = stack.crms["salesforce"]
    assert any(r["path"].endswith(f"/sobjects/Lead/{ids['salesforce']['lead']}") for r in salesforce.calls("PATCH"))
    wait_for(lambda: all(len(objects) == 1 for objects in in_crms(stack, email).values()))
    assert_mapped(stack, lead_of(stack, f"rest_{sender}"), one_each(stack, email))


def test_a_qualified_widget_conversation_makes_one_record_per_crm(stack):
    email = f"sarah.web{uuid.uuid4().hex[:6]}@northbay-logistics.com"

    async def converse() -> str:
        async with Client(stack.url, origin="https://www.customer.example") as client:
            _, session_id = await client.session(None)
            for text in qualifying_turns(email):
                await client.say(session_id, text, {"locale": "en-GB"})
            return session_id

    session_id = asyncio.run(asyncio.wait_for(converse(), 300))
    lead = wait_for(lambda: (found := lead_of(stack, f"web_{session_id}")) and found["handoff"] and found)
    assert lead["channel"] == "web"
    held = wait_for(lambda: one_each(stack, email))
    wait_for(lambda: len(crm_ids(stack, lead["id"])) == 3)
    assert_mapped(stack, lead_of(stack, f"web_{session_id}"), held)


def test_a_crm_that_answers_429_or_500_gets_the_lead_after_a_retry(stack):
    stack.crms["hubspot"].fail_next(1, 429, "1")
    stack.crms["salesforce"].fail_next(1, 500)
    stack.crms["pipedrive"].fail_next(1, 500)
    sender = f"crm-retry-{uuid.uuid4().hex[:8]}"
    email = f"sarah.{sender[-8:]}@northbay-logistics.com"
    for text in qualifying_turns(email):
        say_rest(stack, sender, text)
    lead = wait_for(lambda: (found := lead_of(stack, f"rest_{sender}")) and found["handoff"] and found)
    held = wait_for(lambda: one_each(stack, email), timeout=90)
    wait_for(lambda: len(crm_ids(stack, lead["id"])) == 3, timeout=90)
    assert_mapped(stack, lead_of(stack, f"rest_{sender}"), held)
    for name, status in (("hubspot", 429), ("salesforce", 500), ("pipedrive", 500)):
        answered = [r.get("answered") for r in stack.crms[name].requests]
        assert status in answered, (name, answered)
    with session_scope(stack.db_url) as session:
        tries = session.execute(
            select(Delivery.target, Attempt.ok, Attempt.status_code)
            .join(Attempt, Attempt.delivery_id == Delivery.id)
            .where(Delivery.lead_id == lead["id"], Delivery.target.in_(("hubspot", "salesforce", "pipedrive")))
            .order_by(Attempt.id)
        ).all()
    for name, status in (("hubspot", 429), ("salesforce", 500), ("pipedrive", 500)):
        mine = [(ok, code) for target, ok, code in tries if target == name]
        assert mine[0] == (False, status) and mine[-1][0] is True, (name, mine)
    page = rep_page(stack, lead["id"], "fr")
    assert page.count("À jour (dernier envoi") == 3 and "Dans les CRM" in page

"""Facts read from visitor messages, with entities as the NLU annotates them."""

from typing import Any, Dict, Optional

from rasa.shared.nlu.training_data.entities_parser import parse_training_example

from actions.extraction import extract_facts, valid_email
from actions.qualification import required_slots, summary_text


def facts(
    annotated: str, intent: str = "inform", language: str = "en", requested: Optional[str] = None, **slots: Any
) -> Dict[str, Any]:
    example = parse_training_example(annotated, intent)
    message = {
        "text": example.get("text"),
        "intent": {"name": intent},
        "entities": example.get("entities", []) + [{"entity": "language", "value": language}],
    }
    return extract_facts(message, {"language": language, **slots}, requested)


def test_one_long_message_fills_several_facts():
    out = facts(
        "Hey, I run operations at [Greenleaf Dental](company) (12 clinics). Our front desks drown in "
        "appointment calls and we're looking at options, [Podium](vendor) among them."
    )
    assert out["company"] == "Greenleaf Dental"
    assert "appointment calls" in out["need"]
    assert out["need_category"] == "phone_calls"
    assert out["interest_level"] == "comparison"
    assert any("Podium" in s for s in out["interest_signals"])


def test_someone_else_signs():
    out = facts("I recommend, our [CEO](job_title) [Maria Lopez](person) signs.", requested="authority")
    assert out["authority"] == "influencer"
    assert out["decision_maker"] == "Maria Lopez (CEO)"
    assert {"name": "Maria Lopez", "role": "CEO", "stance": "decision_maker", "concern": None} in out["stakeholders"]


def test_i_do_not_decide_to_who_decides_leaves_the_question_open():
    # the visitor restates their own part: the question is asked again (differently), not given up
    for annotated, language in (
        ('No, [I don\'t decide]{"entity": "authority", "value": "none"}.', "en"),
        ('Non, [je ne décide pas]{"entity": "authority", "value": "none"}.', "fr"),
        ('Nie, [ja nie decyduję]{"entity": "authority", "value": "none"}.', "pl"),
    ):
        out = facts(annotated, intent="deny", language=language, requested="decision_maker", authority="none")
        assert out.get("decision_maker") is None, annotated
    assert facts("no idea", intent="deny", requested="decision_maker")["decision_maker"] == "unknown"
    named = facts("No, our [CFO](job_title) does", intent="deny", requested="decision_maker", authority="none")
    assert "CFO" in named["decision_maker"]


def test_a_saboteur_and_the_concern_in_their_own_words():
    out = facts(
        "Our [IT contractor](job_title), [Ben](person), hates new tools. He'll say it's a security risk.",
        requested="allies",
    )
    ben = out["blockers"][0]
    assert ben["name"] == "Ben" and ben["role"] == "IT contractor" and ben["stance"] == "saboteur"
    assert "security risk" in ben["concern"]
    assert out["allies"] == []


def test_allies_named_in_one_free_answer():
    out = facts("our [CFO](job_title) [Anna Kowalska](person) and the [IT team](job_title)", requested="allies")
    assert [(p["name"], p["role"], p["stance"]) for p in out["allies"]] == [
        ("Anna Kowalska", "CFO", "influencer"),
        (None, "IT team", "influencer"),
    ]


def test_nobody_else():
    assert facts("nobody else", intent="deny", requested="allies")["allies"] == []
    assert facts("personne", intent="deny", language="fr", requested="blockers")["blockers"] == []


def test_french_partner_sceptical_about_cost():
    out = facts("Mon [associé](job_title), un peu sceptique sur le coût.", language="fr", requested="allies")
    assert out["blockers"][0]["role"] == "associé"
    assert "sceptique" in out["blockers"][0]["concern"]


def test_polish_visitor_is_not_the_decision_maker():
    out = facts(
        "Nie ja, decyduje [dyrektor](job_title), pan [Adam Nowicki](person).", language="pl", requested="authority"
    )
    assert out["authority"] == "none"
    assert out["decision_maker"] == "Adam Nowicki (dyrektor)"


def test_costs_are_a_benefit():
    out = facts("Costs, honestly.", requested="benefits")
    assert out["benefits"] == ["upfront_savings"]
    assert facts("Réduire les coûts", language="fr", requested="benefits")["benefits"] == ["upfront_savings"]
    assert facts("Niższe koszty", language="pl", requested="benefits")["benefits"] == ["upfront_savings"]


def test_pricing_question_is_a_purchase_signal():
    out = facts("how much does it cost?", intent="ask_pricing", requested="authority", interest_level="information")
    assert out["interest_level"] == "purchase"
    assert "asked about pricing" in out["interest_signals"]
    assert "authority" not in out


def test_incomplete_email_is_kept_for_validation_and_complete_one_accepted():
    assert facts("john@", requested="contact_email")["contact_email"] == "john@"
    assert not valid_email("john@")
    out = facts("it's [ops@greenleafdental.com](email)", requested="contact_email")
    assert out["contact_email"] == "ops@greenleafdental.com"


def test_the_digits_of_an_e_mail_address_are_not_a_phone_number():
    # as the NLU reads it: the address as an e-mail, its digits also matched by the phone pattern
    address = "sarah.34656785@northbay-logistics.com"
    message = {
        "text": address,
        "intent": {"name": "inform"},
        "entities": [
            {"entity": "email", "value": address, "start": 0, "end": len(address)},
            {"entity": "phone", "value": "34656785", "start": 6, "end": 14},
            {"entity": "language", "value": "en"},
        ],
    }
    out = extract_facts(message, {"language": "en", "consent": True}, "contact_email")
    assert out["contact_email"] == address and "contact_phone" not in out
    # without the NLU's entities, from the text alone
    assert "contact_phone" not in facts(address, requested="contact_email", consent=True)
    # a number written beside the address is one
    both = facts(f"{address}, or call +44 20 7946 0958", requested="contact_email", consent=True)
    assert both["contact_email"] == address and both["contact_phone"] == "+44 20 7946 0958"


def test_phone_can_be_skipped():
    assert facts("skip", requested="contact_phone")["contact_phone"] == ""
    assert facts("pomiń", language="pl", requested="contact_phone")["contact_phone"] == ""
    assert facts("+48 601 234 567", requested="contact_phone")["contact_phone"] == "+48 601 234 567"


def test_corrections_at_the_summary():
    assert facts("yes", intent="affirm", requested="summary_confirmed")["summary_confirmed"] is True
    assert facts("no", intent="deny", requested="summary_confirmed")["correction_pending"] is True
    out = facts(
        "no, I'm not the one who signs", intent="deny", requested="summary_confirmed", authority="decision_maker"
    )
    assert out["authority"] == "none"
    assert "summary_confirmed" not in out
    picked = facts("My contact details", requested="summary_confirmed", contact_email="a@b.co")
    assert picked["contact_email"] is None


def test_control_messages_do_not_become_answers():
    assert facts("stop", intent="stop", requested="need") == {}
    assert "need" not in facts("😀😀😀", intent="nlu_fallback", requested="need")


def test_questions_depend_on_earlier_answers():
    assert "decision_maker" in required_slots({"authority": "none"})
    assert "decision_maker" not in required_slots({"authority": "influencer"})
    assert "contact_email" in required_slots({"consent": True})
    assert "contact_email" not in required_slots({"consent": False})
    assert required_slots({})[-1] == "summary_confirmed"


def test_summary_in_each_language():
    slots = {
        "need": "too many tickets",
        "need_category": "ticket_overload",
        "interest_level": "comparison",
        "authority": "influencer",
        "decision_maker": "Maria Lopez (CEO)",
        "blockers": [{"name": "Ben", "role": "IT", "stance": "saboteur", "concern": "security"}],
        "benefits": ["upfront_savings"],
        "current_vendor": "Podium",
        "consent": False,
    }
    assert "Maria Lopez (CEO)" in summary_text(slots, "en") and "Ben (IT) — security" in summary_text(slots, "en")
    assert "Besoin" in summary_text(slots, "fr")
    assert "Potrzeba" in summary_text(slots, "pl")


def test_a_title_after_the_visitors_own_name_is_theirs():
    out = facts(
        "Hi, I'm [Sarah Collins](person), [head of support](job_title) at [Northbay Logistics](company). "
        "We get far too many repetitive tickets.",
        requested=None,
    )
    assert out["contact_name"] == "Sarah Collins"
    assert out["job_title"] == "head of support"
    assert not out.get("stakeholders")


def test_a_benefit_given_to_the_vendor_question_is_no_vendor_even_when_already_known():
    # the visitor answers the earlier question on what matters: the tool they use stays to be asked
    for known in ([], ["efficiency"]):
        out = facts(
            'Chodzi nam o [szybsze odpisywanie klientom]{"entity": "benefit", "value": "efficiency"}.',
            language="pl",
            requested="current_vendor",
            benefits=known,
        )
        assert "current_vendor" not in out, known
    assert facts("[Help Scout](vendor)", requested="current_vendor", benefits=["efficiency"])["current_vendor"] == (
        "Help Scout"
    )


def test_an_email_is_not_the_answer_to_another_question():
    out = facts("ops@greenleafdental.com", requested="current_vendor")
    assert out["contact_email"] == "ops@greenleafdental.com"
    assert "current_vendor" not in out


def test_a_bare_yes_is_not_a_name():
    assert "contact_name" not in facts("yes", intent="affirm", requested="contact_name", consent=True)


def test_a_yes_the_model_took_for_a_name_is_no_person():
    # The entity extractor may read a capitalised reply word as a name: "[Tak](person), zgadza się".
    for annotated, language in (
        ("[Tak](person), zgadza się", "pl"),
        ("[Oui](person), c'est bien ça", "fr"),
        ("[Yes](person), that's right", "en"),
    ):
        out = facts(annotated, intent="affirm", language=language, requested="summary_confirmed")
        assert out["summary_confirmed"] is True, annotated
        assert "contact_name" not in out and "decision_maker" not in out
    assert facts("[Anna](person)", requested="contact_name", consent=True)["contact_name"] == "Anna"


def test_a_reply_the_model_took_for_a_company_or_tool_is_neither():
    # "Nothing." to "who else is involved?" or "Rien" to "which tool?" is a reply, not a name.
    for annotated, language, requested in (
        ("[Nobody else.](company)", "en", "stakeholders"),
        ("[Nothing](vendor), just email", "en", "current_vendor"),
        ("[Personne d'autre.](company)", "fr", "stakeholders"),
        ("[Rien](vendor)", "fr", "current_vendor"),
        ("[Pas vraiment.](company)", "fr", "concerns"),
        ("[Nikt inny](company)", "pl", "stakeholders"),
    ):
        out = facts(annotated, language=language, requested=requested, company=None)
        assert not out.get("company") and out.get("current_vendor") in (None, "none"), annotated
    # with no question open, only the words themselves tell a reply from a company
    for annotated, language in (
        ("[Personne d'autre](company), on gère tout par mail depuis des années", "fr"),
        ("[Nobody else](company) really, we handle the tickets by email for now", "en"),
        ("[Nikt inny](company), na razie odpisujemy na maile ręcznie", "pl"),
    ):
        assert not facts(annotated, language=language).get("company"), annotated
    assert facts("[Nothing Bundt Cakes](company)", requested="company")["company"] == "Nothing Bundt Cakes"


def test_words_opening_a_sentence_are_no_company_or_tool():
    # an answer to another question, read by the model as a company or a tool, is neither
    for annotated, language, requested in (
        ("[Pas de frein](company) à ma connaissance.", "fr", "concerns"),
        (
            "[Nasza specjalistka ds](company). zgodności, Monika Pawlak, musi wszystko zatwierdzić.",
            "pl",
            "stakeholders",
        ),
        ("[Our support lead](company) Dana Ruiz will want a demo first", "en", "stakeholders"),
        ("[No tool](vendor) at all, only a shared inbox", "en", "current_vendor"),
    ):
        out = facts(annotated, language=language, requested=requested, company=None)
        assert not out.get("company") and out.get("current_vendor") in (None, "none"), annotated
    # a company with such a word inside its name, or typed as the answer to "which company?", is kept
    assert facts("we're at [Caisse Notre-Dame](company), the phones never stop")["company"] == "Caisse Notre-Dame"
    assert facts("[Nasza Apteka](company)", language="pl", requested="company")["company"] == "Nasza Apteka"


def test_a_known_company_is_not_replaced_by_a_name_in_the_answer_to_another_question():
    out = facts("[Spreadsheets](company) mostly", requested="current_vendor", company="Brightpath Health")
    assert out.get("company", "Brightpath Health") == "Brightpath Health"
    corrected = facts("sorry, it's [Brightpath Clinics](company)", requested="contact_email", company="Brightpath")
    assert corrected["company"] == "Brightpath Clinics"
    assert "company" not in facts("[Spreadsheets.](company)", requested="current_vendor")  # the answer to that
    assert "company" not in facts("Jestem [prezesem zarządu](company).", language="pl", requested="authority")
    long_answer = "we use spreadsheets at [Acme Dental](company), honestly a mess"
    assert facts(long_answer, requested="current_vendor")["company"] == "Acme Dental"  # not known yet: taken


def test_a_name_given_with_contact_details_is_not_a_stakeholder():
    out = facts("[Tom Baker](person)", requested="contact_email", consent=True)
    assert not out.get("allies") and not out.get("stakeholders")


def test_influencers_are_recognised_in_each_language():
    for text, language in (
        ("I'm not the decision maker, but I'll put it forward to the board", "en"),
        ("my job is to evaluate options for the MD", "en"),
        ("je ne signe pas, mais c'est moi qui prépare le dossier", "fr"),
        ("je suis prescriptrice sur ce genre d'achat", "fr"),
        ("nie podpisuję, ale przygotowuję rekomendację", "pl"),
        ("prowadzę ocenę ofert dla zarządu", "pl"),
    ):
        assert facts(text, language=language, requested="authority")["authority"] == "influencer", text


def test_a_role_correction_is_recognised_under_another_question():
    out = facts(
        "Oops, my mistake, I don't sign anything; our [MD](job_title) does. I just recommend.",
        requested="blockers",
        authority="decision_maker",
    )
    assert out["authority"] == "influencer"
    assert "blockers" not in out  # not stored as a blocker's concern


def test_words_inside_an_answer_about_the_role_are_not_interest_signals():
    out = facts("I make the final purchase decision", requested="authority", interest_level="information")
    assert out["authority"] == "decision_maker"
    assert out.get("interest_level", "information") == "information"
    out = facts("podejmuję decyzję o zakupie", language="pl", requested="authority", interest_level="information")
    assert out["authority"] == "decision_maker"
    assert out.get("interest_level", "information") == "information"


def test_comparing_with_the_current_vendor_is_comparison_not_purchase():
    out = facts(
        "We pay [Kustomer](vendor) today and we're weighing you against them, their price went up",
        requested="current_vendor",
        interest_level="benefits",
    )
    assert out["interest_level"] == "comparison"


def test_interest_never_goes_down_unless_the_visitor_says_so():
    out = facts("how does it work?", intent="ask_product", interest_level="comparison")
    assert out.get("interest_level", "comparison") == "comparison"
    out = facts("to be honest we're just browsing for now", interest_level="comparison")
    assert out["interest_level"] == "information"


def test_the_need_is_read_from_a_long_first_message_that_says_much_else():
    out = facts(
        "I'm [Jo Park](person), [head of service](job_title) at [Vela Foods](company). Our support costs are "
        "spiralling out of control since we grew. We use [Kayako](vendor). jo@velafoods.com"
    )
    assert "out of control" in out["need"]
    out = facts("chcemy obniżyć koszty obsługi klienta, piszę z firmy [Lumen](company)", language="pl")
    assert "koszty" in out["need"]


def test_a_refusal_of_an_optional_question_in_natural_words():
    for text, language in (
        ("honestly I'd prefer not to hand out my number", "en"),
        ("je préfère qu'on reste sur l'e-mail", "fr"),
        ("wolałabym zostać przy mailu", "pl"),
        ("je préférerais ne pas donner mon numéro", "fr"),
        ("j'aimerais mieux ne pas donner mon portable", "fr"),
    ):
        assert facts(text, language=language, requested="contact_phone")["contact_phone"] == "", text


def test_a_benefit_named_in_a_few_words_is_the_answer_whatever_the_classifier_reads():
    """ "Cheaper" to the question on benefits is a benefit, even when read as a question on price."""
    for text, language in (("cheaper, basically", "en"), ("que ce soit moins cher", "fr"), ("żeby było taniej", "pl")):
        out = facts(text, intent="ask_pricing", language=language, requested="benefits")
        assert out["benefits"] == ["upfront_savings"], text
        assert out.get("interest_level") != "purchase", text


def test_a_question_on_price_at_the_benefits_question_stays_a_question():
    for text, language in (("what's the price", "en"), ("combien ça coûte", "fr"), ("ile to kosztuje", "pl")):
        out = facts(text, intent="ask_pricing", language=language, requested="benefits")
        assert out.get("interest_level") == "purchase", (text, out)


def test_a_benefit_outside_the_catalog_keeps_the_visitors_words():
    out = facts("honestly, peace of mind for the weekend shift", requested="benefits")
    assert out["benefits"] == []
    assert any("peace of mind" in s for s in out["interest_signals"])


def test_the_referring_customer_is_identified():
    out = facts("[Rosa Vidal](person) from [Harbor Yoga](company), rosa@harboryoga.com", requested="referrer")
    assert out["contact_name"] == "Rosa Vidal"
    assert out["contact_email"] == "rosa@harboryoga.com"
    assert out["company"] == "Harbor Yoga"

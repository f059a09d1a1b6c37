"""Counter registration: a pending worker, the consent SMS, and the worker's `1` through the SMS path."""

from __future__ import annotations

import re

from sqlalchemy import select

from dispatch.i18n import render_sms as render
from dispatch.models import (
    AuditEvent,
    Contact,
    Conversation,
    MessageStatus,
    Offer,
    RegisteredVia,
    TicketKind,
    TicketOutcome,
    TicketStatus,
    Worker,
    WorkerStatus,
)
from tests.console.helpers import console_post
from tests.console.intake.conftest import WORKER_PHONE, make_ticket
from tests.console.intake.test_job_form import flashes, job_form
from tests.helpers import outbound_to, run_jobs, text_in

URL = "/console/intake/worker"


def worker_form(catalogue, **overrides) -> dict:
    form = {
        "name": "张三",
        "phone": "139 0013 9001",
        "trade": [str(catalogue.trade("plumber_electrician")), str(catalogue.trade("porter")), ""],
        "years": ["5", "", ""],
        "site": str(catalogue.site("LZ-TX")),
        "min_pay": "200",
        "language": "zh",
        "notes": "有电工证",
    }
    form.update(overrides)
    return form


def the_worker(session) -> Worker | None:
    session.expire_all()
    return session.scalar(select(Worker).where(Worker.phone == WORKER_PHONE))


def test_the_form_renders_in_chinese_and_in_english(agent_client, catalogue):
    page = agent_client.get(URL).get_data(as_text=True)
    assert "窗口登记求职" in page and "工作年限" in page and "最低日薪" in page
    assert page.count('<select name="trade"') == 3  # up to three trades, as an SMS registration takes
    console_post(agent_client, "/console/language", {"lang": "en", "next": URL})
    page = agent_client.get(URL).get_data(as_text=True)
    assert "Counter registration" in page and "Years of experience" in page


def test_registering_makes_a_pending_worker_and_asks_for_consent(
    agent_client, agent, session, catalogue, runtime
):
    response = console_post(agent_client, URL, worker_form(catalogue))
    worker = the_worker(session)
    assert response.status_code == 302 and response.headers["Location"] == f"{URL}?done={worker.id}"
    assert (worker.name, worker.status, worker.registered_via, worker.consent_at) == (
        "张三",
        WorkerStatus.PENDING,
        RegisteredVia.COUNTER,
        None,
    )
    assert (worker.home_site_id, worker.min_daily_pay, worker.notes) == (
        catalogue.site("LZ-TX"),
        200,
        "有电工证",
    )
    assert {(wt.trade_id, wt.years_experience) for wt in worker.trades} == {
        (catalogue.trade("plumber_electrician"), 5),
        (catalogue.trade("porter"), 0),
    }
    # The SMS registration dialogue waits at its confirm step with what the counter took down.
    conversation = session.scalar(select(Conversation).where(Conversation.phone == WORKER_PHONE))
    assert (conversation.flow, conversation.step) == ("registration", "confirm")
    [sms] = outbound_to(session, WORKER_PHONE)
    assert (sms.kind, sms.worker_id, sms.status) == (
        "registration.counter_confirm",
        worker.id,
        MessageStatus.PENDING,
    )
    assert sms.body == render(
        "counter_reg_confirm",
        "zh",
        sig=runtime.settings.SMS_SIGNATURE_ZH,
        trade_names=["水电工", "搬运"],
        area="太行西街街道",
        pay=200,
    )
    assert "回复1确认" in sms.body
    [audit] = session.scalars(select(AuditEvent).where(AuditEvent.action == "worker.register")).all()
    assert (audit.agent_id, audit.target_type, audit.target_id) == (agent.id, "worker", worker.id)
    assert ("success", "张三已登记，确认短信已发出，等待回复1。") in flashes(agent_client)
    page = agent_client.get(response.headers["Location"]).get_data(as_text=True)
    assert '刚登记：张三（<a href="tel:+8613900139001" class="tel">139 0013 9001</a>）' in page
    assert f"/console/people/workers/{worker.id}" in page


def test_the_reply_1_activates_the_worker_through_the_sms_dialogue(agent_client, session, catalogue):
    console_post(agent_client, URL, worker_form(catalogue))
    text_in(agent_client, "1", sender=WORKER_PHONE)
    worker = the_worker(session)
    assert worker.status == WorkerStatus.ACTIVE and worker.consent_at is not None
    assert worker.registered_via == RegisteredVia.COUNTER
    # What the counter took down survives the dialogue's save, years of experience included.
    assert (worker.name, worker.min_daily_pay, worker.home_site_id) == ("张三", 200, catalogue.site("LZ-TX"))
    assert {(wt.trade_id, wt.years_experience) for wt in worker.trades} == {
        (catalogue.trade("plumber_electrician"), 5),
        (catalogue.trade("porter"), 0),
    }
    assert outbound_to(session, WORKER_PHONE)[-1].kind == "registration.done"
    assert session.scalar(select(Conversation).where(Conversation.phone == WORKER_PHONE)) is None


def test_an_english_speaker_is_asked_and_answered_in_english(agent_client, session, catalogue):
    # A form posted without any years field (not this page's) still keeps every trade, at 0 years.
    console_post(agent_client, URL, worker_form(catalogue, language="en", name="Ann Lee", years=[]))
    assert {wt.years_experience for wt in the_worker(session).trades} == {0}
    assert len(the_worker(session).trades) == 2
    [sms] = outbound_to(session, WORKER_PHONE)
    assert sms.language == "en"
    assert sms.body == "Luzhou Jobs: Sign-up: plumber, porter, Taihang West Street, ¥200+/day. " + (
        "Reply 1 to confirm and get job offers, 2 to redo."
    )
    assert session.scalar(select(Contact.language).where(Contact.phone == WORKER_PHONE)) == "en"
    text_in(agent_client, "1", sender=WORKER_PHONE)
    assert outbound_to(session, WORKER_PHONE)[-1].body.startswith("Luzhou Jobs: You are registered!")


def test_a_pending_worker_gets_no_offer_until_they_reply_1(agent_client, session, catalogue, runtime):
    console_post(agent_client, URL, worker_form(catalogue))
    worker = the_worker(session)
    assert console_post(agent_client, "/console/intake/job", job_form(catalogue)).status_code == 302
    run_jobs(runtime)
    assert session.scalars(select(Offer).where(Offer.worker_id == worker.id)).all() == []

    text_in(agent_client, "1", sender=WORKER_PHONE)
    second = job_form(catalogue, phone="13700137002", start="09:00")
    assert console_post(agent_client, "/console/intake/job", second).status_code == 302
    run_jobs(runtime)
    session.expire_all()
    [offer] = session.scalars(select(Offer).where(Offer.worker_id == worker.id)).all()
    assert offer.job.employer.phone == "+8613700137002"


def test_a_phone_already_registered_is_refused_with_a_link(agent_client, session, catalogue):
    existing = Worker(phone=WORKER_PHONE, name="老李", registered_via=RegisteredVia.SMS)
    session.add(existing)
    session.commit()
    response = console_post(agent_client, URL, worker_form(catalogue))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "该手机号已登记为求职者" in page and f'href="/console/people/workers/{existing.id}"' in page
    assert outbound_to(session, WORKER_PHONE) == []
    assert the_worker(session).name == "老李"


def test_invalid_phones_and_fields_are_refused_with_clear_messages(agent_client, session, catalogue):
    cases = {
        "这不是有效的电话号码": {"phone": "1390013"},
        "这不是手机号": {"phone": "0355 2020 202"},  # a Changzhi landline: it cannot take the SMS
        "请填写30到5000之间的整数": {"min_pay": "10"},
        "最多10个字": {"name": "欧阳慕容司马诸葛上官家"},
        "工种不能重复": {"trade": [str(catalogue.trade("porter"))] * 2, "years": ["1", "2"]},
        "工作年限请填0到60之间的整数": {"years": ["99", "", ""]},
        "请选择一项": {"trade": ["", "", ""]},
        "请填写这一项": {"name": ""},
    }
    for message, change in cases.items():
        response = console_post(agent_client, URL, worker_form(catalogue, **change))
        page = response.get_data(as_text=True)
        assert response.status_code == 422, change
        assert message in page, (message, change)
    assert the_worker(session) is None
    assert outbound_to(session, WORKER_PHONE) == []


def test_a_post_without_the_csrf_token_is_refused(agent_client, session, catalogue):
    assert agent_client.post(URL, data=worker_form(catalogue)).status_code == 400
    assert the_worker(session) is None


def test_a_town_agent_registers_only_into_their_sites(town_client, session, catalogue):
    page = town_client.get(URL).get_data(as_text=True)
    # Only the site list: a site id of 2 (ids restart after a committed test) is also a trade's option.
    sites = page[page.index('<select name="site"') :]
    sites = sites[: sites.index("</select>")]
    assert f'value="{catalogue.site("LZ-TX")}"' in sites
    assert f'value="{catalogue.site("LZ-DJ")}"' not in sites
    response = console_post(town_client, URL, worker_form(catalogue, site=str(catalogue.site("LZ-DJ"))))
    assert response.status_code == 422 and "请从列表中选择您负责的站点" in response.get_data(as_text=True)
    assert the_worker(session) is None
    assert console_post(town_client, URL, worker_form(catalogue)).status_code == 302


def test_an_opted_out_number_is_registered_but_the_agent_is_told_no_sms_went(
    agent_client, session, catalogue
):
    text_in(agent_client, "退订", sender=WORKER_PHONE)
    assert console_post(agent_client, URL, worker_form(catalogue)).status_code == 302
    sms = outbound_to(session, WORKER_PHONE)[-1]
    assert (sms.kind, sms.status) == ("registration.counter_confirm", MessageStatus.SUPPRESSED)
    category, text = flashes(agent_client)[-1]
    assert category == "warning" and "确认短信没有发出" in text
    assert the_worker(session).status == WorkerStatus.PENDING


def test_a_registration_ticket_fills_the_form_and_is_resolved(town_client, town_agent, session, catalogue):
    answers = {"trade": catalogue.trade("cleaner"), "site": catalogue.site("LZ-TX-WYM"), "pay": 180}
    ticket = make_ticket(
        session, TicketKind.CALL_BACK, "register", answers, phone=WORKER_PHONE, language="en"
    )
    page = town_client.get(f"{URL}?ticket={ticket.id}").get_data(as_text=True)
    assert 'value="+8613900139001"' in page and 'value="180"' in page
    assert f'<option value="{catalogue.trade("cleaner")}" selected>' in page
    assert re.search(f'<option value="{catalogue.site("LZ-TX-WYM")}"[^>]* selected>', page)
    assert 'name="language" value="en" checked' in page

    form = worker_form(catalogue, phone="+8613900139001", language="en")
    assert console_post(town_client, f"{URL}?ticket={ticket.id}", form).status_code == 302
    worker = the_worker(session)
    session.refresh(ticket)
    assert (ticket.status, ticket.outcome, ticket.worker_id, ticket.resolved_by_id) == (
        TicketStatus.RESOLVED,
        TicketOutcome.WORKER_REGISTERED,
        worker.id,
        town_agent.id,
    )
    assert f"/console/people/workers/{worker.id}" in ticket.resolution


def test_another_towns_registration_ticket_is_not_found(town_client, session, catalogue):
    answers = {"trade": catalogue.trade("cleaner"), "site": catalogue.site("LZ-DJ"), "pay": 180}
    ticket = make_ticket(session, TicketKind.VOICEMAIL, "register", answers, phone=WORKER_PHONE)
    assert town_client.get(f"{URL}?ticket={ticket.id}").status_code == 404
    assert console_post(town_client, f"{URL}?ticket={ticket.id}", worker_form(catalogue)).status_code == 404
    assert the_worker(session) is None

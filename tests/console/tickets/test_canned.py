"""Canned replies: supervisors keep them per ticket kind, checked as SMS and audited; agents see them
on the ticket in the language the number texts in."""

from __future__ import annotations

from sqlalchemy import select

from dispatch.models import AuditEvent, CannedReply, Contact, TicketKind
from tests.console.conftest import signed_in
from tests.console.helpers import console_post, make_agent
from tests.console.tickets.test_queue import add_ticket

ZH = "您好，我们已收到您的留言，工作人员会尽快回电。"
EN = "Hello, we got your message; an agent will call you back soon."


def canned(kind="voicemail", title="已回电", text_zh=ZH, text_en=EN, **more):
    return {"kind": kind, "title": title, "text_zh": text_zh, "text_en": text_en, **more}


def test_a_supervisor_adds_and_edits_a_reply_with_an_audit_of_before_and_after(app, session, seeded):
    boss = make_agent(session, "boss", "supervisor", "LZ")
    client = signed_in(app, boss)
    assert console_post(client, "/console/tickets/canned/", canned()).status_code == 302
    reply = session.scalar(select(CannedReply))
    assert (reply.kind, reply.position, reply.text_zh, reply.updated_by_id) == ("voicemail", 1, ZH, boss.id)

    response = console_post(client, f"/console/tickets/canned/{reply.id}", canned(text_zh="您好，请回电。"))
    assert response.status_code == 302
    session.refresh(reply)
    assert reply.text_zh == "您好，请回电。"
    edit = session.scalar(select(AuditEvent).where(AuditEvent.action == "canned.edit"))
    assert edit.details["before"]["zh"] == ZH and edit.details["after"]["zh"] == "您好，请回电。"
    assert edit.agent_id == boss.id and edit.target_id == reply.id

    console_post(client, f"/console/tickets/canned/{reply.id}/delete")
    assert session.scalar(select(CannedReply)) is None
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "canned.delete")).details["before"]


def test_texts_longer_than_two_sms_parts_are_refused_with_why(app, session, seeded):
    client = signed_in(app, make_agent(session, "boss", "supervisor", "LZ"))
    too_long_zh = "请" * 129  # with 【潞州零工】 135 UCS-2 units: three parts of 67
    response = console_post(client, "/console/tickets/canned/", canned(text_zh=too_long_zh))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "中文短信太长：连同签名135字要分3条发送，最多2条" in page
    assert too_long_zh in page  # what was typed is kept to be shortened
    response = console_post(client, "/console/tickets/canned/", canned(text_en="Call us back ☺ soon"))
    assert "GSM字符表以外" in response.get_data(as_text=True)
    response = console_post(client, "/console/tickets/canned/", canned(text_en="x" * 294))
    assert "英文短信太长：连同签名307个字符要分3条发送" in response.get_data(as_text=True)
    assert session.scalar(select(CannedReply)) is None
    # Exactly at the limit is fine: with the signature 134 UCS-2 units are two parts.
    assert console_post(client, "/console/tickets/canned/", canned(text_zh="请" * 128)).status_code == 302


def test_agents_cannot_edit_canned_replies(agent_client):
    assert agent_client.get("/console/tickets/canned/").status_code == 403
    assert console_post(agent_client, "/console/tickets/canned/", canned()).status_code == 403


def test_the_ticket_offers_its_kinds_replies_in_the_senders_language(agent_client, session):
    session.add_all(
        [
            CannedReply(kind="voicemail", position=1, title="回电", text_zh=ZH, text_en=EN),
            CannedReply(kind="unparsed_sms", position=1, title="other kind", text_zh="别的", text_en="other"),
        ]
    )
    ticket = add_ticket(session, TicketKind.VOICEMAIL, phone="+8613900000077")
    page = agent_client.get(f"/console/tickets/{ticket.id}").get_data(as_text=True)
    assert f'data-canned="1" data-text="{ZH}"' in page and "Alt+1" in page and "别的" not in page
    session.add(Contact(phone="+8613900000077", language="en"))
    session.commit()
    page = agent_client.get(f"/console/tickets/{ticket.id}").get_data(as_text=True)
    assert 'data-text="Hello, we got your message; an agent will call you back soon."' in page

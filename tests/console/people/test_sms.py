"""An SMS an agent types on a person's page: the one outbound path, opt-outs, length, CSRF, audit."""

from __future__ import annotations

from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.console.people.services import MAX_AGENT_SEGMENTS
from dispatch.models import AuditEvent, Contact, MessageStatus, OutboxEvent, WorkerStatus
from dispatch.sms.segments import count_segments
from tests.console.helpers import console_post, make_agent, sign_in
from tests.helpers import outbound_to, run_jobs

PHONE = "+8613800138000"
TEXT = "李师傅，明天早上7点到市场大厅找王经理。"
BODY = f"【潞州零工】{TEXT}"


def send(client, person_path: str, text: str, **kw):
    return console_post(client, f"/console/people/{person_path}/sms", {"text": text}, **kw)


def send_jobs(session) -> list[OutboxEvent]:
    session.expire_all()
    return list(
        session.scalars(select(OutboxEvent).where(OutboxEvent.task == "dispatch.sms.tasks.send_message"))
    )


def audit(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_the_text_goes_out_as_typed_through_the_outbox(agent_client, agent, people, session, runtime):
    worker = people.worker(PHONE)
    response = send(agent_client, f"workers/{worker.id}", f"  {TEXT}\r\n")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/console/people/workers/{worker.id}"

    [message] = outbound_to(session, PHONE)
    assert message.body == BODY
    assert message.kind == "agent.text" and message.worker_id == worker.id
    assert message.status == MessageStatus.PENDING and message.send_after is None  # quiet hours are off
    assert message.segments == count_segments(BODY).segments == 1
    assert [event.args for event in send_jobs(session)] == [[message.id]]
    [event] = audit(session, "sms.send")
    assert event.agent_id == agent.id and event.target_type == "worker" and event.target_id == worker.id
    assert event.details["message_id"] == message.id and event.details["status"] == "pending"

    run_jobs(runtime)
    assert [(sent.to, sent.body) for sent in runtime.transport.sent] == [(PHONE, BODY)]
    assert outbound_to(session, PHONE)[0].status == MessageStatus.SENT

    page = agent_client.get(f"/console/people/workers/{worker.id}").get_data(as_text=True)
    assert "短信已排队发送（1条）" in page  # the flash
    assert f'data-id="{message.id}"' in page and TEXT in page  # and the timeline


def test_template_syntax_typed_by_an_agent_is_just_text(agent_client, people, session):
    worker = people.worker(PHONE)
    typed = "王师傅 {{ sig }} 带50%定金{% if x %}{{ 7*7 }}{% endif %}"
    send(agent_client, f"workers/{worker.id}", typed)
    [message] = outbound_to(session, PHONE)
    assert message.body == f"【潞州零工】{typed}"


def test_an_english_text_to_an_english_speaker_gets_the_english_signature(agent_client, people, session):
    worker = people.worker(PHONE)
    session.add(Contact(phone=PHONE, language="en"))
    session.commit()
    send(agent_client, f"workers/{worker.id}", "Please come to the hall at 7.")
    [message] = outbound_to(session, PHONE)
    assert message.body == "Luzhou Jobs: Please come to the hall at 7." and message.language == "en"


def test_an_opted_out_worker_gets_nothing_and_the_agent_is_told(agent_client, people, session, runtime):
    worker = people.worker(PHONE, status=WorkerStatus.OPTED_OUT)
    session.add(Contact(phone=PHONE, opted_out_at=utcnow()))
    session.commit()
    response = send(agent_client, f"workers/{worker.id}", TEXT, follow_redirects=True)
    assert "未发送：此号码已退订短信，对方不会收到。" in response.get_data(as_text=True)

    [message] = outbound_to(session, PHONE)
    assert message.status == MessageStatus.SUPPRESSED  # kept on the record, never sent
    assert send_jobs(session) == []
    run_jobs(runtime)
    assert list(runtime.transport.sent) == []
    [event] = audit(session, "sms.send")
    assert event.details["status"] == "suppressed"


def test_an_undeliverable_number_gets_nothing(agent_client, people, session, runtime):
    worker = people.worker(PHONE, status=WorkerStatus.UNDELIVERABLE)
    session.add(Contact(phone=PHONE, undeliverable_at=utcnow(), undeliverable_error=30006))
    session.commit()
    response = send(agent_client, f"workers/{worker.id}", TEXT, follow_redirects=True)
    assert "此号码无法接收短信" in response.get_data(as_text=True)
    assert send_jobs(session) == []


def test_an_employer_can_be_texted_too(agent_client, people, session, runtime):
    employer = people.employer(PHONE)
    assert send(agent_client, f"employers/{employer.id}", TEXT).status_code == 302
    [message] = outbound_to(session, PHONE)
    assert message.employer_id == employer.id and message.worker_id is None
    run_jobs(runtime)
    assert [sent.to for sent in runtime.transport.sent] == [PHONE]


def test_the_longest_text_allowed_and_one_character_more(agent_client, people, session):
    worker = people.worker(PHONE)
    signature = len("【潞州零工】")
    longest = "好" * (MAX_AGENT_SEGMENTS * 67 - signature)  # UCS-2: 67 code units a part
    assert count_segments(f"【潞州零工】{longest}").segments == MAX_AGENT_SEGMENTS

    response = send(agent_client, f"workers/{worker.id}", longest + "好")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f"短信太长：最多{MAX_AGENT_SEGMENTS}条短信长" in html
    assert longest in html  # the typed text is kept for shortening
    assert outbound_to(session, PHONE) == [] and audit(session, "sms.send") == []

    assert send(agent_client, f"workers/{worker.id}", longest).status_code == 302
    [message] = outbound_to(session, PHONE)
    assert message.segments == MAX_AGENT_SEGMENTS


def test_an_empty_text_is_refused(agent_client, people, session):
    worker = people.worker(PHONE)
    response = send(agent_client, f"workers/{worker.id}", " \r\n ")
    assert response.status_code == 422 and "请先输入短信内容" in response.get_data(as_text=True)
    assert outbound_to(session, PHONE) == []


def test_a_send_without_the_csrf_token_is_refused(agent_client, people, session):
    worker = people.worker(PHONE)
    response = agent_client.post(f"/console/people/workers/{worker.id}/sms", data={"text": TEXT})
    assert response.status_code == 400
    response = agent_client.post(
        f"/console/people/workers/{worker.id}/sms", data={"text": TEXT, "csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert outbound_to(session, PHONE) == [] and send_jobs(session) == []


def test_a_town_agent_cannot_text_another_towns_worker(app, people, session):
    other = people.worker(PHONE, site="LZ-DJ")
    make_agent(session, "t1", "agent", "LZ-TX")
    client = app.test_client()
    sign_in(client, "t1")
    assert send(client, f"workers/{other.id}", TEXT).status_code == 404
    assert outbound_to(session, PHONE) == []


def test_htmx_send_answers_with_the_form_and_the_new_timeline(agent_client, people, session):
    worker = people.worker(PHONE)
    response = send(agent_client, f"workers/{worker.id}", TEXT, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    [message] = outbound_to(session, PHONE)
    assert html.lstrip().startswith('<div id="sms-panel"')
    assert "短信已排队发送（1条）" in html
    assert 'id="timeline"' in html and 'hx-swap-oob="true"' in html and f'data-id="{message.id}"' in html
    assert "<html" not in html

    # A refusal is answered with 200 too (htmx swaps only successful answers), the text kept.
    refused = send(agent_client, f"workers/{worker.id}", "", headers={"HX-Request": "true"})
    assert refused.status_code == 200 and "请先输入短信内容" in refused.get_data(as_text=True)


def test_the_segment_count_follows_the_typed_text(agent_client, people, session):
    worker = people.worker(PHONE)
    path = f"/console/people/workers/{worker.id}/sms/count"
    html = console_post(agent_client, path, {"text": "好" * 100}).get_data(as_text=True)
    assert "共106字，按2条短信计费" in html  # the signature counts
    html = console_post(agent_client, path, {"text": "好" * 500}).get_data(as_text=True)
    assert 'class="error"' in html and "8条" in html
    assert session.scalar(select(Contact).where(Contact.phone == PHONE)) is None  # measuring writes nothing


def test_the_page_offers_the_form_in_english(agent_client, people):
    worker = people.worker(PHONE)
    console_post(agent_client, "/console/language", {"lang": "en"})
    html = agent_client.get(f"/console/people/workers/{worker.id}").get_data(as_text=True)
    assert "Send an SMS" in html and f"At most {MAX_AGENT_SEGMENTS} SMS parts." in html
    response = send(agent_client, f"workers/{worker.id}", "", headers={"HX-Request": "true"})
    assert "Type the text first." in response.get_data(as_text=True)

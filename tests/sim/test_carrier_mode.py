"""The simulator's carrier mode (SIM_CARRIER on a first run): a mainland mobile's text goes in through
the carrier's uplink push, the service's answer goes out through the simulated carrier (a template and
its variables, checked as the carrier checks them), and the phone's poll pushes its delivery report."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from dispatch.models import Direction, Message, MessageStatus
from dispatch.settings import DEV_PUSH_SECRET, Settings, SettingsError
from dispatch.sim.carrier import BIZ_ID_SUFFIX, SimulatedCarrier
from dispatch.sms.services import queue_sms
from tests.console.helpers import csrf_token
from tests.helpers import run_jobs
from tests.sms.aliyun_support import carrier_settings
from tests.test_settings import PRODUCTION

MOBILE = "+8613912345678"
ABROAD = "+85291234567"  # Hong Kong: not the mainland carrier's


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"SIM_CARRIER": True}


def sms(client, phone: str, body: str) -> str:
    response = client.post(
        f"/sim/phone/{phone}/sms", data={"body": body}, headers={"X-CSRF-Token": csrf_token(client)}
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def messages(session, phone: str, direction: Direction) -> list[Message]:
    session.expire_all()
    query = select(Message).where(Message.phone == phone, Message.direction == direction).order_by(Message.id)
    return list(session.scalars(query))


def test_a_text_goes_in_by_the_uplink_push_and_the_answer_out_through_the_carrier(
    client, session, seeded, runtime
) -> None:
    assert isinstance(runtime.transport, SimulatedCarrier)
    page = client.get(f"/sim/phone/{MOBILE}").get_data(as_text=True)
    assert 'id="carrier-mode"' in page

    sms(client, MOBILE, "帮助")
    [inbound] = messages(session, MOBILE, Direction.INBOUND)
    assert inbound.provider_sid is not None and inbound.provider_sid.startswith("ALI")  # the uplink's id
    assert inbound.raw["AliyunSequenceId"] and inbound.status == MessageStatus.HANDLED
    [answer] = messages(session, MOBILE, Direction.OUTBOUND)
    assert answer.carrier_text and answer.template_params is not None  # sent as a carrier template

    run_jobs(runtime)
    [answer] = messages(session, MOBILE, Direction.OUTBOUND)
    assert answer.status == MessageStatus.SENT and answer.provider == "aliyun"
    assert answer.provider_sid is not None and answer.provider_sid.endswith(BIZ_ID_SUFFIX)

    polled = client.get(f"/sim/phone/{MOBILE}/messages").get_data(as_text=True)
    [answer] = messages(session, MOBILE, Direction.OUTBOUND)
    assert answer.status == MessageStatus.DELIVERED  # the carrier's report, pushed as the phone got it
    assert answer.body in polled and "已送达" in polled


def test_a_number_abroad_texts_the_twilio_way(client, session, seeded, runtime) -> None:
    page = client.get(f"/sim/phone/{ABROAD}").get_data(as_text=True)
    assert 'id="carrier-mode"' not in page
    sms(client, ABROAD, "HELP")
    [inbound] = messages(session, ABROAD, Direction.INBOUND)
    assert inbound.provider_sid is not None and inbound.provider_sid.startswith("SM")


def test_the_carrier_refuses_a_text_without_a_template(session, seeded, runtime) -> None:
    with runtime.db.transaction() as db:
        message_id = queue_sms(
            db, runtime.settings, phone=MOBILE, template="agent_text", kind="agent_text", text="明天7点到大厅"
        ).id
    run_jobs(runtime)
    session.expire_all()
    refused = session.get(Message, message_id)
    assert refused is not None
    assert (refused.status, refused.error_code) == (MessageStatus.FAILED, 30007)


def test_carrier_mode_is_a_first_runs_only() -> None:
    first_run = Settings.load({"SIM_CARRIER": True}, environ={})
    assert first_run.sim_carrier and first_run.sends_with_aliyun and first_run.ALIYUN_PUSH_SECRET
    reachable = {"SIM_CARRIER": True, "PUBLIC_BASE_URL": "https://x.example.org", "TWILIO_AUTH_TOKEN": "t"}
    public = Settings.load(reachable, environ={})
    assert not public.sim_carrier and not public.sends_with_aliyun


def test_production_refuses_the_development_push_secret() -> None:
    with pytest.raises(SettingsError, match="ALIYUN_PUSH_SECRET"):
        weak = {"ALIYUN_PUSH_SECRET": DEV_PUSH_SECRET}
        Settings.load({**PRODUCTION, **carrier_settings(None, **weak)}, environ={})

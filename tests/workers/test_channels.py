"""Every channel that registers a worker (the SMS dialogue, the IVR's keypad, the console's counter
form) takes the limits of dispatch.workers.limits, the rule dispatch.workers.services refuses anything
else by; and the registrations taken down for the worker go through dispatch.workers, waiting for the
worker's `1` to the SMS dialogue's confirmation."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import select

from dispatch.i18n import render_sms as render
from dispatch.models import Conversation, RegisteredVia, Worker, WorkerStatus
from dispatch.workers import limits
from dispatch.workers import services as workers
from dispatch.workers.services import Skill, WorkerDetails, WorkerDetailsError
from tests.console.helpers import console_post
from tests.console.intake.test_worker_form import worker_form
from tests.helpers import inbound_params, outbound_to
from tests.ivr.conftest import PUBLIC_BASE, Caller, post_signed
from tests.ivr.test_calls import RECORDING

SMS_PHONE = "+8613800138000"
COUNTER_PHONE = "+8613900139001"  # what worker_form() types
IVR_PHONE = "+8613900139000"
COUNTER = "/console/intake/worker"
TOO_LONG = "名" * (limits.NAME_MAX_LENGTH + 1)
LONGEST = "名" * limits.NAME_MAX_LENGTH


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # The IVR's webhooks are signed over the public URL; so, then, is the SMS webhook.
    return {"PUBLIC_BASE_URL": PUBLIC_BASE, "OPENING_HOURS": "08:00-18:00"}


def text(client, body: str, phone: str = SMS_PHONE) -> None:
    response = post_signed(client, f"{PUBLIC_BASE}/sms/inbound", inbound_params(body, phone))
    assert response.status_code == 200, response.get_data(as_text=True)


def asked(session, phone: str = SMS_PHONE) -> str:
    """The step of the dialogue's last question to `phone`, by the message's kind."""
    return outbound_to(session, phone)[-1].kind.removeprefix("registration.ask_")


def asked_again(runtime, session, step: str) -> bool:
    """The dialogue asked for the pay or the name again: it could not take the answer."""
    retry = render(f"reg_ask_{step}", "zh", sig=runtime.settings.SMS_SIGNATURE_ZH, retry=True)
    return asked(session) == step and outbound_to(session, SMS_PHONE)[-1].body == retry


def the_worker(session, phone: str) -> Worker | None:
    session.expire_all()
    return session.scalar(select(Worker).where(Worker.phone == phone))


def first_key(client) -> str:
    """Registering by keypad: 2 on the everyday menu, 5 (change what I registered) on a worker's line."""
    runtime = client.application.extensions["dispatch.runtime"]
    with runtime.db.sessionmaker() as session:
        known = session.scalar(select(Worker.id).where(Worker.phone == IVR_PHONE)) is not None
    return "5" if known else "2"


def keyed_pay(client, digits: str) -> Caller:
    """A caller registering as a plumber of 威远门北路 keys `digits` as their lowest daily pay."""
    caller = Caller(client, phone=IVR_PHONE)
    caller.dial()
    for keys in [first_key(client), "4", "8", "1", digits]:
        caller.press(keys)
    return caller


# -- names ----------------------------------------------------------------------------------------


def test_the_sms_dialogue_takes_a_name_up_to_the_limit(runtime, client, session, seeded) -> None:
    text(client, "注册 水电工 太西 300")
    assert asked(session) == "name" and not asked_again(runtime, session, "name")
    text(client, TOO_LONG)
    assert asked_again(runtime, session, "name")
    text(client, LONGEST)
    assert asked(session) == "confirm"
    text(client, "1")
    assert the_worker(session, SMS_PHONE).name == LONGEST


def test_a_one_shot_name_too_long_is_asked_for(runtime, client, session, seeded) -> None:
    text(client, f"注册 水电工 太西 300 {TOO_LONG}")
    assert asked(session) == "name" and not asked_again(runtime, session, "name")


def test_the_counter_takes_a_name_up_to_the_limit(agent_client, session, catalogue) -> None:
    response = console_post(agent_client, COUNTER, worker_form(catalogue, name=TOO_LONG))
    assert response.status_code == 422
    assert f"最多{limits.NAME_MAX_LENGTH}个字" in response.get_data(as_text=True)
    assert the_worker(session, COUNTER_PHONE) is None
    assert console_post(agent_client, COUNTER, worker_form(catalogue, name=LONGEST)).status_code == 302
    assert the_worker(session, COUNTER_PHONE).name == LONGEST


def details(catalogue, **changes) -> WorkerDetails:
    entry = WorkerDetails(
        SMS_PHONE, (Skill(catalogue.trade("porter")),), catalogue.site("LZ-TX"), 200, "张三"
    )
    return dataclasses.replace(entry, **changes)


def test_the_services_take_a_name_up_to_the_limit(session, catalogue) -> None:
    with pytest.raises(WorkerDetailsError):
        workers.register(session, details(catalogue, name=TOO_LONG), RegisteredVia.SMS, consent=True)
    assert workers.register(session, details(catalogue, name=LONGEST), RegisteredVia.SMS, consent=True)


# -- pay ------------------------------------------------------------------------------------------

PAYS = [
    (limits.MIN_DAILY_PAY - 1, False),
    (limits.MIN_DAILY_PAY, True),
    (limits.MAX_DAILY_PAY, True),
    (limits.MAX_DAILY_PAY + 1, False),
]


@pytest.mark.parametrize(("pay", "taken"), PAYS)
def test_the_sms_dialogue_takes_a_pay_within_the_bounds(runtime, client, session, seeded, pay, taken) -> None:
    text(client, "注册 水电工 太西 张三")
    assert asked(session) == "pay"
    text(client, str(pay))
    assert asked(session) == "confirm" if taken else asked_again(runtime, session, "pay")


@pytest.mark.parametrize(("pay", "taken"), PAYS)
def test_the_ivr_keypad_takes_a_pay_within_the_bounds(
    client, session, seeded, market_open, pay, taken
) -> None:
    said = keyed_pay(client, str(pay)).said()
    assert ("您按的键不对。" in said) is not taken
    assert ("请在提示音后说出您的姓名" in said) is taken


@pytest.mark.parametrize(("pay", "taken"), PAYS)
def test_the_counter_takes_a_pay_within_the_bounds(agent_client, session, catalogue, pay, taken) -> None:
    response = console_post(agent_client, COUNTER, worker_form(catalogue, min_pay=str(pay)))
    assert response.status_code == (302 if taken else 422)
    worker = the_worker(session, COUNTER_PHONE)
    assert (worker.min_daily_pay if worker else None) == (pay if taken else None)


@pytest.mark.parametrize(("pay", "taken"), PAYS)
def test_the_services_take_a_pay_within_the_bounds(session, catalogue, pay, taken) -> None:
    entry = details(catalogue, min_daily_pay=pay)
    if taken:
        assert workers.register(session, entry, RegisteredVia.SMS, consent=True).min_daily_pay == pay
    else:
        with pytest.raises(WorkerDetailsError):
            workers.register(session, entry, RegisteredVia.SMS, consent=True)


def test_a_change_of_the_limits_reaches_the_dialogue_the_counter_and_the_services(
    runtime, client, agent_client, session, catalogue, monkeypatch
) -> None:
    # (The IVR's keypad steps take the pay bounds when dispatch.ivr.enrol is loaded.)
    monkeypatch.setattr(limits, "NAME_MAX_LENGTH", 4)
    monkeypatch.setattr(limits, "MIN_DAILY_PAY", 100)
    text(client, "注册 水电工 太西")
    text(client, "90")
    assert asked_again(runtime, session, "pay")
    text(client, "100")
    text(client, "欧阳慕容司")
    assert asked_again(runtime, session, "name")

    assert console_post(agent_client, COUNTER, worker_form(catalogue, min_pay="90")).status_code == 422
    assert console_post(agent_client, COUNTER, worker_form(catalogue, name="欧阳慕容司")).status_code == 422
    assert the_worker(session, COUNTER_PHONE) is None

    for change in ({"min_daily_pay": 90}, {"name": "欧阳慕容司"}):
        with pytest.raises(WorkerDetailsError):
            workers.register(session, details(catalogue, **change), RegisteredVia.SMS, consent=True)


# -- registrations taken down for the worker ------------------------------------------------------


def register_by_phone(client) -> Caller:
    caller = keyed_pay(client, "200")
    caller.speak(RECORDING)
    caller.press("1")
    return caller


def test_a_known_worker_registering_by_phone_changes_only_on_their_1(
    runtime, client, session, catalogue, market_open
) -> None:
    known = WorkerDetails(
        IVR_PHONE, (Skill(catalogue.trade("cleaner"), 4),), catalogue.site("LZ-DJ"), 150, "老李"
    )
    consent_at = workers.register(session, known, RegisteredVia.SMS, consent=True).consent_at
    session.commit()
    register_by_phone(client)
    worker = the_worker(session, IVR_PHONE)
    assert (worker.name, worker.min_daily_pay, worker.home_site_id) == ("老李", 150, catalogue.site("LZ-DJ"))
    assert worker.status == WorkerStatus.ACTIVE

    text(client, "嗯", IVR_PHONE)  # not a 1 or a 2: the summary again, with the name the worker has
    summary = render(
        "reg_ask_confirm",
        "zh",
        sig=runtime.settings.SMS_SIGNATURE_ZH,
        retry=True,
        name="老李",
        trade_names=["水电工"],
        area="威远门北路社区零工驿站",
        pay=200,
    )
    assert outbound_to(session, IVR_PHONE)[-1].body == summary
    text(client, "1", IVR_PHONE)
    worker = the_worker(session, IVR_PHONE)
    assert (worker.name, worker.min_daily_pay, worker.home_site_id) == (
        "老李",
        200,
        catalogue.site("LZ-TX-WYM"),
    )
    assert [row.trade_id for row in worker.trades] == [catalogue.trade("plumber_electrician")]
    assert (worker.registered_via, worker.consent_at) == (RegisteredVia.SMS, consent_at)


def test_a_counter_registration_redone_by_the_worker_starts_the_sms_dialogue(
    runtime, client, agent_client, session, catalogue
) -> None:
    assert console_post(agent_client, COUNTER, worker_form(catalogue)).status_code == 302
    text(client, "2", COUNTER_PHONE)
    assert asked(session, COUNTER_PHONE) == "trade"
    assert the_worker(session, COUNTER_PHONE).status == WorkerStatus.PENDING
    for answer in ["3", "5", "250", "李四"]:
        text(client, answer, COUNTER_PHONE)
    text(client, "1", COUNTER_PHONE)
    worker = the_worker(session, COUNTER_PHONE)
    assert (worker.name, worker.min_daily_pay, worker.status) == ("李四", 250, WorkerStatus.ACTIVE)
    assert worker.registered_via == RegisteredVia.COUNTER
    assert session.scalar(select(Conversation).where(Conversation.phone == COUNTER_PHONE)) is None

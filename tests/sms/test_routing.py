"""Routing per message (SMS_TRANSPORT=routed) and failover between the domestic carrier and Twilio: the
real Twilio client and Alibaba Cloud SDK against their fakes, jobs in a real RQ worker, the clock moved
by hand. No message is ever sent twice: the texts each fake holds are counted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from dispatch.models import Message, MessageStatus
from dispatch.runtime import Runtime
from dispatch.settings import Settings, SettingsError
from dispatch.sms.aliyun import CONTENT_REFUSED
from dispatch.sms.health import ProviderHealth, State
from dispatch.sms.services import queue_sms
from tests.fakes.aliyun_api import FakeAliyunSms
from tests.fakes.twilio_api import FakeTwilioApi
from tests.helpers import TEST_AUTH_TOKEN, run_jobs, sign
from tests.sms.aliyun_support import PUBLIC_BASE_URL, PUSH_SECRET, carrier_settings, fake_carrier
from tests.sms.test_aliyun_push import push, report
from tests.sms.test_webhooks import status_params

ACCOUNT_SID = "AC" + "7" * 32
FROM_NUMBER = "+15017122661"
CN = "+8613912345678"
ABROAD = "+14155550100"
NOON = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # 12:00 in Beijing
RECONCILE_AFTER = 15
COOLDOWN = 300


@pytest.fixture
def fake() -> Iterator[FakeAliyunSms]:
    with fake_carrier() as running:
        yield running


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilioApi]:
    with FakeTwilioApi(ACCOUNT_SID, TEST_AUTH_TOKEN) as running:
        yield running


@pytest.fixture
def extra_settings() -> dict[str, Any]:
    return {}


def routed_settings(fake: FakeAliyunSms, fake_twilio: FakeTwilioApi, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "SMS_TRANSPORT": "routed",
        "TWILIO_API_BASE_URL": fake_twilio.base_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_HTTP_TIMEOUT": 0.5,
        "QUIET_HOURS": "off",
        "SMS_SEND_RATE": 1000,
        "SMS_FAILOVER_MIN_ATTEMPTS": 2,
        "SMS_FAILOVER_WINDOW_SECONDS": 120,
        "SMS_FAILOVER_COOLDOWN_SECONDS": COOLDOWN,
    }
    return carrier_settings(fake, **{**values, **extra})


@pytest.fixture
def settings_overrides(fake, fake_twilio, extra_settings) -> dict[str, Any]:
    return routed_settings(fake, fake_twilio, **extra_settings)


def queue(runtime: Runtime, phone: str = CN, template: str = "help", **context: Any) -> int:
    with runtime.db.transaction() as session:
        settings = runtime.settings
        return queue_sms(session, settings, phone=phone, template=template, kind=template, **context).id


def fresh(session, message_id: int) -> Message:
    session.expire_all()
    message = session.get(Message, message_id)
    assert message is not None
    return message


def at_carrier(fake: FakeAliyunSms, phone: str) -> int:
    return sum(sms.phone == phone.removeprefix("+86") for sms in fake.sent)


def at_twilio(fake_twilio: FakeTwilioApi, phone: str) -> int:
    return sum(message["to"] == phone for message in fake_twilio.messages)


def carrier_lookups(fake: FakeAliyunSms) -> list[str]:
    return [r["query"]["PhoneNumber"] for r in fake.requests if r["action"] == "QuerySendDetails"]


def make_carrier_fail(runtime: Runtime) -> None:
    """Two failed attempts in the window (SMS_FAILOVER_MIN_ATTEMPTS): the carrier is failing."""
    health = ProviderHealth(runtime.redis, runtime.settings)
    health.record("aliyun", False, NOON)
    health.record("aliyun", False, NOON)
    assert health.check("aliyun", NOON) is State.DOWN


# -- routing by destination ------------------------------------------------------------------------


def test_a_mainland_mobile_goes_to_the_carrier_and_any_other_number_to_twilio(
    runtime, session, fake, fake_twilio
) -> None:
    with time_machine.travel(NOON, tick=False):
        domestic, abroad = queue(runtime, CN), queue(runtime, ABROAD)
        run_jobs(runtime)
    home, away = fresh(session, domestic), fresh(session, abroad)
    assert (home.provider, home.status, away.provider, away.status) == (
        "aliyun",
        MessageStatus.SENT,
        "twilio",
        MessageStatus.QUEUED,
    )
    assert (at_carrier(fake, CN), at_twilio(fake_twilio, CN)) == (1, 0)
    assert (at_carrier(fake, ABROAD), at_twilio(fake_twilio, ABROAD)) == (0, 1)
    [taken] = fake_twilio.messages
    assert fresh(session, abroad).provider_sid == taken["sid"]


def test_a_free_text_to_a_mainland_mobile_goes_through_twilio(runtime, session, fake, fake_twilio) -> None:
    """The carrier sends approved templates only: an agent's own words go the way it cannot."""
    with time_machine.travel(NOON, tick=False):
        message_id = queue(runtime, CN, "agent_text", text="请明天早上7点到市场大厅。")
        run_jobs(runtime)
    message = fresh(session, message_id)
    assert (message.provider, message.template_params) == ("twilio", None)
    [taken] = fake_twilio.messages
    assert (taken["to"], taken["body"]) == (CN, message.body)
    assert fake.requests == []


@pytest.mark.parametrize("extra_settings", [{"SMS_ROUTES": "cn=aliyun;*=twilio"}])
def test_a_free_text_with_only_the_carrier_on_its_route_fails_at_once(
    runtime, session, fake, fake_twilio
) -> None:
    with time_machine.travel(NOON, tick=False):
        message_id = queue(runtime, CN, "agent_text", text="请明天早上7点到市场大厅。")
        run_jobs(runtime)
    message = fresh(session, message_id)
    assert (message.status, message.error_code, message.provider) == (
        MessageStatus.FAILED,
        CONTENT_REFUSED,
        "aliyun",
    )
    assert "no carrier template" in message.error_message
    assert fake.requests == [] and fake_twilio.messages == []


@pytest.mark.parametrize(
    "routes",
    ["cn=aliyun,twilio", "cn=aliyun;*=aliyun", "cn=sms77;*=twilio", "cn=twilio,twilio;*=twilio", "x=1"],
)
def test_malformed_routes_are_refused_at_start(routes: str) -> None:
    with pytest.raises(SettingsError, match="SMS_ROUTES"):
        Settings.load({"SMS_ROUTES": routes}, environ={})


def test_routing_needs_both_providers_set_up(fake, fake_twilio) -> None:
    complete = routed_settings(fake, fake_twilio)
    Settings.load(complete, environ={})
    with pytest.raises(SettingsError, match="TWILIO_FROM_NUMBER"):
        Settings.load({**complete, "TWILIO_FROM_NUMBER": ""}, environ={})
    with pytest.raises(SettingsError, match="ALIYUN_ACCESS_KEY_ID"):
        Settings.load({**complete, "ALIYUN_ACCESS_KEY_ID": ""}, environ={})
    # Without the carrier on any route, its settings are not needed.
    Settings.load({**complete, "SMS_ROUTES": "cn=twilio;*=twilio", "ALIYUN_ACCESS_KEY_ID": ""}, environ={})


# -- failover --------------------------------------------------------------------------------------


def test_the_carrier_failing_mid_run_fails_over_to_twilio_and_back_without_a_message_sent_twice(
    runtime, session, fake, fake_twilio
) -> None:
    phones = [f"+861391234{n:04d}" for n in range(12)]
    with time_machine.travel(NOON, tick=False) as traveller:
        ids = [queue(runtime, phone) for phone in phones[:3]]
        run_jobs(runtime)  # the carrier is well: all three through it

        # The carrier fails mid-run: one text it took but whose answer was lost, one it never got,
        # then errors of its own (isp.SYSTEM_ERROR, a 5xx of its own).
        fake.drop_next(create=True)
        fake.drop_next(create=False)
        ids += [queue(runtime, phone) for phone in phones[3:5]]
        run_jobs(runtime)
        fake.fail_next("isp.SYSTEM_ERROR", "系统异常", times=20)
        ids += [queue(runtime, phone) for phone in phones[5:9]]
        run_jobs(runtime)
        for _ in range(6):  # lookups, retries after their backoff
            traveller.shift(timedelta(seconds=RECONCILE_AFTER))
            run_jobs(runtime, with_scheduler=True)

        # After the cool-down, one probe: the carrier is well again, and takes the rest.
        fake.clear_failures()
        traveller.shift(timedelta(seconds=COOLDOWN))
        ids += [queue(runtime, phone) for phone in phones[9:]]
        run_jobs(runtime, with_scheduler=True)

    messages = [fresh(session, message_id) for message_id in ids]
    assert all(m.status in (MessageStatus.SENT, MessageStatus.QUEUED) for m in messages), [
        (m.id, m.status, m.error_message) for m in messages
    ]
    # Every number holds exactly one text, at exactly one of the two.
    assert [at_carrier(fake, p) + at_twilio(fake_twilio, p) for p in phones] == [1] * len(phones)
    providers = [m.provider for m in messages]
    assert providers[:3] == ["aliyun"] * 3
    assert providers[3] == "aliyun"  # taken, answer lost: looked up there and adopted, not resent
    assert at_carrier(fake, phones[3]) == 1 and messages[3].attempts == 1
    assert providers[4] == "twilio"  # never got there: looked up there first, then sent by Twilio
    assert phones[4].removeprefix("+86") in carrier_lookups(fake)
    assert set(providers[5:9]) == {"twilio"}
    assert providers[9:] == ["aliyun"] * 3
    assert ProviderHealth(runtime.redis, runtime.settings).check("aliyun", NOON) is State.UP


def test_an_unanswered_attempt_is_looked_up_at_the_first_provider_before_it_goes_to_the_second(
    runtime, session, fake, fake_twilio
) -> None:
    fake.drop_next(create=False)  # the request never reached the carrier's application
    with time_machine.travel(NOON, tick=False) as traveller:
        message_id = queue(runtime)
        run_jobs(runtime)
        message = fresh(session, message_id)
        assert (message.status, message.provider) == (MessageStatus.SENDING, "aliyun")
        make_carrier_fail(runtime)
        run_jobs(runtime, with_scheduler=True)  # too early to look it up: nothing moves
        assert fake_twilio.messages == [] and carrier_lookups(fake) == []
        traveller.shift(timedelta(seconds=RECONCILE_AFTER))
        run_jobs(runtime, with_scheduler=True)

    message = fresh(session, message_id)
    assert carrier_lookups(fake) == [CN.removeprefix("+86")]
    assert (message.status, message.provider, message.attempts) == (MessageStatus.QUEUED, "twilio", 2)
    assert (at_carrier(fake, CN), at_twilio(fake_twilio, CN)) == (0, 1)


def test_an_unanswered_attempt_the_first_provider_took_is_adopted_even_while_it_is_failing(
    runtime, session, fake, fake_twilio
) -> None:
    fake.drop_next(create=True)
    with time_machine.travel(NOON, tick=False) as traveller:
        message_id = queue(runtime)
        run_jobs(runtime)
        make_carrier_fail(runtime)
        traveller.shift(timedelta(seconds=RECONCILE_AFTER))
        run_jobs(runtime, with_scheduler=True)
    message = fresh(session, message_id)
    assert (message.status, message.provider, message.attempts) == (MessageStatus.SENT, "aliyun", 1)
    assert (at_carrier(fake, CN), at_twilio(fake_twilio, CN)) == (1, 0)


def test_a_failed_probe_keeps_failing_over_for_another_cool_down(runtime, session, fake, fake_twilio) -> None:
    with time_machine.travel(NOON, tick=False) as traveller:
        make_carrier_fail(runtime)
        traveller.shift(timedelta(seconds=COOLDOWN))
        fake.fail_next("isp.SYSTEM_ERROR")
        probe = queue(runtime, "+8613900000001")
        run_jobs(runtime)  # the probe: refused by the carrier's own error; the carrier stays failing
        after = queue(runtime, "+8613900000002")
        run_jobs(runtime)
        traveller.shift(timedelta(seconds=10))
        run_jobs(runtime, with_scheduler=True)  # the probe's retry, after its backoff: to Twilio
    assert fresh(session, after).provider == "twilio"
    assert fresh(session, probe).provider == "twilio"
    assert fresh(session, probe).attempts == 2
    assert at_carrier(fake, "+8613900000001") == 0


def test_delivery_reports_from_either_provider_land(runtime, session, client, fake, fake_twilio) -> None:
    with time_machine.travel(NOON, tick=False):
        domestic = queue(runtime, CN)
        run_jobs(runtime)
        make_carrier_fail(runtime)
        failed_over = queue(runtime, "+8613900000003")
        run_jobs(runtime)
        [sms] = fake.sent
        pushed = push(client, f"/sms/aliyun/{PUSH_SECRET}/report", [report(sms.biz_id, domestic)])
        assert pushed.status_code == 200
        sid = fresh(session, failed_over).provider_sid
        assert sid is not None and sid.startswith("SM")
        path, params = f"/sms/status?m={failed_over}", status_params(sid, "delivered")
        signature = sign(PUBLIC_BASE_URL + path, params)
        response = client.post(path, data=params, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200
    assert fresh(session, domestic).status == MessageStatus.DELIVERED
    assert fresh(session, failed_over).status == MessageStatus.DELIVERED

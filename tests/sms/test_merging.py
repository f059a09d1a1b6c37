"""Offers held back by a per-number frequency limit go as one text listing them (dispatch/sms/merging.py):
each carried message is left `merged` and names the text that carried it, and a reply with any of their
codes works as before. The carrier is its fake; the limit is one text a template a day, to see it bite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from dispatch.models import Message, MessageStatus, OfferStatus
from dispatch.sms.merging import KIND
from tests.factories import commit, offered, today
from tests.fakes.aliyun_api import FakeAliyunSms
from tests.helpers import offers_of, outbound_to, run_jobs
from tests.sms.aliyun_support import PUSH_SECRET, carrier_settings, fake_carrier

UPLINK = f"/sms/aliyun/{PUSH_SECRET}/uplink"


@pytest.fixture
def fake() -> Iterator[FakeAliyunSms]:
    with fake_carrier() as running:
        yield running


@pytest.fixture
def extra_settings() -> dict[str, Any]:
    return {}


@pytest.fixture
def settings_overrides(fake, extra_settings) -> dict[str, Any]:
    values = {"SMS_LIMIT_ALIYUN_PER_TEMPLATE": 1, "QUIET_HOURS": "off", **extra_settings}
    return carrier_settings(fake, **values)


@pytest.fixture(autouse=True)
def _frozen(clock) -> None:
    """Every test here runs on the frozen market clock (tests/conftest.py)."""


def three_offers(runtime, session, market, worker) -> list:
    """Three jobs, days ahead (their offers stay good while held), each offered to `worker` alone."""
    return [
        offered(runtime, session, market, worker, work_date=today() + timedelta(days=4), pay=300 + 10 * n)
        for n in range(3)
    ]


def texts_to(fake: FakeAliyunSms, phone: str) -> list:
    """What the carrier took for `phone` (the employer hears about the jobs too)."""
    return [sms for sms in fake.sent if sms.phone == phone.removeprefix("+86")]


def by_id(session, message_id: int) -> Message:
    session.expire_all()
    message = session.get(Message, message_id)
    assert message is not None
    return message


def test_offers_held_by_the_limit_go_as_one_text_and_each_records_it(
    runtime, session, seeded, market, fake, clock
) -> None:
    worker = market.worker()
    commit(runtime, session)
    jobs = three_offers(runtime, session, market, worker)
    first, second, third = (offers_of(session, job)[0] for job in jobs)
    assert len(texts_to(fake, worker.phone)) == 1  # the first offer took the day's one place for its template
    held = [by_id(session, offer.message_id) for offer in (second, third)]
    assert [(m.status, m.frequency_delays) for m in held] == [(MessageStatus.PENDING, 1)] * 2

    clock.move_to(held[0].send_after)  # the second one's place: a day after the first
    run_jobs(runtime, with_scheduler=True)

    [_, merged] = texts_to(fake, worker.phone)
    assert merged.template_code == "SMS_OFFER_MERGED_ZH_1"
    assert jobs[1].code in merged.content and jobs[2].code in merged.content
    [row] = [m for m in outbound_to(session, worker.phone) if m.kind == KIND]
    assert row.status == MessageStatus.SENT and row.body.endswith(merged.content)
    for offer in (second, third):
        carried = by_id(session, offer.message_id)
        assert (carried.status, carried.merged_into_id) == (MessageStatus.MERGED, row.id)
    assert by_id(session, first.message_id).status == MessageStatus.SENT

    # Nothing else goes when the third one's own place comes.
    clock.shift(timedelta(seconds=5))
    run_jobs(runtime, with_scheduler=True)
    assert len(texts_to(fake, worker.phone)) == 2


def test_a_reply_with_a_merged_offers_code_takes_it(
    runtime, session, seeded, market, fake, clock, client
) -> None:
    worker = market.worker()
    commit(runtime, session)
    jobs = three_offers(runtime, session, market, worker)
    clock.move_to(by_id(session, offers_of(session, jobs[1])[0].message_id).send_after)
    run_jobs(runtime, with_scheduler=True)

    item = {
        "phone_number": worker.phone.removeprefix("+86"),
        "content": f"1 {jobs[2].code}",
        "send_time": "2026-12-02 10:05:00",
        "sign_name": "潞州零工",
        "dest_code": "1234",
        "sequence_id": 5150,
    }
    response = client.post(
        UPLINK,
        data=json.dumps([item], ensure_ascii=False),
        content_type="application/json",
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert response.status_code == 200
    run_jobs(runtime)
    assert offers_of(session, jobs[2])[0].status == OfferStatus.ACCEPTED
    assert offers_of(session, jobs[1])[0].status != OfferStatus.ACCEPTED  # only the one its code named


@pytest.mark.parametrize("extra_settings", [{"SMS_LIMIT_ALIYUN_PER_TEMPLATE": 0}])
def test_without_a_limit_each_offer_is_its_own_text(runtime, session, seeded, market, fake) -> None:
    worker = market.worker()
    commit(runtime, session)
    three_offers(runtime, session, market, worker)
    assert len(texts_to(fake, worker.phone)) == 3
    assert not [m for m in outbound_to(session, worker.phone) if m.status == MessageStatus.MERGED]


def test_an_offer_closed_while_held_is_not_listed(runtime, session, seeded, market, fake, clock) -> None:
    worker = market.worker()
    commit(runtime, session)
    jobs = three_offers(runtime, session, market, worker)
    second, third = (offers_of(session, job)[0] for job in jobs[1:])
    third.status = OfferStatus.CANCELLED  # the job filled meanwhile
    commit(runtime, session)
    clock.move_to(by_id(session, second.message_id).send_after)
    run_jobs(runtime, with_scheduler=True)
    codes = [sms.template_code for sms in texts_to(fake, worker.phone)]
    assert len(codes) == 2 and all(code.startswith("SMS_OFFER_ZH") for code in codes)
    assert by_id(session, second.message_id).status == MessageStatus.SENT

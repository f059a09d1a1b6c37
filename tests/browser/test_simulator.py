"""The phone simulator in a real browser (Chromium): an employer posts a job by keypad, a seeded worker
gets the offer in the chat view and takes it, and the employer's chat shows the confirmation."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from zoneinfo import ZoneInfo

import time_machine
from playwright.sync_api import Page, expect
from sqlalchemy import select

from dispatch.demo import employer_phones, seed_demo
from dispatch.jobs.services import JobRequest, create_job
from dispatch.models import (
    Call,
    CallOutcome,
    Direction,
    Employer,
    Job,
    JobSource,
    Message,
    Offer,
    OfferStatus,
    Trade,
    Worker,
)
from dispatch.phones import display
from tests.browser.conftest import LiveServer
from tests.helpers import run_jobs

EMPLOYER = employer_phones()[0]  # 王记装修, in 太行西街 (town 8)


def press(page: Page, keys: str) -> None:
    """Keys on the simulator's keypad, one click each, as a caller would; then wait for the answer."""
    for key in keys:
        page.locator(f'#keypad .key[data-key="{key}"]').click()
    expect(page.locator("#call")).not_to_have_class(re.compile(r"\bbusy\b"))


def outbound(live_server: LiveServer, phone: str) -> list[Message]:
    with live_server.runtime.db.transaction() as session:
        query = select(Message).where(Message.direction == Direction.OUTBOUND, Message.phone == phone)
        return list(session.scalars(query.order_by(Message.id)))


def test_an_employer_posts_by_keypad_and_a_worker_takes_the_job_by_sms(
    live_server: LiveServer, page: Page
) -> None:
    runtime = live_server.runtime
    with runtime.db.transaction() as session:
        seed_demo(session, runtime.settings)

    # The employer calls from the simulator and posts a job with the keypad.
    page.goto(f"{live_server.url}/sim/")
    page.get_by_role("link", name=display(EMPLOYER)).click()
    expect(page.locator("h1")).to_contain_text(display(EMPLOYER))
    page.get_by_role("button", name="拨打").click()
    expect(page.locator("#call-log")).to_contain_text("招工请按1")
    # post a job, porters (2), 1 person, tomorrow, from 8, 1 day, 300 a day, 太西 (8), the town itself
    for keys in ["1", "2", "1#", "2#", "8#", "1#", "300#", "8#", "#"]:
        press(page, keys)
    expect(page.locator("#recorder")).to_be_visible()
    page.get_by_label("录音：把要说的话写在这里").fill("三楼搬家，没有电梯")
    page.get_by_role("button", name="说完了（按#）").click()
    expect(page.locator("#call-log")).to_contain_text("确认发布请按1")
    press(page, "1")
    expect(page.locator("#call-state")).to_contain_text("通话结束")

    with runtime.db.transaction() as session:
        job = session.scalars(select(Job)).one()
        code, trade, source = job.code, job.trade.code, job.source
    assert (trade, source) == ("porter", JobSource.IVR)
    expect(page.locator("#call-log")).to_contain_text(f"岗位号是{' '.join(code)}")

    # The queue worker matches the job and sends the offers; the employer's chat shows the summary.
    run_jobs(runtime)
    [summary] = outbound(live_server, EMPLOYER)
    expect(page.locator("#sms-log")).to_contain_text(summary.body)

    # A seeded worker with the offer: listed on the chooser, the offer in the chat view.
    with runtime.db.transaction() as session:
        offer = session.scalars(
            select(Offer).where(Offer.status == OfferStatus.SENT).order_by(Offer.id)
        ).first()
        assert offer is not None
        worker_phone, worker_name = offer.worker.phone, offer.worker.name
    [offer_text] = outbound(live_server, worker_phone)
    page.goto(f"{live_server.url}/sim/")
    offered = page.locator("section", has_text="有待回复工作邀请的求职者")
    offered.get_by_role("link", name=display(worker_phone)).click()
    chat = page.locator("#sms-log")
    expect(chat).to_contain_text(offer_text.body)
    assert code in offer_text.body

    # The worker takes it by SMS: `1 <code>`; the confirmation appears without a reload.
    page.get_by_label("短信内容").fill(f"1 {code}")
    page.get_by_role("button", name="发送").click()
    expect(chat.locator(".bubble.mine")).to_contain_text(f"1 {code}")
    confirmation = outbound(live_server, worker_phone)[-1]
    assert confirmation.kind.startswith("placement") and code in confirmation.body
    expect(chat).to_contain_text(confirmation.body)
    with runtime.db.transaction() as session:
        worker = session.scalars(select(Worker).where(Worker.phone == worker_phone)).one()
        taken = session.scalars(select(Offer).where(Offer.worker_id == worker.id)).one()
        assert taken.status == OfferStatus.ACCEPTED

    # The employer hears who is coming once the summary window has passed (the scheduler's job).
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=61), tick=True):
        run_jobs(runtime, with_scheduler=True)
    told = outbound(live_server, EMPLOYER)[-1]
    assert told.kind == "placement.employer" and worker_name in told.body
    page.goto(f"{live_server.url}/sim/phone/{EMPLOYER}")
    expect(page.locator("#sms-log")).to_contain_text(told.body)
    expect(page.locator("#sms-log")).to_contain_text("已确认1/1人")


def test_leaving_the_page_mid_call_hangs_up(live_server: LiveServer, page: Page) -> None:
    page.goto(f"{live_server.url}/sim/phone/+8613912345678")
    expect(page.locator("#sms-log")).to_contain_text("还没有短信")
    page.get_by_role("button", name="拨打").click()
    press(page, "1")
    press(page, "4")  # part-way through a job request
    page.goto(f"{live_server.url}/sim/")

    def ended() -> Call | None:
        with live_server.runtime.db.transaction() as session:
            return session.scalars(select(Call).where(Call.ended_at.is_not(None))).first()

    deadline = time.monotonic() + 10
    while ended() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    call = ended()
    assert call is not None and call.phone == "+8613912345678" and call.outcome == CallOutcome.CALL_BACK


def test_a_worker_calls_and_takes_an_offer_by_keypad(live_server: LiveServer, page: Page) -> None:
    """A seeded worker with an offer waiting phones the market from the simulator: the worker line reads
    the offer, 1 takes it, and the confirmation arrives in the phone's chat."""
    runtime = live_server.runtime
    with runtime.db.transaction() as session:
        seed_demo(session, runtime.settings)
        employer = session.scalars(select(Employer).where(Employer.phone == EMPLOYER)).one()
        trade = session.scalars(select(Trade).where(Trade.code == "porter")).one()
        tomorrow = datetime.now(UTC).astimezone(
            ZoneInfo(runtime.settings.MARKET_TIMEZONE)
        ).date() + timedelta(1)
        request = JobRequest(trade.id, 1, tomorrow, dt_time(8), 1, 300, employer.site_id or 0)
        create_job(session, employer, request, JobSource.AGENT, settings=runtime.settings)
    run_jobs(runtime)  # the first wave: offers by SMS
    with runtime.db.transaction() as session:
        offer = session.scalars(
            select(Offer).where(Offer.status == OfferStatus.SENT).order_by(Offer.id)
        ).first()
        assert offer is not None
        worker_phone, code, offer_id = offer.worker.phone, offer.job.code or "", offer.id

    page.goto(f"{live_server.url}/sim/phone/{worker_phone}")
    page.get_by_role("button", name="拨打").click()
    expect(page.locator("#call-log")).to_contain_text("听给您的活请按1")
    press(page, "1")
    expect(page.locator("#call-log")).to_contain_text(f"岗位号{' '.join(code)}")
    expect(page.locator("#call-log")).to_contain_text("接这个活请按1")
    press(page, "1")
    expect(page.locator("#call-log")).to_contain_text("这个活是您的了")

    with runtime.db.transaction() as session:
        taken = session.get(Offer, offer_id)
        assert taken is not None and taken.status == OfferStatus.ACCEPTED
    [confirmation] = [text for text in outbound(live_server, worker_phone) if text.kind == "placement.worker"]
    assert code in confirmation.body
    expect(page.locator("#sms-log")).to_contain_text(confirmation.body)

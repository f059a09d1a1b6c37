"""The agent console in a real browser (Debian's Chromium): the queue, phone intake, counter registration.

The app runs on a live HTTP server with committed data (see conftest.py); webhooks are posted to it
over HTTP, signed as Twilio signs them; RQ jobs run where the real worker would have run them.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.console.agents import create_agent
from dispatch.models import (
    Direction,
    Job,
    JobSource,
    Message,
    Offer,
    RegisteredVia,
    Site,
    Ticket,
    TicketKind,
    TicketOutcome,
    TicketStatus,
    Trade,
    Worker,
    WorkerStatus,
    WorkerTrade,
)
from dispatch.settings import PROJECT_ROOT
from tests.browser.conftest import LiveServer
from tests.browser.helpers import sign_in, text_in
from tests.console.helpers import PASSWORD
from tests.helpers import run_jobs

pytestmark = pytest.mark.committed
SCREENSHOT = PROJECT_ROOT / "docs" / "console-queue.png"


def signed_in(live_server: LiveServer, page: Page, username: str = "browser1", name: str = "李娜") -> None:
    """A district agent, signed in through the form, looking at the queue."""
    with live_server.runtime.db.transaction() as session:
        create_agent(session, username, PASSWORD, "agent", "LZ", display_name=name)
    sign_in(page, live_server.url, username)
    expect(page.get_by_role("heading", name="待办队列")).to_be_visible()


def id_by_code(live_server: LiveServer, model: type, code: str) -> int:
    with live_server.runtime.db.transaction() as session:
        return session.scalar(select(model.id).where(model.code == code))


def test_a_texted_ticket_appears_without_reload_and_is_claimed_and_resolved(
    live_server: LiveServer, page: Page
) -> None:
    signed_in(live_server, page)
    rows = page.locator("#queue-rows")
    expect(rows).not_to_contain_text("asdf qwer")
    # Survives only as long as this document does: a reload or navigation would drop it.
    page.evaluate("window.stillTheSamePage = true")

    text_in(live_server.url, "asdf qwer", sender="+8613911112222")

    row = rows.locator("tr", has_text="asdf qwer")
    expect(row).to_be_visible()  # brought in by the page's htmx polling
    expect(row).to_contain_text("看不懂的短信")
    expect(row).to_contain_text("139 1111 2222")  # shown in national format
    assert page.evaluate("window.stillTheSamePage") is True
    ticket_id = int(row.get_attribute("data-ticket") or 0)

    row.get_by_role("button", name="认领").click()
    expect(page).to_have_url(f"{live_server.url}/console/tickets/{ticket_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("处理中")

    resolve = page.locator("form.resolve")
    resolve.get_by_label("结果").select_option(label="无需处理")
    resolve.get_by_label("备注").fill("乱码，已核实无需回复")
    resolve.get_by_role("button", name="办结").click()

    expect(page).to_have_url(f"{live_server.url}/console/tickets/")
    expect(page.get_by_role("status")).to_contain_text(f"待办 #{ticket_id} 已办结")
    expect(page.locator(f"#ticket-{ticket_id}")).to_have_count(0)
    with live_server.runtime.db.transaction() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        assert (ticket.status, ticket.outcome) == (TicketStatus.RESOLVED, TicketOutcome.NOT_NEEDED)
        assert ticket.resolution == "乱码，已核实无需回复"
        assert ticket.claimed_by is not None and ticket.claimed_by.username == "browser1"


def test_a_job_taken_by_phone_is_matched_and_its_offers_show(live_server: LiveServer, page: Page) -> None:
    trade_id = id_by_code(live_server, Trade, "plumber_electrician")
    site_id = id_by_code(live_server, Site, "LZ-TX")
    names = ["李师傅", "赵师傅", "钱师傅"]
    with live_server.runtime.db.transaction() as session:
        for number, name in enumerate(names, start=1):
            worker = Worker(
                phone=f"+861370000100{number}",
                name=name,
                home_site_id=site_id,
                min_daily_pay=200,
                status=WorkerStatus.ACTIVE,
                consent_at=utcnow(),
                registered_via=RegisteredVia.COUNTER,
            )
            worker.trades = [WorkerTrade(trade_id=trade_id, years_experience=5)]
            session.add(worker)
    signed_in(live_server, page)

    page.get_by_role("link", name="电话登记用工").click()
    expect(page.get_by_role("heading", name="电话登记用工")).to_be_visible()
    # htmx (a deferred script) listens for the change once the page has loaded: a number typed before
    # is never looked up (seen in CI under load).
    page.wait_for_load_state("load")
    phone = page.get_by_label("手机号")
    phone.fill("13912345678")
    phone.press("Tab")  # leaving the field looks the number up (htmx, on change)
    expect(page.locator("#employer-card")).to_contain_text("新用工主体")
    page.get_by_label("用工主体名称").fill("太行装修队")
    page.get_by_label("工种").select_option(str(trade_id))
    page.get_by_label("人数").fill("2")
    page.get_by_label("明天").check()
    page.get_by_label("上工时间").select_option("08:00")
    page.get_by_label("工作天数").fill("2")
    page.get_by_label("日薪（元）").fill("300")
    page.get_by_label("工作地点").select_option(str(site_id))
    page.get_by_label("详细地址").fill("太行西街88号")
    page.get_by_role("button", name="发布招工").click()

    expect(page).to_have_url(re.compile(r"/console/jobs/\d+$"))
    with live_server.runtime.db.transaction() as session:
        job = session.scalars(select(Job).order_by(Job.id.desc())).first()
        assert job is not None
        assert (job.source, job.headcount, job.daily_pay, job.days) == (JobSource.AGENT, 2, 300, 2)
        job_id, code = job.id, job.code
    expect(page).to_have_url(f"{live_server.url}/console/jobs/{job_id}")
    expect(page.get_by_role("status")).to_contain_text(f"岗位{code}已发布")

    run_jobs(live_server.runtime)  # the matching job the intake queued, and the offer SMS it sends

    page.goto(f"{live_server.url}/console/jobs/{job_id}")
    offers = page.locator("table.offers")
    expect(page.locator("#wave-1")).to_be_visible()
    for name in names:
        expect(offers.locator("tr", has_text=name)).to_be_visible()
    expect(offers.locator(".explain").first).to_contain_text("=")  # each candidate's score explained
    with live_server.runtime.db.transaction() as session:
        offered = session.scalars(select(Worker.name).join(Offer).where(Offer.job_id == job_id))
        assert sorted(offered) == sorted(names)


def test_a_worker_registered_at_the_counter_is_sent_the_consent_sms(
    live_server: LiveServer, page: Page
) -> None:
    trade_id = id_by_code(live_server, Trade, "cleaner")
    site_id = id_by_code(live_server, Site, "LZ-TX")
    signed_in(live_server, page)

    page.get_by_role("link", name="窗口登记求职").click()
    expect(page.get_by_role("heading", name="窗口登记求职")).to_be_visible()
    page.get_by_label("姓名").fill("周桂兰")
    page.get_by_label("手机号").fill("13800001111")
    page.get_by_label("工种 1").select_option(str(trade_id))
    page.get_by_label("工作年限 1").fill("6")
    page.get_by_label("居住地").select_option(str(site_id))
    page.get_by_label("最低日薪（元）").fill("180")
    page.get_by_role("button", name="登记", exact=True).click()

    expect(page.get_by_role("status")).to_contain_text("周桂兰已登记，确认短信已发出")
    with live_server.runtime.db.transaction() as session:
        worker = session.scalar(select(Worker).where(Worker.phone == "+8613800001111"))
        assert worker is not None
        assert (worker.name, worker.status, worker.consent_at) == ("周桂兰", WorkerStatus.PENDING, None)
        sms = session.scalars(
            select(Message).where(Message.phone == worker.phone, Message.direction == Direction.OUTBOUND)
        ).all()
        assert [m.kind for m in sms] == ["registration.counter_confirm"]
        assert "回复1确认" in sms[0].body

    page.get_by_role("link", name="查看求职者").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("周桂兰")
    expect(page.get_by_role("heading", level=1)).to_contain_text("待确认")
    outbound = page.locator("#timeline li[data-direction=outbound]")
    expect(outbound).to_have_count(1)
    expect(outbound).to_contain_text("回复1确认")


def test_the_queue_with_tickets_of_each_kind_is_screenshotted(live_server: LiveServer, page: Page) -> None:
    """Also the picture of the queue in docs/ (1280x800)."""
    now = utcnow()
    with live_server.runtime.db.transaction() as session:
        sites = {site.code: site.id for site in session.scalars(select(Site))}
        session.add(
            Worker(
                phone="+8613911113333",
                name="张建国",
                home_site_id=sites["LZ-TX"],
                min_daily_pay=200,
                status=WorkerStatus.ACTIVE,
                consent_at=now,
                registered_via=RegisteredVia.SMS,
            )
        )
        colleague = create_agent(session, "wangli", PASSWORD, "agent", "LZ", display_name="王丽")
    text_in(live_server.url, "明天有没有活 我会开叉车", sender="+8613911113333")
    with live_server.runtime.db.transaction() as session:
        session.add_all(
            [
                Ticket(
                    kind=TicketKind.UNFILLED_JOB,
                    priority=1,
                    phone="+8613912345678",
                    site_id=sites["LZ-TX"],
                    summary="岗位 104 水电工 2人 明天：三轮邀请后仍缺1人",
                    created_at=now - timedelta(minutes=47),
                ),
                Ticket(
                    kind=TicketKind.VOICEMAIL,
                    priority=2,
                    phone="+8613700002222",
                    site_id=sites["LZ-DJ"],
                    summary="下班后来电留言（52秒）",
                    details={"voicemail_recording_url": "https://example.invalid/rec/1.mp3"},
                    created_at=now - timedelta(hours=2, minutes=5),
                ),
                Ticket(
                    kind=TicketKind.CALL_BACK,
                    priority=2,
                    phone="+8613600003333",
                    site_id=sites["LZ-TX"],
                    summary="发布用工中途挂断：已选 搬运 3人",
                    created_at=now - timedelta(minutes=12),
                    status=TicketStatus.CLAIMED,
                    claimed_by_id=colleague.id,
                    claimed_at=now - timedelta(minutes=3),
                ),
                Ticket(
                    kind=TicketKind.RECORDED_NAME,
                    priority=4,
                    phone="+8613500004444",
                    site_id=sites["LZ-TX-WYM"],
                    summary="电话登记求职：请听录音录入姓名",
                    created_at=now - timedelta(days=1, hours=3),
                ),
            ]
        )
    signed_in(live_server, page)
    rows = page.locator("#queue-rows tr[data-ticket]")
    expect(rows).to_have_count(5)
    for kind in ("岗位招不满", "留言", "未完成来电·回拨", "录音姓名待录入", "看不懂的短信"):
        expect(page.locator("#queue-rows")).to_contain_text(kind)
    expect(rows.first).to_contain_text("岗位招不满")  # priority 1 first ...
    expect(rows.last).to_contain_text("王丽")  # ... and the one being worked last
    expect(rows.filter(has_text="看不懂的短信")).to_contain_text("张建国")

    page.set_viewport_size({"width": 1280, "height": 800})
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000
    assert Path(SCREENSHOT).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

"""After the job in a real browser (Debian's Chromium): a worker's `3` becoming a wage case a supervisor
mediates and recovers, an agent's follow-up call recorded on the ticket, and the week's reports.

The app runs on a live HTTP server with committed data (see conftest.py); webhooks are posted to it
over HTTP, signed as Twilio signs them; RQ jobs (the periodic follow-up task, the texts) run where the
real worker would have run them.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.console.agents import create_agent
from dispatch.console.reports.periods import Week, week_of
from dispatch.jobs.services import JobRequest, create_job
from dispatch.models import (
    AnsweredVia,
    AuditEvent,
    Contact,
    Employer,
    EmployerStatus,
    EnrolmentStatus,
    FollowUp,
    FollowUpChannel,
    FollowUpParty,
    FollowUpStatus,
    InsuranceEnrolment,
    Job,
    JobSource,
    JobStatus,
    Offer,
    OfferStatus,
    PaidAnswer,
    Site,
    Ticket,
    TicketKind,
    TicketOutcome,
    TicketStatus,
    WageCase,
    WageCaseStatus,
    Worker,
)
from dispatch.settings import PROJECT_ROOT
from tests.browser.conftest import LiveServer
from tests.browser.helpers import sign_in, text_in
from tests.console.helpers import PASSWORD
from tests.console.reports.helpers import KEYS
from tests.factories import Market
from tests.followup.conftest import run_follow_ups
from tests.helpers import outbound_to, run_jobs

pytestmark = pytest.mark.committed
SCREENSHOT = PROJECT_ROOT / "docs" / "reports.png"
SHANGHAI = ZoneInfo("Asia/Shanghai")
PAY = 300


def signed_in(live_server: LiveServer, page: Page, username: str, role: str, name: str) -> None:
    """A district agent or supervisor, signed in through the form, looking at the queue."""
    with live_server.runtime.db.transaction() as session:
        create_agent(session, username, PASSWORD, role, "LZ", display_name=name)
    sign_in(page, live_server.url, username)
    expect(page.get_by_role("heading", name="待办队列")).to_be_visible()


def local_today() -> date:
    return utcnow().astimezone(SHANGHAI).date()


def ended_placement(session: Session, market: Market, employer: Employer, worker: Worker) -> Job:
    """A one-day job worked yesterday by `worker`, who held the place (accepted, job filled)."""
    yesterday = local_today() - timedelta(days=1)
    request = JobRequest(
        trade_id=market.trade("plumber_electrician").id,
        headcount=1,
        work_date=yesterday,
        start_time=time(8, 0),
        days=1,
        daily_pay=PAY,
        site_id=market.site("LZ-TX").id,
        address="太行西街88号",
    )
    # Filled already: nothing to match (a status given here starts no matching).
    job = create_job(session, employer, request, JobSource.AGENT, status=JobStatus.FILLED)
    booked = datetime.combine(yesterday - timedelta(days=1), time(10, 0), tzinfo=SHANGHAI)
    job.created_at, job.filled, job.filled_at = booked, 1, booked + timedelta(minutes=20)
    session.add(
        Offer(
            job_id=job.id,
            worker_id=worker.id,
            wave=1,
            status=OfferStatus.ACCEPTED,
            sent_at=booked + timedelta(minutes=5),
            responded_at=booked + timedelta(minutes=20),
        )
    )
    session.flush()
    return job


def ask_the_ended(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The periodic follow-up task in a real RQ worker, as the scheduler enqueues it. FOLLOW_UP_TIME at
    midnight makes yesterday's placements due whatever the hour the test runs (at the default 09:00 they
    would wait until nine: the live server's thread rules out moving the clock)."""
    runtime = live_server.runtime
    monkeypatch.setattr(runtime, "settings", dataclasses.replace(runtime.settings, FOLLOW_UP_TIME="00:00"))
    assert run_follow_ups(runtime)["asked"] == 1


def form_with(page: Page, button: str) -> Locator:
    """The form a button submits (a case page has several, each with its own 备注)."""
    return page.locator("form").filter(has=page.get_by_role("button", name=button, exact=True))


def test_not_paid_by_sms_becomes_a_case_mediated_and_recovered_in_the_console(
    live_server: LiveServer, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    with live_server.runtime.db.transaction() as session:
        market = Market(session)
        employer = market.employer(name="王老板")
        worker = market.worker(name="张三")
        job = ended_placement(session, market, employer, worker)
        ids = {"employer": employer.id, "worker": worker.id, "job": job.id}
        code, worker_phone = job.code, worker.phone
    ask_the_ended(live_server, monkeypatch)
    with live_server.runtime.db.transaction() as session:
        asked = session.scalar(
            select(FollowUp).where(FollowUp.job_id == ids["job"], FollowUp.party == FollowUpParty.WORKER)
        )
        assert asked is not None and asked.status == FollowUpStatus.ASKED
        asked_id = asked.id
        question = outbound_to(session, worker_phone)[-1]
        assert question.kind == "followup.worker" and f"岗位{code}" in question.body

    signed_in(live_server, page, "chen", "supervisor", "陈主管")
    rows = page.locator("#queue-rows")
    expect(rows).not_to_contain_text("欠薪纠纷")
    page.evaluate("window.stillTheSamePage = true")

    text_in(live_server.url, "3 4", sender=worker_phone)  # not paid; the employer gets 4 stars

    row = rows.locator("tr", has_text="欠薪纠纷")
    expect(row).to_be_visible()  # brought in by the page's htmx polling
    expect(row).to_contain_text("张三")
    expect(row).to_contain_text("王老板")
    expect(row).to_contain_text("待认领")
    assert page.evaluate("window.stillTheSamePage") is True
    ticket_id = int(row.get_attribute("data-ticket") or 0)
    with live_server.runtime.db.transaction() as session:
        case = session.scalars(select(WageCase)).one()
        case_id, owed = case.id, case.amount_owed
        assert (case.status, case.paid, case.ticket_id, owed) == (
            WageCaseStatus.OPEN,
            PaidAnswer.NONE,
            ticket_id,
            PAY,
        )
        assert session.get_one(Employer, ids["employer"]).status == EmployerStatus.HELD

    row.locator(f"a[href$='/console/tickets/{ticket_id}']").click()  # the ticket's summary
    expect(page).to_have_url(f"{live_server.url}/console/tickets/{ticket_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("欠薪纠纷")
    panel = page.locator("#wage-case-panel")
    expect(panel.get_by_role("heading", name=f"欠薪案件 #{case_id}")).to_be_visible()
    expect(panel).to_contain_text("没有付")
    expect(panel).to_contain_text("日薪300元 × 1天")
    panel.get_by_role("link", name="打开案件页面").click()

    expect(page).to_have_url(f"{live_server.url}/console/cases/{case_id}")
    status = page.locator("#case-status")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"欠薪案件 #{case_id}")
    expect(status).to_have_text("待处理")
    expect(page.locator("#case-owed")).to_contain_text("300元")
    expect(page.get_by_text("岗位待审核")).to_be_visible()  # the employer's new jobs wait meanwhile
    expect(page.locator("table.messages")).to_contain_text("3 4")  # the answer, among the evidence

    mediate = form_with(page, "开始调解")
    mediate.get_by_label("备注").fill("已电话联系王老板，答应周五前结清")
    mediate.get_by_role("button", name="开始调解").click()
    expect(page.get_by_role("status")).to_contain_text("案件已转为调解中。")
    expect(status).to_have_text("调解中")
    expect(page.get_by_role("button", name="开始调解")).to_have_count(0)

    recovered = form_with(page, "已全部追回，结案")
    expect(recovered).to_contain_text("追回金额（元）: 300元")
    recovered.get_by_label("备注").fill("王老板已当面付清")
    recovered.get_by_role("button", name="已全部追回，结案").click()
    expect(page.get_by_role("status")).to_contain_text("案件已结案：全部追回。已短信通知零工。")
    expect(status).to_have_text("已追回")
    expect(page.locator("#case-recovered")).to_have_text("300元")
    expect(page.get_by_text("正常", exact=True)).to_be_visible()  # the employer, freed
    expect(page.get_by_role("heading", name="调解进展")).to_have_count(0)  # no steps after closing
    trail = page.locator("table.trail")
    expect(trail.locator("tr[data-action='wage_case.mediate']")).to_contain_text("已电话联系王老板")
    expect(trail.locator("tr[data-action='wage_case.recovered']")).to_contain_text("陈主管")

    run_jobs(live_server.runtime)  # the texts the closing queued
    with live_server.runtime.db.transaction() as session:
        case = session.get_one(WageCase, case_id)
        assert (case.status, case.amount_recovered, case.notes) == (
            WageCaseStatus.RECOVERED,
            owed,
            "王老板已当面付清",
        )
        boss = session.get_one(Employer, ids["employer"])
        assert (boss.status, boss.rating_sum, boss.rating_count) == (EmployerStatus.ACTIVE, 4, 1)
        ticket = session.get_one(Ticket, ticket_id)
        assert (ticket.kind, ticket.status) == (TicketKind.WAGE_CASE, TicketStatus.RESOLVED)
        assert ticket.resolved_by is not None and ticket.resolved_by.username == "chen"
        follow_up = session.get_one(FollowUp, asked_id)
        assert (follow_up.status, follow_up.paid, follow_up.stars, follow_up.answered_via) == (
            FollowUpStatus.ANSWERED,
            PaidAnswer.NONE,
            4,
            AnsweredVia.SMS,
        )
        actions = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.target_type == "wage_case", AuditEvent.target_id == case_id)
            .order_by(AuditEvent.id)
        ).all()
        assert actions == ["wage_case.open", "wage_case.mediate", "wage_case.recovered"]
        closing = outbound_to(session, worker_phone)[-1]
        assert closing.kind == "wage_case.recovered" and "已为您追回工钱300元" in closing.body


def test_an_agent_records_a_no_show_on_the_follow_up_ticket(
    live_server: LiveServer, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    with live_server.runtime.db.transaction() as session:
        market = Market(session)
        employer = market.employer(name="王老板")
        worker = market.worker(name="张三")
        ended_placement(session, market, employer, worker)
        # The employer called from a landline: texts to it fail, so the follow-up goes to an agent.
        session.add(Contact(phone=employer.phone, undeliverable_at=utcnow(), undeliverable_error=30006))
        worker_id = worker.id
    ask_the_ended(live_server, monkeypatch)
    with live_server.runtime.db.transaction() as session:
        follow_up = session.scalars(select(FollowUp).where(FollowUp.party == FollowUpParty.EMPLOYER)).one()
        assert follow_up.status == FollowUpStatus.AGENT and follow_up.ticket_id is not None
        follow_up_id, ticket_id = follow_up.id, follow_up.ticket_id
        assert session.get_one(Ticket, ticket_id).kind == TicketKind.FOLLOW_UP

    signed_in(live_server, page, "lina", "agent", "李娜")
    row = page.locator(f"#ticket-{ticket_id}")
    expect(row).to_contain_text("回访无应答·电话回访")
    row.get_by_role("button", name="认领").click()

    expect(page).to_have_url(f"{live_server.url}/console/tickets/{ticket_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("处理中")
    panel = page.locator("#follow-up-panel")
    expect(panel.get_by_role("heading", name="回访雇主：王老板")).to_be_visible()
    expect(panel).to_contain_text("无法发短信（已退订或号码收不到短信），请直接打电话回访。")
    expect(panel).to_contain_text("300元")
    answer = panel.locator("form.follow-up-answer")
    stars = answer.get_by_role("group", name="工人张三干得怎样？打 1-5 分，没来选 0")
    expect(stars.get_by_role("radio")).to_have_count(6)  # 0 (did not come) to 5
    stars.get_by_label("0 · 没来").check()
    answer.get_by_label("备注").fill("王老板说张三当天没来")
    answer.get_by_role("button", name="记下答复，关闭工单").click()

    expect(page).to_have_url(f"{live_server.url}/console/tickets/")
    expect(page.get_by_role("status")).to_contain_text(f"回访答复已记下，工单 #{ticket_id} 已关闭。")
    expect(page.locator(f"#ticket-{ticket_id}")).to_have_count(0)

    page.goto(f"{live_server.url}/console/tickets/{ticket_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("已办结")
    expect(page.get_by_text("已电话联系")).to_be_visible()
    expect(page.locator("#follow-up-panel")).to_have_count(0)  # nothing more to record
    page.get_by_role("link", name="张三").click()
    expect(page.get_by_text("上工0次，爽约1次，接单后取消0次")).to_be_visible()

    with live_server.runtime.db.transaction() as session:
        follow_up = session.get_one(FollowUp, follow_up_id)
        assert (follow_up.status, follow_up.stars, follow_up.answered_via) == (
            FollowUpStatus.ANSWERED,
            0,
            AnsweredVia.AGENT,
        )
        ticket = session.get_one(Ticket, ticket_id)
        assert (ticket.status, ticket.outcome) == (TicketStatus.RESOLVED, TicketOutcome.CALLED)
        assert ticket.claimed_by is not None and ticket.claimed_by.username == "lina"
        no_show = session.get_one(Worker, worker_id)
        assert (no_show.no_shows, no_show.rating_count, no_show.placements_worked) == (1, 0, 0)
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "follow_up.answer")).one()
        assert (audit.target_id, audit.note) == (follow_up_id, "王老板说张三当天没来")
        assert (audit.details["party"], audit.details["stars"]) == ("employer", 0)


# -- reports -------------------------------------------------------------------------------------------


@dataclasses.dataclass
class WeekBuilder:
    """Rows of the current ISO week (market time), at minutes after `anchor`, a moment in the week."""

    session: Session
    market: Market
    anchor: datetime

    def at(self, minutes: int) -> datetime:
        return self.anchor + timedelta(minutes=minutes)

    def job(self, site: str, pay: int, headcount: int, filled: int, posted: int, filled_after: int | None):
        request = JobRequest(
            trade_id=self.market.trade("plumber_electrician").id,
            headcount=headcount,
            work_date=local_today(),
            start_time=time(8, 0),
            days=1,
            daily_pay=pay,
            site_id=self.market.site(site).id,
        )
        employer = self.market.employer(name=f"{site}老板", site=site)
        job = create_job(self.session, employer, request, JobSource.AGENT, status=JobStatus.FILLED)
        job.created_at, job.filled = self.at(posted), filled
        job.filled_at = self.at(posted + filled_after) if filled_after is not None else None
        job.status = JobStatus.FILLED if filled == headcount else JobStatus.OPEN
        self.session.flush()
        return job

    def placement(self, job: Job, name: str) -> Offer:
        worker = self.market.worker(name=name, site=job.site.code)
        offer = Offer(
            job_id=job.id, worker_id=worker.id, status=OfferStatus.ACCEPTED, created_at=job.created_at
        )
        self.session.add(offer)
        self.session.flush()
        return offer

    def follow_up(
        self,
        offer: Offer,
        party: FollowUpParty,
        asked: int,
        stars: int | None,
        paid: PaidAnswer | None = None,
    ) -> FollowUp:
        answered = stars is not None
        follow_up = FollowUp(
            offer_id=offer.id,
            job_id=offer.job_id,
            worker_id=offer.worker_id,
            employer_id=offer.job.employer_id,
            party=party,
            channel=FollowUpChannel.SMS,
            status=FollowUpStatus.ANSWERED if answered else FollowUpStatus.ASKED,
            paid=paid,
            stars=stars,
            answered_via=AnsweredVia.SMS if answered else None,
            asked_at=self.at(asked),
            answered_at=self.at(asked + 30) if answered else None,
        )
        self.session.add(follow_up)
        self.session.flush()
        return follow_up


def report_week(live_server: LiveServer) -> tuple[Week, datetime]:
    """This week, and a moment in it before now (three hours back, or the week's first minute)."""
    now = utcnow()
    week = week_of(now, ZoneInfo(live_server.runtime.settings.MARKET_TIMEZONE))
    return week, max(week.start, now - timedelta(hours=3)) + timedelta(minutes=1)


def bar_share(chart: Locator, label: str) -> float:
    """A drawn bar's width as a share of its track's."""
    row = chart.locator("tr", has=chart.page.get_by_role("rowheader", name=label, exact=True))
    bar, track = row.locator(".bar").bounding_box(), row.locator(".track").bounding_box()
    assert bar is not None and track is not None and track["width"] > 0
    return bar["width"] / track["width"]


def test_a_supervisor_reads_the_weeks_figures_charts_and_csv(live_server: LiveServer, page: Page) -> None:
    week, anchor = report_week(live_server)
    with live_server.runtime.db.transaction() as session:
        market = Market(session)
        b = WeekBuilder(session, market, anchor)
        # Taixi: two places filled in 1 h 30, one job still open; three follow-ups, two answered;
        # one insured worker-day.
        taixi = b.job("LZ-TX", PAY, headcount=2, filled=2, posted=0, filled_after=90)
        b.job("LZ-TX", PAY, headcount=1, filled=0, posted=5, filled_after=None)
        zhang, li = b.placement(taixi, "张三"), b.placement(taixi, "李四")
        b.follow_up(zhang, FollowUpParty.WORKER, asked=100, stars=4, paid=PaidAnswer.FULL)
        b.follow_up(zhang, FollowUpParty.EMPLOYER, asked=100, stars=5)
        b.follow_up(li, FollowUpParty.WORKER, asked=100, stars=None)
        session.add(
            InsuranceEnrolment(
                reference=f"LZ{zhang.id:06d}",
                offer_id=zhang.id,
                worker_id=zhang.worker_id,
                job_id=taixi.id,
                trade_id=taixi.trade_id,
                site_id=taixi.site_id,
                work_date=local_today(),
                status=EnrolmentStatus.ENROLLED,
                enrolled_at=b.at(1),
            )
        )
        # Dongjie: one place filled in 30 minutes; its worker was not paid (2 stars), and the 350 yuan
        # were recovered within the week.
        dongjie = b.job("LZ-DJ", 350, headcount=1, filled=1, posted=10, filled_after=30)
        wang = b.placement(dongjie, "王五")
        unpaid = b.follow_up(wang, FollowUpParty.WORKER, asked=60, stars=2, paid=PaidAnswer.NONE)
        session.add(
            WageCase(
                follow_up_id=unpaid.id,
                offer_id=wang.id,
                job_id=dongjie.id,
                worker_id=wang.worker_id,
                employer_id=dongjie.employer_id,
                site_id=dongjie.site_id,
                status=WageCaseStatus.RECOVERED,
                paid=PaidAnswer.NONE,
                daily_pay=350,
                days=1,
                amount_owed=350,
                amount_recovered=350,
                opened_at=b.at(90),
                closed_at=b.at(150),
            )
        )
        names = {site.code: site for site in session.scalars(select(Site))}
        name_zh = {code: names[code].name_zh for code in ("LZ-TX", "LZ-DJ")}
        name_en = {code: names[code].name_en for code in ("LZ-TX", "LZ-DJ")}

    signed_in(live_server, page, "chen", "supervisor", "陈主管")
    page.get_by_role("link", name="报表", exact=True).click()
    expect(page.get_by_role("heading", name="周报表")).to_be_visible()
    table = page.locator(f"[id='{week.label}'] + .report-scroll table.report")
    expect(table.locator("tr.site-row")).to_have_count(2)  # sites with nothing this week are left out

    def cells(name: str) -> Locator:
        return table.locator("tr", has=page.get_by_role("cell", name=name, exact=True)).locator("td")

    expect(cells(name_zh["LZ-TX"])).to_have_text(
        [
            name_zh["LZ-TX"],
            *("2", "3", "2", "67%", "1小时30分钟", "1小时30分钟"),  # jobs
            *("3", "2", "67%", "5.0", "0", "4.0"),  # follow-ups: asked, answered, rate, ratings
            *("0", "0元", "0", "0元"),  # wage cases
            "1",  # insured worker-days
        ]
    )
    expect(cells(name_zh["LZ-DJ"])).to_have_text(
        [
            name_zh["LZ-DJ"],
            *("1", "1", "1", "100%", "30分钟", "30分钟"),
            *("1", "1", "100%", "—", "0", "2.0"),  # nobody rated the worker
            *("1", "350元", "1", "350元"),
            "0",
        ]
    )
    # The week's total: its rates from the summed counts; the median and p90 of its jobs' fill times.
    expect(cells("合计")).to_have_text(
        [
            "合计",
            *("3", "4", "3", "75%", "1小时0分钟", "1小时30分钟"),
            *("4", "3", "75%", "5.0", "0", "3.0"),
            *("1", "350元", "1", "350元"),
            "1",
        ]
    )

    by_site = page.locator(".card", has=page.get_by_role("heading", name="各站点填满率（所选各周合计）"))
    by_week = page.locator(".card", has=page.get_by_role("heading", name="各周填满率（所选站点合计）"))
    expect(by_site.locator(".bar")).to_have_count(2)
    expect(by_site).to_contain_text("2/3个名额")
    assert bar_share(by_site, name_zh["LZ-DJ"]) == pytest.approx(1.0, abs=0.01)
    assert bar_share(by_site, name_zh["LZ-TX"]) == pytest.approx(0.67, abs=0.01)
    assert bar_share(by_week, week.label) == pytest.approx(0.75, abs=0.01)
    expect(by_week.locator(".bar")).to_have_count(4)  # four weeks by default; the earlier ones empty

    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000
    assert Path(SCREENSHOT).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Weekly reports")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/console/reports/$"))
    expect(table.locator("tr.groups")).to_contain_text("Wage cases")
    expect(table.get_by_role("columnheader", name="Time to fill (median)")).to_be_visible()
    expect(table.get_by_role("columnheader", name="Insured worker-days")).to_be_visible()
    expect(cells(name_en["LZ-DJ"])).to_have_text(
        [
            name_en["LZ-DJ"],
            *("1", "1", "1", "100%", "30 min", "30 min"),
            *("1", "1", "100%", "—", "0", "2.0"),
            *("1", "¥350", "1", "¥350"),
            "0",
        ]
    )
    expect(page.get_by_role("heading", name="Fill rate by site (chosen weeks together)")).to_be_visible()

    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download CSV").click()
    download = downloading.value
    assert re.fullmatch(r"report-\d{4}-W\d{2}-\d{4}-W\d{2}\.csv", download.suggested_filename)
    body = Path(download.path()).read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    header, *lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert header[:5] == ["Week", "From (Monday)", "To (Sunday)", "Site code", "Site"]
    assert header[-1] == "Insured worker-days" and len(header) == len(KEYS)
    rows = {(line[0], line[3]): dict(zip(KEYS, line, strict=True)) for line in lines}
    dj = rows[(week.label, "LZ-DJ")]
    assert (dj["site_name"], dj["monday"], dj["sunday"]) == (
        name_en["LZ-DJ"],
        week.monday.isoformat(),
        week.sunday.isoformat(),
    )
    assert (dj["cases_opened"], dj["amount_owed"], dj["amount_recovered"]) == ("1", "350", "350")
    total = rows[(week.label, "")]
    assert (total["site_name"], total["jobs"], total["places_filled"], total["fill_rate"]) == (
        "Total",
        "3",
        "3",
        "75.0",
    )
    assert (total["median_fill"], total["p90_fill"], total["insured_days"]) == ("60", "90", "1")

    with live_server.runtime.db.transaction() as session:
        export = session.scalars(select(AuditEvent).where(AuditEvent.action == "report.export")).one()
        assert export.agent is not None and export.agent.username == "chen"
        assert (export.details["week"], export.details["weeks"]) == (week.label, 4)

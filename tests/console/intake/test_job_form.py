"""The phone intake form: a job made exactly as the IVR makes one, its checks, tickets and sites."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import inspect, select

from dispatch.clock import utcnow
from dispatch.i18n import render_sms as render
from dispatch.jobs.services import JobRequest, create_job
from dispatch.models import (
    AuditEvent,
    Employer,
    EmployerStatus,
    Job,
    JobSource,
    JobStatus,
    OutboxEvent,
    TicketKind,
    TicketOutcome,
    TicketStatus,
)
from tests.console.helpers import console_post, make_agent, sign_in
from tests.console.intake.conftest import EMPLOYER_PHONE, make_ticket
from tests.helpers import outbound_to

SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "/console/intake/job"
# Columns a job made by the form must share with one create_job makes from the same request.
SAME = [
    "trade_id",
    "headcount",
    "filled",
    "work_date",
    "start_time",
    "days",
    "end_date",
    "daily_pay",
    "site_id",
    "address",
    "notes",
    "recording_url",
    "status",
    "source",
    "urgency",
    "wave",
    "matching",
]


def tomorrow() -> date:
    return utcnow().astimezone(SHANGHAI).date() + timedelta(days=1)


def job_form(catalogue, **overrides) -> dict[str, str]:
    form = {
        "phone": "137 0013 7000",
        "employer_name": "王师傅装修队",
        "trade": str(catalogue.trade("plumber_electrician")),
        "headcount": "2",
        "day": "tomorrow",
        "start": "08:00",
        "days": "3",
        "pay": "300",
        "site": str(catalogue.site("LZ-TX")),
        "address": "太行西街88号",
        "notes": "自带工具",
    }
    form.update(overrides)
    return form


def jobs(session) -> list[Job]:
    session.expire_all()
    return list(session.scalars(select(Job).order_by(Job.id)))


def flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as flask_session:
        return list(flask_session.get("_flashes", []))


def test_the_form_renders_in_chinese_and_in_english(agent_client, catalogue):
    page = agent_client.get(URL).get_data(as_text=True)
    assert "电话登记用工" in page and "发布招工" in page
    assert "水电工" in page and "太行西街街道" in page
    assert 'name="csrf_token"' in page
    console_post(agent_client, "/console/language", {"lang": "en", "next": URL})
    page = agent_client.get(URL).get_data(as_text=True)
    assert "Job by phone" in page and "Post the job" in page and "电话登记用工" not in page


def test_a_visitor_without_a_session_goes_to_sign_in(client, seeded):
    response = client.get(URL)
    assert response.status_code == 302 and response.headers["Location"].startswith("/console/sign-in")


def test_posting_makes_the_job_the_ivr_would_make(agent_client, agent, session, catalogue, runtime):
    response = console_post(agent_client, URL, job_form(catalogue))
    [job] = jobs(session)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/console/jobs/{job.id}"
    assert ("success", f"岗位{job.code}已发布，开始匹配工人。") in flashes(agent_client)

    # Matching starts after commit, through the outbox, as for a job taken by the IVR.
    tasks = session.scalars(select(OutboxEvent).where(OutboxEvent.task.like("%match_job"))).all()
    assert [event.args for event in tasks] == [[job.id]]

    # The same request through create_job, as the IVR's post_job calls it.
    other = Employer(phone="+8613700137999", name="别人")
    session.add(other)
    session.flush()
    request = JobRequest(
        trade_id=catalogue.trade("plumber_electrician"),
        headcount=2,
        work_date=tomorrow(),
        start_time=time(8),
        days=3,
        daily_pay=300,
        site_id=catalogue.site("LZ-TX"),
        address="太行西街88号",
        notes="自带工具",
    )
    reference = create_job(session, other, request, JobSource.AGENT)
    columns = inspect(Job).columns.keys()
    assert set(SAME) <= set(columns)
    assert {c: getattr(job, c) for c in SAME} == {c: getattr(reference, c) for c in SAME}
    assert (job.status, job.source, job.code) == (JobStatus.OPEN, JobSource.AGENT, str(100 + job.id))

    # The caller became an employer with the name given, filed under the job's site.
    employer = session.get(Employer, job.employer_id)
    assert (employer.phone, employer.name, employer.site_id) == (
        EMPLOYER_PHONE,
        "王师傅装修队",
        catalogue.site("LZ-TX"),
    )
    # The employer gets the IVR's job summary SMS.
    [sms] = outbound_to(session, EMPLOYER_PHONE)
    assert sms.kind == "job.created" and sms.employer_id == employer.id
    assert sms.body == render(
        "job_created",
        "zh",
        sig=runtime.settings.SMS_SIGNATURE_ZH,
        held=False,
        no_time=False,
        offers_at=None,
        offers_next_day=False,
        code=job.code,
        trade="水电工",
        headcount=2,
        date=tomorrow(),
        hour=8,
        minute=0,
        days=3,
        pay=300,
        area="太行西街街道",
        filled=0,
    )
    [audit] = session.scalars(select(AuditEvent).where(AuditEvent.action == "job.create")).all()
    assert (audit.agent_id, audit.target_type, audit.target_id) == (agent.id, "job", job.id)
    assert audit.details["code"] == job.code


def test_a_known_employer_is_looked_up_and_keeps_their_name(agent_client, session, catalogue):
    employer = Employer(phone=EMPLOYER_PHONE, name="老客户", site_id=catalogue.site("LZ-DJ"))
    session.add(employer)
    session.commit()
    card = agent_client.get("/console/intake/employer", query_string={"phone": "13700137000"})
    assert "老客户" in card.get_data(as_text=True) and "东街街道" in card.get_data(as_text=True)
    new = agent_client.get("/console/intake/employer", query_string={"phone": "13700137001"})
    assert "新用工主体" in new.get_data(as_text=True)
    bad = agent_client.get("/console/intake/employer", query_string={"phone": "12345"})
    assert "不是有效的电话号码" in bad.get_data(as_text=True)

    # A known employer needs no name on the form, and a name typed does not rename them.
    response = console_post(agent_client, URL, job_form(catalogue, employer_name=""))
    assert response.status_code == 302
    [job] = jobs(session)
    assert job.employer_id == employer.id
    assert session.get(Employer, employer.id).name == "老客户"
    assert session.get(Employer, employer.id).site_id == catalogue.site("LZ-DJ")


def test_validation_errors_show_the_form_again_with_the_values(agent_client, session, catalogue):
    form = job_form(
        catalogue,
        phone="12345",
        employer_name="",
        headcount="0",
        pay="300.5",
        days="61",
        day="date",
        date="2001-01-01",
        trade="",
    )
    response = console_post(agent_client, URL, form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "有内容需要修改" in page
    assert "这不是有效的电话号码" in page
    assert "请填写1到99之间的整数" in page  # headcount
    assert "请填写30到5000之间的整数" in page  # pay: whole yuan only
    assert "请填写1到60之间的整数" in page  # days
    assert "请选择" in page and "之间的日期" in page
    assert 'value="太行西街88号"' in page and 'value="12345"' in page  # what was typed stays
    assert jobs(session) == []
    assert outbound_to(session, EMPLOYER_PHONE) == []


def test_a_new_employer_needs_a_name_and_errors_are_in_english_too(agent_client, session, catalogue):
    response = console_post(agent_client, URL, job_form(catalogue, employer_name=""))
    assert response.status_code == 422
    assert "新用工主体请填写名称" in response.get_data(as_text=True)
    console_post(agent_client, "/console/language", {"lang": "en", "next": URL})
    response = console_post(agent_client, URL, job_form(catalogue, employer_name="", pay="20"))
    page = response.get_data(as_text=True)
    assert "A new employer needs a name." in page
    assert "A whole number from 30 to 5000, please." in page
    assert jobs(session) == []


def test_a_start_already_gone_by_today_is_refused_as_in_the_ivr(app, agent, session, catalogue):
    with time_machine.travel(datetime(2026, 12, 1, 15, 0, tzinfo=SHANGHAI), tick=False):
        client = app.test_client()
        sign_in(client, agent.username)
        response = console_post(client, URL, job_form(catalogue, day="today", start="15:00"))
        assert response.status_code == 422
        assert "这个时间已经过了" in response.get_data(as_text=True)
        assert console_post(client, URL, job_form(catalogue, day="today", start="16:00")).status_code == 302
        too_far = job_form(catalogue, day="date", date="2027-03-02")  # 91 days ahead
        assert console_post(client, URL, too_far).status_code == 422
    [job] = jobs(session)
    assert (job.work_date, job.start_time) == (date(2026, 12, 1), time(16))


def test_a_held_employer_gets_a_held_job_and_no_matching(agent_client, session, catalogue, runtime):
    employer = Employer(phone=EMPLOYER_PHONE, name="欠薪待查", status=EmployerStatus.HELD)
    session.add(employer)
    session.commit()
    assert console_post(agent_client, URL, job_form(catalogue)).status_code == 302
    [job] = jobs(session)
    assert job.status == JobStatus.HELD
    assert session.scalars(select(OutboxEvent).where(OutboxEvent.task.like("%match_job"))).all() == []
    assert ("warning", "该用工主体处于审核状态：岗位需工作人员审核后才会派单。") in flashes(agent_client)
    [sms] = outbound_to(session, EMPLOYER_PHONE)
    assert "工作人员审核后发布" in sms.body


def test_a_blocked_employer_is_refused(agent_client, session, catalogue):
    session.add(Employer(phone=EMPLOYER_PHONE, name="黑名单", status=EmployerStatus.BLOCKED))
    session.commit()
    response = console_post(agent_client, URL, job_form(catalogue))
    assert response.status_code == 422
    assert response.get_data(as_text=True).count("该用工主体已被禁止发布招工") == 1  # by the field only
    assert jobs(session) == []
    assert outbound_to(session, EMPLOYER_PHONE) == []


def test_a_post_without_the_csrf_token_is_refused(agent_client, session, catalogue):
    response = agent_client.post(URL, data=job_form(catalogue))
    assert response.status_code == 400
    assert jobs(session) == []


def test_a_town_agent_sees_no_details_of_another_towns_employer(town_client, session, catalogue):
    session.add(Employer(phone=EMPLOYER_PHONE, name="东街老板", site_id=catalogue.site("LZ-DJ")))
    session.commit()
    card = town_client.get("/console/intake/employer", query_string={"phone": EMPLOYER_PHONE})
    assert "属于其他站点" in card.get_data(as_text=True)
    assert "东街老板" not in card.get_data(as_text=True)
    # The employer may still ask this town for workers: the job is filed under the town's site.
    assert console_post(town_client, URL, job_form(catalogue)).status_code == 302
    assert [job.site_id for job in jobs(session)] == [catalogue.site("LZ-TX")]


def test_a_town_agent_chooses_only_their_sites(town_client, session, catalogue):
    page = town_client.get(URL).get_data(as_text=True)
    # Only the site list: ids are small numbers (they restart after a committed test's TRUNCATE) and
    # `value="2"` is also a trade's option.
    sites = page[page.index('<select name="site"') :]
    sites = sites[: sites.index("</select>")]
    assert f'value="{catalogue.site("LZ-TX")}"' in sites
    assert f'value="{catalogue.site("LZ-TX-WYM")}"' in sites  # a village station of the town
    assert f'value="{catalogue.site("LZ-DJ")}"' not in sites
    assert f'value="{catalogue.site("LZ")}"' not in sites  # the district is no place of work
    response = console_post(town_client, URL, job_form(catalogue, site=str(catalogue.site("LZ-DJ"))))
    assert response.status_code == 422
    assert "请从列表中选择您负责的站点" in response.get_data(as_text=True)
    assert jobs(session) == []
    village = job_form(catalogue, site=str(catalogue.site("LZ-TX-WYM")))
    assert console_post(town_client, URL, village).status_code == 302
    assert [job.site_id for job in jobs(session)] == [catalogue.site("LZ-TX-WYM")]


def test_a_ticket_fills_the_form_and_is_resolved_with_the_job(agent_client, agent, session, catalogue):
    answers = {
        "trade": catalogue.trade("cleaner"),
        "headcount": 4,
        "date": tomorrow().isoformat(),
        "hour": 7,
        "pay": 260,
        "site": catalogue.site("LZ-TX"),
        "recording": "https://api.twilio.com/rec/RE1",
    }
    ticket = make_ticket(session, TicketKind.CALL_BACK, "job", answers, transcript="要4个保洁，干两天")
    page = agent_client.get(f"{URL}?ticket={ticket.id}").get_data(as_text=True)
    assert "hung up during job at pay" in page and "要4个保洁，干两天" in page
    assert 'value="+8613700137000"' in page
    assert f'<option value="{catalogue.trade("cleaner")}" selected>' in page
    assert 'value="4"' in page and 'value="260"' in page
    assert 'name="day" value="tomorrow" checked' in page
    assert f'action="/console/intake/job?ticket={ticket.id}"' in page

    form = job_form(catalogue, phone="+8613700137000", trade=str(answers["trade"]), headcount="4")
    response = console_post(
        agent_client, f"{URL}?ticket={ticket.id}", {**form, "days": "2", "start": "07:00"}
    )
    assert response.status_code == 302
    [job] = jobs(session)
    assert job.recording_url == "https://api.twilio.com/rec/RE1"  # as the IVR would have kept it
    session.refresh(ticket)
    assert (ticket.status, ticket.outcome, ticket.resolved_by_id, ticket.job_id) == (
        TicketStatus.RESOLVED,
        TicketOutcome.JOB_CREATED,
        agent.id,
        job.id,
    )
    assert job.code in ticket.resolution and f"/console/jobs/{job.id}" in ticket.resolution
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["job.create", "ticket.resolve"]


def test_a_resolved_or_taken_ticket_makes_no_job(agent_client, session, catalogue):
    ticket = make_ticket(session, TicketKind.VOICEMAIL, "menu")
    ticket.status = TicketStatus.RESOLVED
    session.commit()
    response = console_post(agent_client, f"{URL}?ticket={ticket.id}", job_form(catalogue))
    assert response.status_code == 422
    assert "这条待办已完结" in response.get_data(as_text=True)
    other = make_agent(session, "district2", "agent", "LZ")
    claimed = make_ticket(session, TicketKind.AGENT_CALL, "menu")
    claimed.status, claimed.claimed_by_id = TicketStatus.CLAIMED, other.id
    session.commit()
    response = console_post(agent_client, f"{URL}?ticket={claimed.id}", job_form(catalogue))
    assert "正由其他坐席处理" in response.get_data(as_text=True)
    assert jobs(session) == []


def test_another_towns_ticket_or_another_kind_is_not_found(town_client, agent_client, session, catalogue):
    elsewhere = make_ticket(session, TicketKind.VOICEMAIL, "job", {"site": catalogue.site("LZ-DJ")})
    unplaced = make_ticket(session, TicketKind.VOICEMAIL, "menu")  # no site: the district's
    mine = make_ticket(session, TicketKind.VOICEMAIL, "job", {"site": catalogue.site("LZ-TX-WYM")})
    assert town_client.get(f"{URL}?ticket={elsewhere.id}").status_code == 404
    assert town_client.get(f"{URL}?ticket={unplaced.id}").status_code == 404
    form = job_form(catalogue)
    assert console_post(town_client, f"{URL}?ticket={elsewhere.id}", form).status_code == 404
    assert jobs(session) == []
    assert town_client.get(f"{URL}?ticket={mine.id}").status_code == 200
    assert agent_client.get(f"{URL}?ticket={elsewhere.id}").status_code == 200  # the district sees all

    unparsed = make_ticket(session, TicketKind.UNPARSED_SMS, "menu")
    assert agent_client.get(f"{URL}?ticket={unparsed.id}").status_code == 404
    assert agent_client.get(f"{URL}?ticket=999999").status_code == 404
    assert agent_client.get(f"{URL}?ticket=abc").status_code == 404

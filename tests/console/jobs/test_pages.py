"""The job list and the job page: scoped to the agent's sites, offers by wave with each worker's score
explained, confirmed workers with phones, tickets about the job; Chinese and English."""

from __future__ import annotations

import re

from dispatch.models import JobStatus, OfferStatus, Ticket, TicketKind
from dispatch.phones import display
from tests.console.helpers import console_post, make_agent, sign_in
from tests.console.jobs.conftest import matched
from tests.factories import Market, commit
from tests.helpers import fresh, offers_of, run_jobs, text_in


def switch_to_english(client) -> None:
    assert console_post(client, "/console/language", {"lang": "en"}).status_code == 302


def test_not_signed_in_goes_to_sign_in(client, seeded) -> None:
    for path in ("/console/jobs/", "/console/jobs/1"):
        response = client.get(path)
        assert response.status_code == 302 and "/console/sign-in" in response.headers["Location"]


def test_the_list_shows_the_jobs_of_the_agents_sites(
    runtime, session, market: Market, app, agent_client
) -> None:
    taixi = market.job(site="LZ-TX", pay=300, headcount=2)
    dongjie = market.job(site="LZ-DJ", pay=280, trade="cleaner")
    cancelled = market.job(site="LZ-TX")
    cancelled.status = JobStatus.CANCELLED
    commit(runtime, session)

    page = agent_client.get("/console/jobs/").get_data(as_text=True)
    # the district agent sees both towns' hiring jobs, the newest first, with pay, places and status
    assert page.index(f">{dongjie.code}<") < page.index(f">{taixi.code}<")
    assert f">{cancelled.code}<" not in page  # the default tab: jobs still hiring
    assert "300元" in page and "0/2" in page and "招工中" in page and "保洁" in page
    assert display(taixi.employer.phone) in page

    cancelled_tab = agent_client.get("/console/jobs/?status=cancelled").get_data(as_text=True)
    assert f">{cancelled.code}<" in cancelled_tab and f">{taixi.code}<" not in cancelled_tab
    everything = agent_client.get("/console/jobs/?status=all").get_data(as_text=True)
    assert all(f">{job.code}<" in everything for job in (taixi, dongjie, cancelled))

    # an agent of the Taixi street market sees Taixi's jobs only
    make_agent(session, "t1", "agent", "LZ-TX")
    town = app.test_client()
    sign_in(town, "t1")
    town_page = town.get("/console/jobs/?status=all").get_data(as_text=True)
    assert f">{taixi.code}<" in town_page and f">{dongjie.code}<" not in town_page


def test_the_list_is_paged(runtime, session, market: Market, agent_client, monkeypatch) -> None:
    from dispatch.console.jobs import queries

    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    jobs = [market.job() for _ in range(3)]
    commit(runtime, session)
    first = agent_client.get("/console/jobs/").get_data(as_text=True)
    second = agent_client.get("/console/jobs/?page=2").get_data(as_text=True)
    assert [f">{job.code}<" in first for job in jobs] == [False, True, True]
    assert [f">{job.code}<" in second for job in jobs] == [True, False, False]
    assert "page=2" in first and "下一页" in first and "下一页" not in second


def test_the_page_shows_offers_by_wave_with_each_score_explained(
    runtime, session, market: Market, agent_client, client
) -> None:
    near = [market.worker(name=f"近{i}", site="LZ-TX", rating=(5 * i, i)) for i in range(4)]
    further = market.worker(name="远一", site="LZ-XJ")  # 1.3 km: wave 2 (3 km)
    job = matched(runtime, session, market, headcount=1)
    # wave 1 (1 km): ceil(1 x 1.2 / 0.4) = 3 offers, the best rated first; one of them says yes
    wave1 = offers_of(session, job)
    assert [offer.worker_id for offer in wave1] == [w.id for w in near[::-1][:3]]
    text_in(client, f"2 {job.code}", sender=near[3].phone)
    run_jobs(runtime)
    # an agent sends wave 2 (3 km) without waiting for wave 1 to lapse
    assert console_post(agent_client, f"/console/jobs/{job.id}/next-wave").status_code == 302
    offers = offers_of(session, job)
    assert {o.worker_id for o in offers if o.wave == 2} == {near[0].id, further.id}

    page = agent_client.get(f"/console/jobs/{job.id}").get_data(as_text=True)
    assert f"岗位 {job.code}" in page and "水电工" in page and "300元" in page and "已招 0 / 1 人" in page
    # waves newest first, each with its radius
    assert page.index("第2轮") < page.index("第1轮")
    assert "半径3公里" in page and "半径1公里" in page
    for offer in offers:
        row = re.search(rf'<tr data-offer="{offer.id}">(.*?)</tr>', page, re.S).group(1)
        assert offer.worker.name in row and display(offer.worker.phone) in row
        assert f"/console/people/workers/{offer.worker_id}" in row
        # the score and each factor's share, as ranking stored them
        assert f"得分 {offer.score:.2f}" in row
        shares = offer.explanation["shares"]
        for name, label in (("distance", "距离"), ("rating", "评分"), ("fairness", "轮换")):
            assert f"{label} {shares[name]:.2f}" in row
        assert f"{offer.explanation['km']:.1f}公里" in row
    declined = re.search(rf'<tr data-offer="{wave1[0].id}">(.*?)</tr>', page, re.S).group(1)
    assert "不接" in declined  # near[3] said no by text
    lapsed = re.search(rf'<tr data-offer="{wave1[1].id}">(.*?)</tr>', page, re.S).group(1)
    assert "未回复" in lapsed  # wave 2 went out early: wave 1's silence counts as no answer

    switch_to_english(agent_client)
    english = agent_client.get(f"/console/jobs/{job.id}").get_data(as_text=True)
    assert f"Job {job.code}" in english and "Offers by wave" in english and "Wave 2" in english
    assert "3 km radius" in english and "¥300" in english and "0 of 1 filled" in english
    assert f"distance {offers[0].explanation['shares']['distance']:.2f}" in english
    assert "Declined" in english and "No answer" in english
    assert "第1轮" not in english


def test_the_page_shows_confirmed_workers_and_open_tickets(
    runtime, session, market: Market, agent_client, client
) -> None:
    worker = market.worker(name="王师傅")
    job = matched(runtime, session, market, headcount=2)
    text_in(client, f"1 {job.code}", sender=worker.phone)
    ticket = Ticket(kind=TicketKind.UNFILLED_JOB, site_id=job.site_id, job_id=job.id, summary="招不满 1/2")
    session.add(ticket)
    session.commit()

    page = agent_client.get(f"/console/jobs/{job.id}").get_data(as_text=True)
    confirmed = page[page.index("已确认的零工") : page.index("关于这个岗位的待办")]
    assert "王师傅" in confirmed and display(worker.phone) in confirmed
    assert f'href="/console/people/workers/{worker.id}"' in confirmed
    assert f'href="/console/tickets/{ticket.id}"' in page and "招不满 1/2" in page
    assert "已招 1 / 2 人" in page
    assert [o.status for o in offers_of(session, job)] == [OfferStatus.ACCEPTED]


def test_an_agent_of_another_town_gets_404(runtime, session, market: Market, app) -> None:
    job = market.job(site="LZ-DJ")
    other = market.worker(site="LZ-DJ")
    commit(runtime, session)
    make_agent(session, "t1", "agent", "LZ-TX")
    town = app.test_client()
    sign_in(town, "t1")

    assert town.get(f"/console/jobs/{job.id}").status_code == 404
    for action, data in (
        ("next-wave", {}),
        ("widen", {}),
        ("offer", {"worker_id": other.id}),
        ("confirm", {"worker_id": other.id}),
        ("pay", {"daily_pay": "400", "employer_agreed": "yes"}),
        ("cancel", {}),
    ):
        assert console_post(town, f"/console/jobs/{job.id}/{action}", data).status_code == 404, action
    job = fresh(session, job)
    assert (job.status, job.daily_pay, job.filled) == (JobStatus.OPEN, 300, 0)
    assert town.get("/console/jobs/999999").status_code == 404


def test_a_post_without_the_csrf_token_is_refused(runtime, session, market: Market, agent_client) -> None:
    job = market.job()
    commit(runtime, session)
    for action in ("next-wave", "cancel", "pay"):
        response = agent_client.post(
            f"/console/jobs/{job.id}/{action}", data={"daily_pay": "500", "employer_agreed": "yes"}
        )
        assert response.status_code == 400
    job = fresh(session, job)
    assert (job.status, job.daily_pay) == (JobStatus.OPEN, 300)

"""Agents keep records true: a worker's name, trades and years, pay floor, home site, language and voice
preference, and an employer's name, site and address, each change audited with before and after, and
matching uses a changed pay floor at once."""

from __future__ import annotations

import re

from sqlalchemy import select

from dispatch.ivr.choices import site_keys
from dispatch.models import AuditEvent, Contact, Employer, Site, Trade, Worker
from tests.console.helpers import console_post
from tests.factories import Market, offered


def ids(session, model, *codes: str) -> list[str]:
    return [str(session.scalar(select(model.id).where(model.code == code))) for code in codes]


def edit(client, worker: Worker, **form):
    return console_post(client, f"/console/people/workers/{worker.id}/edit", form)


def audits(session, target_type: str, target_id: int) -> list[AuditEvent]:
    session.expire_all()
    query = select(AuditEvent).where(AuditEvent.target_type == target_type, AuditEvent.target_id == target_id)
    return list(session.scalars(query.order_by(AuditEvent.id)))


def worker_form(session, **changes) -> dict:
    [plumber] = ids(session, Trade, "plumber_electrician")
    [town] = ids(session, Site, "LZ-TX")
    form = {
        "name": "张三",
        "trade": [plumber, ""],
        "years": ["5", ""],
        "min_pay": "200",
        "site": town,
        "language": "zh",
    }
    form.update(changes)
    return form


def test_an_agent_corrects_a_worker_record_with_before_and_after_in_the_audit(
    agent_client, agent, people, session
):
    worker = people.worker(trades={"plumber_electrician": 5}, min_daily_pay=200)
    plumber, carpenter = ids(session, Trade, "plumber_electrician", "carpenter")
    [other_town] = ids(session, Site, "LZ-DJ")
    form = worker_form(
        session,
        name="张三丰",
        trade=[plumber, carpenter],
        years=["7", "2"],
        min_pay="260",
        site=other_town,
        language="en",
        prefers_voice="yes",
    )
    response = edit(agent_client, worker, **form)
    assert response.status_code == 302
    assert "资料已保存" in agent_client.get(response.location).get_data(as_text=True)

    session.expire_all()
    worker = session.get_one(Worker, worker.id)
    assert worker.name == "张三丰" and worker.min_daily_pay == 260 and str(worker.home_site_id) == other_town
    assert {row.trade.code: row.years_experience for row in worker.trades} == {
        "plumber_electrician": 7,
        "carpenter": 2,
    }
    assert worker.prefers_voice
    assert session.scalar(select(Contact.language).where(Contact.phone == worker.phone)) == "en"
    [event] = audits(session, "worker", worker.id)
    assert event.action == "worker.edit" and event.agent_id == agent.id
    assert event.details["before"] == {
        "name": "张三",
        "trades": {"plumber_electrician": 5},
        "min_daily_pay": 200,
        "home_site": "LZ-TX",
        "language": "zh",
        "prefers_voice": False,
    }
    assert event.details["after"] == {
        "name": "张三丰",
        "trades": {"carpenter": 2, "plumber_electrician": 7},
        "min_daily_pay": 260,
        "home_site": "LZ-DJ",
        "language": "en",
        "prefers_voice": True,
    }

    # The same record again: nothing changes, nothing is audited.
    assert edit(agent_client, worker, **form).status_code == 302
    assert len(audits(session, "worker", worker.id)) == 1


def test_a_record_outside_the_limits_is_refused_with_the_counter_forms_words(agent_client, people, session):
    worker = people.worker(min_daily_pay=200)
    plumber, _ = ids(session, Trade, "plumber_electrician", "carpenter")
    refused = [
        ({"min_pay": "10"}, "30"),
        ({"trade": [plumber, plumber], "years": ["1", "2"]}, 'id="trades-error"'),
        ({"name": ""}, 'id="name-error"'),
        ({"name": "张" * 21}, 'id="name-error"'),
        ({"site": "999999"}, 'id="site-error"'),
    ]
    for changes, shown in refused:
        response = edit(agent_client, worker, **worker_form(session, **changes))
        assert response.status_code == 422, changes
        assert shown in response.get_data(as_text=True), changes
    session.expire_all()
    assert session.get_one(Worker, worker.id).min_daily_pay == 200
    assert audits(session, "worker", worker.id) == []


def test_an_edit_needs_the_csrf_token_and_a_visible_worker(app, agent_client, people, session):
    worker = people.worker(min_daily_pay=200)
    response = agent_client.post(f"/console/people/workers/{worker.id}/edit", data=worker_form(session))
    assert response.status_code == 400
    assert edit(agent_client, worker, **worker_form(session)).status_code == 302
    assert edit(agent_client, Worker(id=10**9), **worker_form(session)).status_code == 404


def test_an_agent_corrects_an_employer_name_site_and_address(agent_client, agent, people, session):
    employer = people.employer(name="王老板")
    [town] = ids(session, Site, "LZ-DJ")
    path = f"/console/people/employers/{employer.id}/edit"
    assert console_post(agent_client, path, {"name": "", "site": town}).status_code == 422
    form = {"name": "王建国", "site": town, "address": "东街1号"}
    assert console_post(agent_client, path, form).status_code == 302
    session.expire_all()
    employer = session.get_one(Employer, employer.id)
    assert (employer.name, str(employer.site_id), employer.address) == ("王建国", town, "东街1号")
    [event] = audits(session, "employer", employer.id)
    assert event.action == "employer.edit" and event.agent_id == agent.id
    assert event.details["before"] == {"name": "王老板", "site": "LZ-TX", "address": "太行西街8号"}
    assert event.details["after"] == {"name": "王建国", "site": "LZ-DJ", "address": "东街1号"}


def test_a_raised_pay_floor_keeps_the_worker_out_of_the_next_wave(
    clock, agent_client, people, session, runtime
):
    """Both workers would be asked (same trade, site, record); the one whose floor the agent raised
    above the job's pay is not."""
    raised = people.worker(min_daily_pay=200)
    kept = people.worker(min_daily_pay=200)
    response = edit(agent_client, raised, **worker_form(session, min_pay="350"))
    assert response.status_code == 302 and response.location.endswith(f"/workers/{raised.id}")
    offered(runtime, session, Market(session), kept, pay=300, trade="plumber_electrician")


def test_the_edit_forms_pick_the_site_as_the_intake_does(agent_client, people, session):
    """The IVR's numbers, villages under their towns, the filter box, the record's site chosen."""
    keys = site_keys(session)
    worker = people.worker()
    employer = people.employer(name="王老板")
    for path, site_id in (
        (f"/console/people/workers/{worker.id}", worker.home_site_id),
        (f"/console/people/employers/{employer.id}", employer.site_id),
    ):
        page = agent_client.get(path).get_data(as_text=True)
        assert 'data-site-filter="site-select"' in page and "intake.js" in page, path
        chosen = re.search(r'<option value="(\d+)" data-key="([\d-]*)"[^>]*selected>([^<]*)<', page)
        assert chosen is not None, path
        assert (int(chosen.group(1)), chosen.group(2)) == (site_id, keys[site_id]), path
        assert keys[site_id] and chosen.group(3).startswith(f"{keys[site_id]} · "), path
        assert re.search(r'<optgroup label="\d+ · ', page), path

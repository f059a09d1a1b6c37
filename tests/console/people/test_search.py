"""Search by phone (however it is typed), by name and by job code, limited to the agent's sites."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from dispatch.console.people.search import RESULTS_PER_KIND
from tests.console.helpers import make_agent, sign_in

PHONE = "+8613800138000"


def search(client, q: str):
    return client.get(f"/console/people/search?q={quote(q)}")


@pytest.mark.parametrize(
    "typed",
    [
        "13800138000",
        "+86 138 0013 8000",
        "8613800138000",
        "138-0013-8000",
        "１３８００１３８０００",
        " (138) 0013 8000 ",
    ],
)
def test_a_whole_phone_number_in_any_form_opens_the_worker(agent_client, people, typed):
    worker = people.worker(PHONE, name="李明")
    people.worker("+8613900139000", name="李明")  # same name, another number: not found by the phone
    response = search(agent_client, typed)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/console/people/workers/{worker.id}"


def test_a_whole_phone_number_opens_the_employer(agent_client, people):
    employer = people.employer(PHONE, name="鑫源装饰")
    response = search(agent_client, "138 0013 8000")
    assert response.headers["Location"] == f"/console/people/employers/{employer.id}"


def test_a_number_both_a_worker_and_an_employer_use_lists_both(agent_client, people):
    people.worker(PHONE, name="李明")
    people.employer(PHONE, name="鑫源装饰")
    response = search(agent_client, "13800138000")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "李明" in html and "鑫源装饰" in html


def test_the_last_digits_of_a_number_list_every_worker_they_end(agent_client, people):
    first = people.worker("+8613800138000", name="李明")
    second = people.worker("+8613700008000", name="王五")
    people.worker("+8613700008001", name="赵六")
    response = search(agent_client, "8000")
    assert response.status_code == 200  # not exact: listed, not opened
    html = response.get_data(as_text=True)
    assert f"/console/people/workers/{first.id}" in html and f"/console/people/workers/{second.id}" in html
    assert "赵六" not in html
    assert "138 0013 8000" in html  # shown as a Chinese agent reads a number


def test_a_suffix_that_ends_one_number_only_still_lists_it(agent_client, people):
    people.worker(PHONE, name="李明")
    response = search(agent_client, "0138000")
    assert response.status_code == 200
    assert "李明" in response.get_data(as_text=True)


def test_three_digits_are_a_job_code_not_a_phone_suffix(agent_client, people):
    people.worker("+8613800138101", name="李明")
    job = people.job(people.employer())
    response = search(agent_client, job.code)  # codes start at 101
    assert response.status_code == 302
    assert response.headers["Location"] == f"/console/jobs/{job.id}"


def test_digits_that_are_a_job_code_and_a_phone_suffix_list_both(agent_client, people, session):
    job = people.job(people.employer(name="鑫源装饰"))
    job.code = "8000"  # a code of four digits, as the 900th job on gets
    session.commit()
    worker = people.worker("+8613800138000", name="李明")
    response = search(agent_client, "8000")
    assert response.status_code == 200  # two hits: listed, not opened
    html = response.get_data(as_text=True)
    assert f"/console/people/workers/{worker.id}" in html and f"/console/jobs/{job.id}" in html


@pytest.mark.parametrize("typed", ["明", "李明", "ming", "MING", "Li M"])
def test_names_match_by_any_part_ignoring_case(agent_client, people, typed):
    worker = people.worker(name="Li Ming" if typed.isascii() else "李明")
    people.worker(name="Zhang San" if typed.isascii() else "张三")
    response = search(agent_client, typed)
    # One hit by a name fragment is listed, not opened: the agent checks it is the right person.
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"/console/people/workers/{worker.id}" in html
    assert "Zhang San" not in html and "张三" not in html


def test_employers_are_found_by_name_too(agent_client, people):
    employer = people.employer(name="鑫源装饰公司")
    response = search(agent_client, "鑫源")
    assert f"/console/people/employers/{employer.id}" in response.get_data(as_text=True)


def test_like_wildcards_are_taken_literally(agent_client, people):
    people.worker(name="李明")
    for typed in ("%", "_", "李%"):
        html = search(agent_client, typed).get_data(as_text=True)
        assert "李明" not in html, typed


def test_results_carry_status_badges(agent_client, people):
    from dispatch.models import WorkerStatus

    people.worker(name="李明", status=WorkerStatus.PAUSED)
    html = search(agent_client, "李明").get_data(as_text=True)
    assert 'class="badge status-paused"' in html and "暂停派活" in html


def test_results_are_bounded_and_say_there_are_more(agent_client, people):
    for _ in range(RESULTS_PER_KIND + 1):
        people.worker(name="李明")
    html = search(agent_client, "李明").get_data(as_text=True)
    assert html.count("/console/people/workers/") == RESULTS_PER_KIND
    assert "结果较多" in html


def test_no_match_and_no_query(agent_client, people):
    assert "没有找到" in search(agent_client, "欧阳").get_data(as_text=True)
    html = agent_client.get("/console/people/search").get_data(as_text=True)
    assert "尾号后四位" in html  # the hint
    assert search(agent_client, "   ").status_code == 200


def test_the_header_search_box_goes_to_search(agent_client, people):
    html = agent_client.get("/console/people/search").get_data(as_text=True)
    assert 'action="/console/people/search"' in html and 'name="q"' in html


def test_a_town_agent_finds_only_its_own_town_and_villages(app, session, people):
    village = next(site for site in people.session.scalars(_sites_under("LZ-TX")))
    own = people.worker("+8613800138000", name="李明", site="LZ-TX")
    in_village = people.worker("+8613700138000", name="李明", site=village.code)
    other_town = people.worker("+8613600138000", name="李明", site="LZ-DJ")
    unplaced = people.worker("+8613500138000", name="李明", site=None)
    other_employer = people.employer("+8613400138000", name="李明装饰", site="LZ-DJ")
    other_job = people.job(other_employer)
    make_agent(session, "t1", "agent", "LZ-TX")
    client = app.test_client()
    sign_in(client, "t1")

    html = search(client, "李明").get_data(as_text=True)
    assert f'/workers/{own.id}"' in html and f'/workers/{in_village.id}"' in html
    assert f'/workers/{other_town.id}"' not in html and f'/workers/{unplaced.id}"' not in html
    assert "李明装饰" not in html
    html = search(client, "0138000").get_data(as_text=True)
    assert f'/workers/{other_town.id}"' not in html
    assert search(client, "13600138000").status_code == 200  # not redirected to a page it cannot open
    assert "没有找到" in search(client, "13600138000").get_data(as_text=True)
    assert "没有找到" in search(client, other_job.code).get_data(as_text=True)


def test_search_in_english(agent_client, people):
    from tests.console.helpers import console_post

    people.worker(name="李明")
    people.employer(name="李明装饰")
    console_post(agent_client, "/console/language", {"lang": "en"})
    html = search(agent_client, "李明").get_data(as_text=True)
    assert "Workers" in html and "Employers" in html and "Active" in html
    assert "零工" not in html.split("<main>")[1]


def _sites_under(code: str):
    from sqlalchemy import select

    from dispatch.models import Site

    parent = select(Site.id).where(Site.code == code).scalar_subquery()
    return select(Site).where(Site.parent_id == parent).order_by(Site.code)

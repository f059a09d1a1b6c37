"""Every phone number the main console pages show is a `tel:` link (the |tel filter), so an agent
dials with a click or a tap: the ticket queue and a ticket, people search, a worker's and an
employer's page, the job list and a job, the intake form from a ticket, the call-back list."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from markupsafe import Markup

from dispatch.console.i18n import tel, translate_html
from dispatch.models import Ticket, TicketKind
from dispatch.phones import display
from tests.console.helpers import console_post
from tests.factories import Market, offered

EMPLOYER = "+8613700137555"
WORKER = "+8613900139555"
CALLER = "+8613800138555"  # a number that is nobody yet: a voicemail's
TEXTER = "+8613600136555"


class Numbers(HTMLParser):
    """The page's text split into what is inside a `tel:` link and what is not (no <title>, script)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.in_tel = 0
        self.linked: list[str] = []
        self.hrefs: list[str] = []
        self.plain: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(tag)
        href = dict(attrs).get("href") or ""
        if tag == "a" and href.startswith("tel:"):
            self.in_tel += 1
            self.hrefs.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.in_tel and self.stack and self.stack[-1] == "a":
            self.in_tel -= 1
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if set(self.stack) & {"title", "script", "style", "textarea"}:
            return
        (self.linked if self.in_tel else self.plain).append(data)


def shown_numbers(text: str) -> list[str]:
    """Phone numbers as the console shows them (national `137 0013 7555`) or stored (`+86…`)."""
    return re.findall(r"\+?\d[\d ]{9,}\d", text)


def assert_all_linked(html: str, *expected: str) -> None:
    page = Numbers()
    page.feed(html)
    plain = [number for text in page.plain for number in shown_numbers(text)]
    assert plain == [], f"phone numbers outside a tel: link: {plain}"
    for phone in expected:
        assert f"tel:{phone}" in page.hrefs, f"{phone} is not linked"
        assert display(phone) in "".join(page.linked)


def test_the_filter_links_the_e164_number_and_shows_it_nationally() -> None:
    assert tel("+8613700137555") == Markup('<a href="tel:+8613700137555" class="tel">137 0013 7555</a>')
    assert tel("") == "" and tel(None) == ""
    assert tel('+86"><script>') == Markup(
        '<a href="tel:+86&#34;&gt;&lt;script&gt;" class="tel">+86&#34;&gt;&lt;script&gt;</a>'
    )


def test_a_sentence_keeps_the_link_and_escapes_the_rest(app) -> None:
    with app.test_request_context():
        text = translate_html("tickets.call_back_at", phone=tel(CALLER))
        assert text == Markup('回拨电话：<a href="tel:+8613800138555" class="tel">138 0013 8555</a>')
        assert "&lt;b&gt;" in translate_html("tickets.call_back_at", phone="<b>")


def test_every_number_on_the_main_pages_is_a_tel_link(app, agent_client, session, runtime) -> None:
    market = Market(session)
    employer = market.employer(EMPLOYER, name="王老板")
    worker = market.worker(WORKER, name="李师傅")
    job = offered(runtime, session, market, worker, employer=employer)
    voicemail = Ticket(kind=TicketKind.VOICEMAIL, priority=2, phone=CALLER, summary="留言")
    texted = Ticket(
        kind=TicketKind.UNPARSED_SMS, priority=2, phone=TEXTER, summary="asdf", worker_id=worker.id
    )
    call_back = Ticket(kind=TicketKind.CALL_BACK, priority=2, phone=CALLER, summary="回拨")
    session.add_all([voicemail, texted, call_back])
    session.commit()

    pages = {
        "/console/tickets/": (CALLER, TEXTER),
        f"/console/tickets/{voicemail.id}": (CALLER,),
        f"/console/tickets/{texted.id}": (TEXTER,),
        f"/console/people/workers/{worker.id}": (WORKER,),
        f"/console/people/employers/{employer.id}": (EMPLOYER,),
        "/console/jobs/": (EMPLOYER,),
        f"/console/jobs/{job.id}": (EMPLOYER, WORKER),
        f"/console/intake/job?ticket={call_back.id}": (CALLER,),
        "/console/phone/call-backs": (CALLER,),
    }
    for path, numbers in pages.items():
        response = agent_client.get(path)
        assert response.status_code == 200, path
        assert_all_linked(response.get_data(as_text=True), *numbers)
    for query, number in (("李师傅", WORKER), ("王老板", EMPLOYER)):
        found = console_post(agent_client, "/console/people/search", {"q": query})
        assert_all_linked(found.get_data(as_text=True), number)

"""Wait timers: each ticket's wait against its kind's target (config/ticket_targets.toml), drawn with
the state the page colours it by; a resolved ticket's wait stops at its resolution."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dispatch.clock import utcnow
from dispatch.console.tickets.timers import TARGETS_FILE, load_targets
from dispatch.models import TicketKind, TicketStatus
from dispatch.settings import PROJECT_ROOT
from tests.console.tickets.test_queue import add_ticket


def test_every_kind_has_a_target_and_a_typo_is_refused(tmp_path):
    targets = load_targets(str(PROJECT_ROOT / "config"))
    assert targets.seconds("unfilled_job") == 15 * 60 and 0 < targets.near < 1
    assert all(targets.seconds(kind.value) >= 60 for kind in TicketKind)
    (tmp_path / TARGETS_FILE).write_text("[minutes]\nvoicemial = 30\n", encoding="utf-8")
    with pytest.raises(ValueError, match="voicemial"):
        load_targets(str(tmp_path))


def test_the_queue_colours_waits_near_and_past_their_target(agent_client, session):
    fresh = add_ticket(session, TicketKind.UNFILLED_JOB, age_minutes=5)
    near = add_ticket(session, TicketKind.UNFILLED_JOB, age_minutes=12)
    late = add_ticket(session, TicketKind.VOICEMAIL, age_minutes=31)
    page = agent_client.get("/console/tickets/").get_data(as_text=True)
    for ticket, state, seconds in ((fresh, "ok", 300), (near, "near", 720), (late, "late", 1860)):
        row = page[page.index(f'id="ticket-{ticket.id}"') :]
        assert f'class="wait wait-{state}" data-wait="{seconds}"' in row[: row.index("</tr>")]


def test_a_resolved_tickets_wait_stops(agent_client, session):
    ticket = add_ticket(session, TicketKind.VOICEMAIL, age_minutes=90, status=TicketStatus.RESOLVED)
    ticket.resolved_at = ticket.created_at + timedelta(minutes=10)
    session.commit()
    page = agent_client.get(f"/console/tickets/{ticket.id}").get_data(as_text=True)
    assert 'class="wait wait-ok" data-wait="600"' in page and "data-running" not in page
    assert utcnow() - ticket.created_at > timedelta(minutes=60)

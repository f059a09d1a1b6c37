"""An agent's SMS typed in quiet hours waits for the morning, like every message nobody just asked for."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from dispatch.models import MessageStatus
from tests.console.helpers import console_post, sign_in
from tests.helpers import outbound_to, run_jobs

PHONE = "+8613800138000"
LATE_EVENING = datetime(2026, 3, 10, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai
NEXT_MORNING = datetime(2026, 3, 11, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai


@pytest.fixture
def settings_overrides():
    return {"QUIET_HOURS": "21:00-08:00"}


def test_a_text_sent_at_night_waits_for_eight_in_the_morning(app, agent, people, session, runtime):
    worker = people.worker(PHONE)
    with time_machine.travel(LATE_EVENING, tick=False):
        client = app.test_client()
        sign_in(client, agent.username)  # inside the travel: a session cookie from the future is refused
        response = console_post(
            client, f"/console/people/workers/{worker.id}/sms", {"text": "明早来大厅"}, follow_redirects=True
        )
        assert "现在是免打扰时段，短信将于3月11日 周三 08:00发出。" in response.get_data(as_text=True)
        [message] = outbound_to(session, PHONE)
        assert message.status == MessageStatus.PENDING and message.send_after == NEXT_MORNING
        run_jobs(runtime)
        assert list(runtime.transport.sent) == []  # scheduled, not sent

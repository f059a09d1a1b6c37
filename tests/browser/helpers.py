"""Browser test helpers: signing in through the real form, posting a signed webhook to the live server."""

from __future__ import annotations

import urllib.parse
import urllib.request

from playwright.sync_api import Page, expect

from tests.console.helpers import PASSWORD
from tests.helpers import inbound_params, sign


def sign_in(page: Page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Open a console page, get sent to the sign-in form, fill it in, land on the queue."""
    page.goto(f"{base_url}/console/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{base_url}/console/tickets/")


def post_webhook(base_url: str, path: str, params: dict[str, str]) -> int:
    """POST a form to the live server as Twilio would, signed over the full URL it requests."""
    url = base_url + path
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(params).encode(),
        headers={"X-Twilio-Signature": sign(url, params)},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def text_in(base_url: str, body: str, sender: str) -> None:
    """An inbound SMS from `sender`, delivered to the live server over HTTP."""
    assert post_webhook(base_url, "/sms/inbound", inbound_params(body, sender)) == 200

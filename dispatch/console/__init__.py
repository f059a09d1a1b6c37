"""The agent console: sign-in, the queue page, phone intake, counter registration, people, jobs,
follow-ups, wage cases and reports.

One blueprint at /console with a sub-blueprint per area (tickets, intake, people, jobs, followups,
cases, reports, phone); each area keeps the fixed file names (views.py, services.py, templates/).
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, request

from dispatch.console import i18n
from dispatch.console.auth import SESSION_LIFETIME
from dispatch.console.csrf import check_csrf, csrf_token
from dispatch.console.guards import refuse_odd_input, web_url
from dispatch.console.tickets.summaries import ticket_summary

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
# Scripts, styles and fetches from this origin only (no inline script, style or eval: htmx is told so in
# base.html); recordings may be played from Twilio (https); no framing, plugins or foreign form targets.
# The softphone (Twilio's Voice SDK) talks to Twilio over secure websockets and fetches its ringtones.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; connect-src 'self' https://*.twilio.com wss://*.twilio.com; "
    "media-src 'self' https:; frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'"
)
HSTS = "max-age=31536000"


def security_headers(response: Response) -> Response:
    """The console's (and the simulator's) headers, set here only: the pages carry names and numbers,
    so no page is stored by the browser or a proxy; the static files (no personal data) may be cached."""
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    if request.is_secure:  # https here or at a proxy that says so (gunicorn's forwarded_allow_ips)
        headers["Strict-Transport-Security"] = HSTS
    if not (request.endpoint or "").endswith(".static"):
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
    return response


bp.before_request(refuse_odd_input)  # these run for the sub-blueprints too
bp.before_request(check_csrf)
bp.after_request(security_headers)

# The routes, attached once at import (a blueprint cannot change after an app registered it).
from dispatch.console import views  # noqa: E402, F401
from dispatch.console.cases.views import bp as cases_bp  # noqa: E402
from dispatch.console.floor.views import bp as floor_bp  # noqa: E402
from dispatch.console.followups.views import bp as followups_bp  # noqa: E402
from dispatch.console.hall.views import bp as hall_bp  # noqa: E402
from dispatch.console.intake.views import bp as intake_bp  # noqa: E402
from dispatch.console.jobs.views import bp as jobs_bp  # noqa: E402
from dispatch.console.outreach.views import bp as outreach_bp  # noqa: E402
from dispatch.console.people.views import bp as people_bp  # noqa: E402
from dispatch.console.phone.views import bp as phone_bp  # noqa: E402
from dispatch.console.reports.views import bp as reports_bp  # noqa: E402
from dispatch.console.tickets.views import bp as tickets_bp  # noqa: E402

for _child in (
    tickets_bp,
    intake_bp,
    people_bp,
    jobs_bp,
    followups_bp,
    cases_bp,
    reports_bp,
    floor_bp,
    phone_bp,
    hall_bp,
    outreach_bp,
):
    bp.register_blueprint(_child)


def register_console(app: Flask) -> None:
    app.register_blueprint(bp)
    app.config["PERMANENT_SESSION_LIFETIME"] = SESSION_LIFETIME
    # The session ends SESSION_LIFETIME after sign-in however busy the agent is, so the cookie is
    # written only when the session changes. Rewritten on every response, a poll that left before a
    # form's POST and came back after it put back the cookie it was sent with: the POST's flash lost.
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["ticket_summary"] = ticket_summary
    app.jinja_env.filters["web_url"] = web_url
    i18n.install(app)

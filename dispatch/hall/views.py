"""The public pages: the hall's big screen and its JSON, the job list for phones and a page per job.

No sign-in and nothing personal on any of them, so they may be cached for a few seconds (the screens of
every hall poll the same answer); the screen keeps showing its last good answer when the database is away.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, url_for
from sqlalchemy.exc import SQLAlchemyError

from dispatch.clock import utcnow
from dispatch.console import HSTS
from dispatch.console.guards import parse_page
from dispatch.hall import listing, screen
from dispatch.hall.listing import JobState
from dispatch.hall.screen_cache import Answer, LastGood
from dispatch.hall.screen_qr import qr_svg
from dispatch.i18n import DEFAULT_LANGUAGE, LANGUAGES, market_zone, translate
from dispatch.models import SiteLevel
from dispatch.phones import display
from dispatch.runtime import Runtime

bp = Blueprint(
    "hall_public",
    __name__,
    template_folder="templates",
    static_folder="static/hall",
    static_url_path="/hall/static",
)
# Scripts, styles and polls from this origin only: no inline script or style (the QR code is inline SVG
# markup, which is neither); no framing, plugins or foreign form targets.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'"
)
POLL_SECONDS = 5  # the screen asks for its jobs this often
ROTATE_SECONDS = 12  # and shows each page of a long list this long
ROWS_PER_PAGE = 6  # rows of large type that fit between the header and the footer
PAGE_MAX_AGE = 10  # seconds a page may be cached (the screen polls at once anyway)
JSON_MAX_AGE = 4  # under the poll interval, so that a cached answer is never two polls old

KEPT_ARGS = ("trade", "town", "page")  # what the language switch keeps of the list's query
SCREENS = "dispatch.hall.screens"  # the app's LastGood of screen answers (one per web process)


def _runtime() -> Runtime:
    return current_app.extensions["dispatch.runtime"]


@bp.after_request
def public_headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    if request.is_secure:  # https here or at a proxy that says so, as for the console
        headers["Strict-Transport-Security"] = HSTS
    return response


def _screen(code: str | None) -> Answer[dict[str, Any]] | None:
    """The site's screen (the district's when `code` is None), from memory when fresh or the database
    is away; None for a site that does not exist."""
    if code is not None and not screen.well_formed(code):
        return None
    runtime = _runtime()
    settings = runtime.settings

    def read() -> dict[str, Any] | None:
        with runtime.db.transaction() as db:
            return screen.board(db, settings, code, utcnow(), _shown_number())

    screens: LastGood[dict[str, Any]] = current_app.extensions.setdefault(SCREENS, LastGood())
    return screens.get(code or "", read)


def _shown_number() -> str:
    """The market's number as people read it (national format), or nothing when none is set."""
    number = screen.market_number(_runtime().settings)
    return display(number) if number else ""


def _unavailable_json() -> tuple[Response, int]:
    response = jsonify(stale=True, jobs=[])
    response.headers["Cache-Control"] = "no-store"
    return response, 503


@bp.get("/screen/jobs.json", defaults={"code": None})
@bp.get("/screen/<code>/jobs.json")
def screen_json(code: str | None):
    """The screen's open jobs as JSON (both languages), with an ETag; stale when the database is away."""
    try:
        answer = _screen(code)
    except SQLAlchemyError:
        return _unavailable_json()
    if answer is None:
        return jsonify(error="not found"), 404
    value = answer.value
    head = {
        "site": value["site"]["code"],
        "stale": answer.stale,
        "as_of": answer.at.astimezone(market_zone(_runtime().settings)).isoformat(timespec="seconds"),
    }
    # The jobs spliced in as serialised at the read (the head's closing brace makes room for them).
    body = json.dumps(head, ensure_ascii=False)[:-1] + ',"jobs":' + value["jobs_json"] + "}"
    response = Response(body, mimetype="application/json")
    tag = value["tag"] + ("-stale" if answer.stale else "")
    response.set_etag(tag)
    # A stale answer is only for this screen, now: nothing between may keep it once the database is back.
    response.headers["Cache-Control"] = "no-cache" if answer.stale else f"public, max-age={JSON_MAX_AGE}"
    return response.make_conditional(request)


@bp.get("/screen", defaults={"code": None})
@bp.get("/screen/<code>")
def screen_page(code: str | None):
    """The big screen of the district or of a town or village station and its villages."""
    try:
        answer = _screen(code)
    except SQLAlchemyError:
        # Never answered since this process started, and the database is away: an empty screen that
        # polls, and reloads itself once an answer comes (a TV switched on during an outage recovers).
        site = {"code": code or "", "level": "", "name": {language: "" for language in LANGUAGES}}
        response = _screen_response(site, code, [], stale=True, waiting=True)
        response.status_code = 503
        response.headers["Cache-Control"] = "no-store"
        return response
    if answer is None:
        abort(404)
    return _screen_response(answer.value["site"], code, answer.value["jobs"], answer.stale, waiting=False)


def _screen_response(
    site: dict[str, Any], code: str | None, jobs: list[dict[str, Any]], stale: bool, waiting: bool
) -> Response:
    list_code = None if site["level"] == SiteLevel.DISTRICT.value or not code else site["code"]
    list_url = _absolute(url_for("hall_public.job_list", town=list_code))
    settings = _runtime().settings
    response = Response(
        render_template(
            "hall/screen.html",
            site=site,
            jobs=jobs,
            stale=stale,
            waiting=waiting,
            number=_shown_number(),
            qr=qr_svg(list_url),
            list_url=list_url,
            json_url=url_for("hall_public.screen_json", code=code),
            zone=settings.MARKET_TIMEZONE,
            poll_seconds=POLL_SECONDS,
            rotate_seconds=ROTATE_SECONDS,
            rows_per_page=ROWS_PER_PAGE,
            tr=translate,
        )
    )
    response.headers["Cache-Control"] = f"public, max-age={PAGE_MAX_AGE}"
    return response


def _absolute(path: str) -> str:
    base = _runtime().settings.PUBLIC_BASE_URL.rstrip("/") or request.url_root.rstrip("/")
    return base + path


def _language() -> str:
    chosen = request.args.get("lang", "")
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def _lang_arg(language: str) -> str | None:
    """`lang` in a link: none for the default language, so each page has one address to share."""
    return None if language == DEFAULT_LANGUAGE else language


def _other_language_url(language: str, **args: Any) -> str:
    """The same page in the other language (Chinese carries no `lang`: it is the default)."""
    other = "zh" if language == "en" else "en"
    kept: dict[str, Any] = {key: value for key in KEPT_ARGS if (value := request.args.get(key))}
    kept["lang"] = _lang_arg(other)
    assert request.endpoint is not None
    return url_for(request.endpoint, **args, **kept)


def _title(row: dict[str, Any] | None, language: str, code: str, number: str) -> tuple[str, str]:
    """The page's title and description (also its Open Graph preview in a chat group)."""
    if row is None:
        return translate("hall.job.unknown_title", language), translate("hall.job.unknown", language)
    text = row["text"][language]
    title = translate("hall.job.title", language, trade=text["trade"], when=text["when"], pay=text["pay"])
    description = translate(
        "hall.job.description", language, place=text["place"], left=text["left"], code=code, number=number
    )
    return title, description


def _links(number: str, code: str) -> dict[str, str]:
    return {"sms": f"sms:{number}?body={quote('1 ' + code)}", "tel": f"tel:{number}"} if number else {}


@bp.get("/jobs")
def job_list():
    """The open jobs for a phone: by trade and town, soonest first, a page at a time."""
    runtime = _runtime()
    settings = runtime.settings
    language = _language()
    now = utcnow()
    with runtime.db.transaction() as db:
        found = listing.job_list(
            db,
            settings,
            now,
            request.args.get("trade"),
            request.args.get("town"),
            parse_page(request.args.get("page")),
        )
        number, shown = screen.market_number(settings), _shown_number()
        rows = [(job, screen.public_row(settings, job, now, shown)) for job in found.jobs]
        body = render_template(
            "hall/jobs_list.html",
            found=found,
            rows=rows,
            lang=language,
            number=shown,
            links={job.code: _links(number, job.code or "") for job in found.jobs},
            other_language_url=_other_language_url(language),
            tr=translate,
        )
    response = Response(body)
    response.headers["Cache-Control"] = f"public, max-age={PAGE_MAX_AGE}"
    return response


@bp.get("/j/<code>")
def job_page(code: str):
    """One job, to share in a group: what it is and how to take it; a filled or closed job says so."""
    runtime = _runtime()
    settings = runtime.settings
    language = _language()
    now = utcnow()
    number, shown = screen.market_number(settings), _shown_number()
    with runtime.db.transaction() as db:
        found = listing.job_by_code(db, settings, code, now)
        job, state = found if found is not None else (None, None)
        row = screen.public_row(settings, job, now, shown) if job is not None else None
        title, description = _title(row, language, code, shown)
        body = render_template(
            "hall/jobs_one.html",
            job=job,
            state=state,
            JobState=JobState,
            row=row,
            title=title,
            description=description,
            other_language_url=_other_language_url(language, code=code),
            lang=language,
            number=shown,
            links=_links(number, code) if job is not None else {},
            page_url=_absolute(url_for("hall_public.job_page", code=code, lang=_lang_arg(language))),
            list_url=url_for("hall_public.job_list", lang=_lang_arg(language)),
            tr=translate,
        )
    response = Response(body, 404 if job is None else 200)
    response.headers["Cache-Control"] = f"public, max-age={PAGE_MAX_AGE}"
    return response

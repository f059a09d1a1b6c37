"""What the public may see of the open jobs: the query the screen and the job list share, and a job as
the public reads it, in Chinese and English.

A job is shown while it still takes workers (open or escalated, places left) and a working day of it has
not begun. What is shown is what the offer SMS already tells anyone it reaches: the trade, the site's
name, the date and start, the pay, the places left and the code. Never the employer (name, number,
street address) nor the job's notes (typed by people: they may carry a number), nor any worker.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, joinedload

from dispatch.catalogue import trade_short_name
from dispatch.i18n import LANGUAGES, market_zone, translate
from dispatch.matching.in_time import next_start
from dispatch.matching.services import TAKING
from dispatch.models import Job, Site, SiteLevel
from dispatch.settings import Settings

# Site, trade and job codes are short ASCII; anything else in a URL is refused before the database sees
# it (PostgreSQL refuses NUL in text: a probe must get a 404, not a 500).
CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")
MOST_SHOWN = 300  # a screen pages through at most this many jobs (a busy day has a few dozen)


def well_formed(code: str | None) -> bool:
    return code is not None and CODE.fullmatch(code) is not None


def site_by_code(session: Session, code: str | None) -> Site | None:
    """The site of a URL's code; None for a malformed or unknown code."""
    if not well_formed(code):
        return None
    return session.scalar(select(Site).where(Site.code == code))


def district(session: Session) -> Site | None:
    return session.scalar(select(Site).where(Site.level == SiteLevel.DISTRICT).order_by(Site.id))


def subtree_ids(session: Session, site: Site) -> set[int]:
    """The site and every site below it (a town's villages)."""
    children: dict[int | None, list[int]] = {}
    for site_id, parent_id in session.execute(select(Site.id, Site.parent_id)):
        children.setdefault(parent_id, []).append(site_id)
    found, frontier = set(), [site.id]
    while frontier:
        site_id = frontier.pop()
        if site_id not in found:
            found.add(site_id)
            frontier.extend(children.get(site_id, []))
    return found


def open_jobs(
    session: Session,
    settings: Settings,
    now: datetime,
    site_ids: set[int] | None = None,
    trade_id: int | None = None,
    limit: int = MOST_SHOWN,
    offset: int = 0,
) -> list[Job]:
    """Jobs a person reading the screen could still take, by first day and start; `site_ids` None:
    everywhere. A job stays while its last working day has not begun (in_time.next_start is not None):
    a job of several days is still offered for the days ahead."""
    local = now.astimezone(market_zone(settings))
    last_start_ahead = or_(
        Job.end_date > local.date(),
        and_(Job.end_date == local.date(), Job.start_time > local.time().replace(tzinfo=None)),
    )
    query = (
        select(Job)
        .where(Job.status.in_(TAKING), Job.filled < Job.headcount, last_start_ahead)
        .options(joinedload(Job.trade), joinedload(Job.site).joinedload(Site.parent))
        .order_by(Job.work_date, Job.start_time, Job.id)
        .offset(offset)
        .limit(limit)
    )
    if site_ids is not None:
        query = query.where(Job.site_id.in_(site_ids))
    if trade_id is not None:
        query = query.where(Job.trade_id == trade_id)
    return list(session.scalars(query))


def place_name(site: Site, language: str) -> str:
    """Street level: a village station with its town (`东街 · 南关村`), a town or street by its name."""
    if site.level == SiteLevel.VILLAGE and site.parent is not None:
        town, village = site.parent, site
        return translate(
            "hall.place.village", language, town=_short(town, language), village=_short(village, language)
        )
    return site.name(language)


def _short(site: Site, language: str) -> str:
    """What people call a place (太行西街 for 太行西街街道): a village's full name is long for a screen."""
    if language == "en":
        return site.name_en
    return site.aliases[0] if site.aliases else site.name_zh


def when_text(local: datetime, today: date, language: str) -> str:
    """A start in market time as the reader sees it: `今天 08:00`, `明天 07:30`, `12月9日 周三 08:00`."""
    ahead = (local.date() - today).days
    clock = local.strftime("%H:%M")
    if ahead in (0, 1, 2):
        day = translate(f"hall.when.day_{ahead}", language)
    else:
        weekday = translate(f"hall.when.weekday_{local.weekday()}", language)
        month = translate(f"hall.when.month_{local.month}", language)
        day = translate("hall.when.date", language, month=month, day=local.day, weekday=weekday)
    return translate("hall.when.at", language, day=day, clock=clock)


def public_row(settings: Settings, job: Job, now: datetime, number: str) -> dict[str, Any]:
    """One job as the screen's JSON carries it: each text in every language, nothing about a person.
    `when` is the next start a newcomer would work, `days` the working days from it to the last."""
    zone = market_zone(settings)
    start = next_start(settings, job, now) or datetime.combine(job.work_date, job.start_time, tzinfo=zone)
    local = start.astimezone(zone)
    today = now.astimezone(zone).date()
    days = (job.end_date - local.date()).days + 1
    texts: dict[str, dict[str, str]] = {}
    for language in LANGUAGES:
        fields = {"code": job.code or "", "number": number, "count": job.remaining, "days": days}
        texts[language] = {
            "trade": trade_short_name(job.trade, language),
            "place": place_name(job.site, language),
            "when": when_text(local, today, language),
            "days": translate("hall.row.days", language, **fields),
            "pay": translate("hall.row.pay", language, amount=job.daily_pay),
            "left": translate("hall.row.left", language, **fields),
            "take": translate("hall.row.take", language, **fields),
        }
    return {"code": job.code or "", "left": job.remaining, "text": texts}


def board(
    session: Session, settings: Settings, code: str | None, now: datetime, number: str
) -> dict[str, Any] | None:
    """What a site's screen shows (the district's when `code` is None), or None for no such site: the
    site's names and its open jobs, also serialised once (every screen polling it gets these bytes) with
    the digest its ETag is."""
    site = district(session) if code is None else site_by_code(session, code)
    if site is None:
        return None
    site_ids = None if site.level == SiteLevel.DISTRICT else subtree_ids(session, site)
    jobs = [public_row(settings, job, now, number) for job in open_jobs(session, settings, now, site_ids)]
    jobs_json = json.dumps(jobs, ensure_ascii=False, separators=(",", ":"))
    return {
        "site": {
            "code": site.code,
            "level": site.level.value,
            "name": {language: site.name(language) for language in LANGUAGES},
        },
        "jobs": jobs,
        "jobs_json": jobs_json,
        "tag": hashlib.sha256(jobs_json.encode()).hexdigest()[:32],
    }


def market_number(settings: Settings) -> str:
    """The number people text and call (E.164); the simulator's on a first run with none set."""
    number = settings.MARKET_NUMBER or settings.TWILIO_FROM_NUMBER
    if not number and settings.is_first_run:
        from dispatch.sim.services import SERVICE_NUMBER

        number = SERVICE_NUMBER
    return number

"""Demo data for a first run: a few hundred workers, some employers and a demo agent (development only).

Everything is derived from a fixed random seed and keyed by phone number (and username), so seeding
again adds only what is missing and changes nothing else. The numbers are made up: the demo refuses to
run where texts could really be sent (production, or the Twilio transport).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.console.agents import create_agent
from dispatch.db import Database
from dispatch.models import (
    Agent,
    AgentRole,
    Contact,
    Employer,
    EmployerStatus,
    RegisteredVia,
    Site,
    SiteLevel,
    Trade,
    Worker,
)
from dispatch.settings import Settings, SettingsError
from dispatch.workers import services as workers
from dispatch.workers.services import Skill, WorkerDetails

log = logging.getLogger(__name__)

SEED = 20261204
WORKERS = 300
EMPLOYERS = 12
WORKER_PHONE = "+86139{:08d}"  # +8613900000001 ...: made-up numbers, never texted for real
EMPLOYER_PHONE = "+86136{:08d}"
AGENT_USERNAME = "demo"
# Printed by `dispatch demo` and the README: a production console refuses this sign-in (console/auth.py).
AGENT_PASSWORD = "lingong-demo"
AGENT_SITE = "LZ"

# Trade code -> (how common among workers, lowest and highest daily pay floor in yuan).
TRADE_MIX = {
    "general_labourer": (20, 150, 220),
    "porter": (14, 180, 260),
    "cleaner": (14, 130, 200),
    "plumber_electrician": (8, 250, 380),
    "bricklayer": (8, 250, 350),
    "carpenter": (6, 250, 350),
    "painter": (6, 220, 320),
    "courier": (8, 150, 250),
    "farmhand": (8, 120, 180),
    "welder": (4, 280, 400),
    "fitter": (3, 260, 380),
    "student_part_time": (5, 100, 150),
}
OTHER_TRADE = (5, 150, 250)  # a trade a market added to trades.toml
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡"
    "贾丁魏薛叶余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟段雷钱汤尹常武乔贺"
)
# Given names, two characters each.
GIVEN_NAMES = (
    "建国国强志强海波红梅秀英丽娟俊杰春生德胜玉兰桂英永刚晓东文华金凤振华宏伟淑珍明亮小军建军卫东爱华"
    "秀兰凤英二虎铁柱守成长青新民保国金花翠萍立新福生满仓晓燕海燕志明浩然子涵雨轩佳怡梓萱宇航思远"
)
EMPLOYER_NAMES = [
    ("王记装修", "LZ-TX", "太行西街88号"),
    ("城东物业", "LZ-DJ", "东街12号院"),
    ("潞州快递分拣站", "LZ-CB", "长北物流园3号库"),
    ("李师傅家政", "LZ-YZ", "英雄中路45号"),
    ("紫金建材城", "LZ-ZJ", "紫金西街建材城B区"),
    ("老顶山果园", "LZ-LDS", "关村东口"),
    ("常青小区业委会", "LZ-CQ", "常青小区物业楼"),
    ("马厂蔬菜基地", "LZ-MC", "马厂村南大棚"),
    ("西街搬家公司", "LZ-XJ", "西街菜市场北"),
    ("延安路餐饮店", "LZ-YA", "延安南路102号"),
    ("黄碾机修厂", "LZ-HN", "黄碾镇工业路7号"),
    ("大辛庄养殖场", "LZ-DXZ", "大辛庄村西"),
]
ENGLISH_SHARE = 0.04  # a few workers read English texts


class DemoRefused(RuntimeError):
    """Demo data is for a development first run only."""


@dataclass(frozen=True)
class DemoAgent:
    username: str
    password: str
    created: bool


def check_allowed(settings: Settings) -> None:
    if settings.is_production:
        raise DemoRefused("demo data is never seeded with DISPATCH_ENV=production")
    if not settings.is_first_run:
        # Its numbers are made up and its agent's password is printed: only where nothing is real.
        raise DemoRefused(
            "demo data needs SMS_TRANSPORT=outbox and no PUBLIC_BASE_URL: its phone numbers are made up"
        )


def find_demo_data(session: Session) -> list[str]:
    """What of the demo is in this database: its agent (unless disabled), workers (made-up numbers, marked
    "demo") and employers; an empty list if none."""
    found = []
    agent = select(Agent.id).where(func.lower(Agent.username) == AGENT_USERNAME, Agent.active.is_(True))
    if session.scalar(agent) is not None:
        found.append(f"the demo agent {AGENT_USERNAME!r}")
    workers = session.scalar(
        select(func.count()).where(Worker.phone.in_(worker_phones()), Worker.notes == "demo")
    )
    if workers:
        found.append(f"{workers} demo workers")
    names = [name for name, _, _ in EMPLOYER_NAMES]
    employers = session.scalar(
        select(func.count()).where(Employer.phone.in_(employer_phones()), Employer.name.in_(names))
    )
    if employers:
        found.append(f"{employers} demo employers")
    return found


def refuse_demo_data_in_production(database: Database, settings: Settings) -> None:
    """Production must not start on a database with demo data: offers would go to its made-up numbers,
    and its agent's password is public. A database that cannot be reached is let through (with a
    warning): the service must start during an outage to keep webhooks on disk."""
    if not settings.is_production:
        return
    try:
        with database.transaction() as session:
            found = find_demo_data(session)
    except SQLAlchemyError as exc:
        log.warning("could not look for demo data at start-up: %s", type(exc).__name__)
        return
    if found:
        raise SettingsError(
            f"production refuses a database with demo data ({', '.join(found)}): the demo is for a first "
            "run only; give production a database of its own (the demo agent alone: "
            f"`dispatch agents disable {AGENT_USERNAME}`)"
        )


def seed_demo(
    session: Session, settings: Settings, workers: int = WORKERS, employers: int = EMPLOYERS
) -> dict[str, int]:
    """Add the demo workers, employers and agent that are missing; the sites and trades must be seeded."""
    check_allowed(settings)
    sites = list(session.scalars(select(Site).where(Site.level != SiteLevel.DISTRICT).order_by(Site.code)))
    trades = list(session.scalars(select(Trade).order_by(Trade.code)))
    if not sites or not trades:
        raise DemoRefused("seed the sites and trades first (`dispatch seed`)")
    counts = {"workers_created": 0, "workers_existing": 0, "employers_created": 0, "employers_existing": 0}
    _add_workers(session, sites, trades, workers, counts)
    _add_employers(session, employers, counts)
    agent = ensure_agent(session)
    counts["agent_created"] = int(agent.created)
    session.flush()
    return counts


def worker_phones(count: int = WORKERS) -> list[str]:
    return [WORKER_PHONE.format(n) for n in range(1, count + 1)]


def employer_phones(count: int = EMPLOYERS) -> list[str]:
    return [EMPLOYER_PHONE.format(n) for n in range(1, count + 1)]


def _existing(session: Session, column, phones: list[str]) -> set[str]:
    return set(session.scalars(select(column).where(column.in_(phones))))


def _add_workers(
    session: Session, sites: list[Site], trades: list[Trade], count: int, counts: dict[str, int]
) -> None:
    # One generator for all of them, drawn in the same order every time: worker n is always the same.
    rng = random.Random(SEED)
    phones = worker_phones(count)
    existing = _existing(session, Worker.phone, phones)
    trade_weights = [TRADE_MIX.get(trade.code, OTHER_TRADE)[0] for trade in trades]
    # Towns are busier than village stations.
    site_weights = [3 if site.level == SiteLevel.TOWN else 2 for site in sites]
    now = utcnow()
    for phone in phones:
        given = rng.randrange(len(GIVEN_NAMES) // 2) * 2
        name = rng.choice(SURNAMES) + GIVEN_NAMES[given : given + 2]
        how_many = rng.choices([1, 2, 3], weights=[6, 3, 1])[0]
        chosen: list[Trade] = []
        while len(chosen) < how_many:
            trade = rng.choices(trades, weights=trade_weights)[0]
            if trade not in chosen:
                chosen.append(trade)
        _, low, high = TRADE_MIX.get(chosen[0].code, OTHER_TRADE)
        pay = rng.randrange(low, high + 1, 10)
        site = rng.choices(sites, weights=site_weights)[0]
        years = [rng.randint(0, 20) for _ in chosen]
        reviews = rng.randint(0, 12)
        stars = sum(rng.randint(3, 5) for _ in range(reviews))
        worked = rng.randint(0, 40)
        no_shows = rng.choices([0, 1, 2, 3], weights=[12, 4, 2, 1])[0]
        registered = now - timedelta(days=rng.randint(1, 400))
        english = rng.random() < ENGLISH_SHARE
        if phone in existing:
            counts["workers_existing"] += 1
            continue
        details = WorkerDetails(
            phone=phone,
            trades=tuple(Skill(trade.id, year) for trade, year in zip(chosen, years, strict=True)),
            home_site_id=site.id,
            min_daily_pay=pay,
            name=name,
            notes="demo",
        )
        # Registered (and consenting) some time ago, with the history the ranking reads.
        worker = workers.register(session, details, RegisteredVia.COUNTER, consent=True, now=registered)
        worker.created_at = registered
        worker.rating_sum, worker.rating_count = stars, reviews
        worker.placements_worked, worker.no_shows = worked, no_shows
        if english and session.scalar(select(Contact.id).where(Contact.phone == phone)) is None:
            session.add(Contact(phone=phone, language="en"))
        counts["workers_created"] += 1
    session.flush()


def _add_employers(session: Session, count: int, counts: dict[str, int]) -> None:
    phones = employer_phones(count)
    existing = _existing(session, Employer.phone, phones)
    sites = {site.code: site for site in session.scalars(select(Site))}
    for index, phone in enumerate(phones):
        name, site_code, address = EMPLOYER_NAMES[index % len(EMPLOYER_NAMES)]
        if phone in existing:
            counts["employers_existing"] += 1
            continue
        site = sites.get(site_code)
        session.add(
            Employer(
                phone=phone,
                name=name if index < len(EMPLOYER_NAMES) else f"{name}{index // len(EMPLOYER_NAMES) + 1}",
                site_id=site.id if site is not None else None,
                address=address,
                status=EmployerStatus.ACTIVE,
            )
        )
        counts["employers_created"] += 1
    session.flush()


def ensure_agent(session: Session) -> DemoAgent:
    """The demo agent, an admin at the district market; an existing one keeps its password."""
    if session.scalar(select(Agent.id).where(Agent.username == AGENT_USERNAME)) is not None:
        return DemoAgent(AGENT_USERNAME, AGENT_PASSWORD, created=False)
    create_agent(session, AGENT_USERNAME, AGENT_PASSWORD, AgentRole.ADMIN, AGENT_SITE, "演示坐席", "zh")
    log.info("demo agent %s created", AGENT_USERNAME)
    return DemoAgent(AGENT_USERNAME, AGENT_PASSWORD, created=True)

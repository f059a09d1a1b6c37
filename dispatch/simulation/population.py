"""Putting the synthetic market into the simulation's database: sites and trades from config/*.toml
(dispatch.seed), workers through dispatch.workers as a confirmed SMS registration would (confirming
the summary is the worker's consent, so they start active), employers as the console's intake
would write them.

Registration is not part of the day being measured, so it goes through the service functions rather
than a few thousand registration texts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.catalogue import trades_in_menu_order
from dispatch.models import Employer, EmployerStatus, RegisteredVia, Site, Worker, WorkerTrade
from dispatch.seed import seed
from dispatch.simulation.market import Market, SiteInfo, TradeInfo
from dispatch.sms.services import mark_undeliverable
from dispatch.workers import services as workers
from dispatch.workers.services import Skill, WorkerDetails

LANDLINE_ERROR = 21614  # Twilio: the number is not a mobile


def load_places(session: Session, config_dir: Path) -> tuple[list[SiteInfo], list[TradeInfo]]:
    """Seed the sites and trades, and read them back as the simulation's plain records."""
    seed(session, config_dir)
    sites = [
        SiteInfo(
            id=site.id,
            code=site.code,
            level=site.level.value,
            parent_id=site.parent_id,
            number=site.number,
            name_zh=site.name_zh,
            lat=site.lat,
            lon=site.lon,
        )
        for site in session.scalars(select(Site).order_by(Site.id))
    ]
    trades = [
        TradeInfo(id=trade.id, code=trade.code, ivr_digit=trade.ivr_digit, word=_sms_word(trade.keywords))
        for trade in trades_in_menu_order(session)
    ]
    return sites, trades


def _sms_word(keywords: list[str]) -> str:
    """The trade's first Chinese keyword, the word an employer would text (`小工`, `水电工`)."""
    return next(word for word in keywords if not word.isascii())


def register(session: Session, market: Market, now: datetime) -> None:
    """Register every worker and employer of the market, with the history the ranking reads."""
    for spec in market.workers:
        details = WorkerDetails(
            phone=spec.phone,
            name=spec.name,
            home_site_id=spec.site_id,
            min_daily_pay=spec.min_pay,
            trades=tuple(Skill(trade_id, spec.years) for trade_id in spec.trade_ids),
            prefers_voice=spec.prefers_voice or None,
        )
        # As a worker who confirmed the SMS registration's summary: consent, so they start active.
        worker = workers.register(session, details, RegisteredVia.SMS, consent=True)
        worker.placements_worked = spec.placements_worked
        worker.rating_count = spec.rating_count
        worker.rating_sum = spec.rating_sum
        worker.no_shows = spec.no_shows
        if spec.last_placed_days_ago is not None:
            worker.last_placed_at = now - timedelta(days=spec.last_placed_days_ago)
        if spec.landline:  # as the carrier's 21614 (not a mobile) to a first text would have said
            mark_undeliverable(session, spec.phone, LANDLINE_ERROR)
    for employer in market.employers:
        session.add(
            Employer(
                phone=employer.phone,
                name=employer.name,
                site_id=employer.site_id,
                status=EmployerStatus.ACTIVE,
            )
        )
    session.flush()


def active_workers(session: Session) -> dict[int, tuple[str, int, int | None, tuple[int, ...]]]:
    """Worker id -> (phone, pay floor, home site, trades), for the report's fairness measures."""
    trades: dict[int, list[int]] = {}
    for worker_id, trade_id in session.execute(
        select(WorkerTrade.worker_id, WorkerTrade.trade_id).order_by(
            WorkerTrade.worker_id, WorkerTrade.trade_id
        )
    ):
        trades.setdefault(worker_id, []).append(trade_id)
    return {
        worker.id: (worker.phone, worker.min_daily_pay, worker.home_site_id, tuple(trades.get(worker.id, ())))
        for worker in session.scalars(select(Worker).order_by(Worker.id))
    }

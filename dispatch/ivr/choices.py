"""The choices both job intake and a worker's registration ask for: a trade (with a "more" page for
two-digit trades) and a place (a town by number, 0 for the last job's place, then perhaps one of the
town's village stations)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.catalogue import towns_in_number_order, trades_in_menu_order
from dispatch.ivr import prompts, services
from dispatch.ivr.turn import INVALID, TIMEOUT, Step, Turn, after, number
from dispatch.models import Site, SiteLevel, Trade
from dispatch.sms.registration import town_short_name


def spoken_trade(trade: Trade, language: str) -> str:
    return prompts.spoken(trade.name(language), language)


# -- trade (with a "more" page for two-digit trades) ---------------------------------------------


def _trade_pages(turn: Turn) -> tuple[list[Trade], list[Trade]]:
    trades = trades_in_menu_order(turn.session)
    return [t for t in trades if len(t.ivr_digit) == 1], [t for t in trades if len(t.ivr_digit) > 1]


def ask_trade(turn: Turn, retry: str) -> None:
    first, more = _trade_pages(turn)
    gather = turn.gather("trade", retry)
    turn.say(f"{turn.call.flow}_trade", gather)
    listed = [(t.ivr_digit, spoken_trade(t, turn.language)) for t in first]
    turn.say("trade_list", gather, trades=listed, more=bool(more))


def answer_trade(turn: Turn, digits: str) -> str:
    first, more = _trade_pages(turn)
    if digits == "0" and more:
        return "trade_more"
    return _pick_trade(turn, digits, first)


def ask_trade_more(turn: Turn, retry: str) -> None:
    _, more = _trade_pages(turn)
    gather = turn.gather("trade_more", retry, num_digits=None, finish_on_key="#")
    listed = [(t.ivr_digit, spoken_trade(t, turn.language)) for t in more]
    turn.say("trade_more", gather, trades=listed)


def answer_trade_more(turn: Turn, digits: str) -> str:
    if digits == "0":
        return "trade"
    first, more = _trade_pages(turn)
    return _pick_trade(turn, digits, first + more)


def _pick_trade(turn: Turn, digits: str, trades: list[Trade]) -> str:
    trade = next((t for t in trades if t.ivr_digit == digits), None)
    if trade is None:
        return INVALID if digits else TIMEOUT
    turn.keep(trade=trade.id)
    return after(turn, "trade")


# -- area: a town by number (0: where the last job was), then perhaps one of its village stations ---


def ask_area(turn: Turn, retry: str) -> None:
    gather = turn.entry("area", retry)
    turn.say(f"{turn.call.flow}_area", gather)
    if turn.call.flow == "job" and _last_site(turn) is not None:
        turn.say("area_same_as_last", gather)
    towns = [
        (town.number, town_short_name(town, turn.language)) for town in towns_in_number_order(turn.session)
    ]
    turn.say("area_list", gather, towns=towns)


def _last_site(turn: Turn) -> int | None:
    job = services.last_job(turn.session, turn.call.employer_id)
    return job.site_id if job is not None else None


def answer_area(turn: Turn, digits: str) -> str:
    if digits == "0" and turn.call.flow == "job" and (site_id := _last_site(turn)) is not None:
        turn.keep(site=site_id)
        return after(turn, "area")
    value = number(digits, 1, 999)
    if isinstance(value, str):
        return value
    town = next((t for t in towns_in_number_order(turn.session) if t.number == value), None)
    if town is None:
        return INVALID
    turn.keep(site=town.id)
    return "village" if _villages(turn, town.id) else after(turn, "area")


def villages_in_menu_order(session: Session, town_id: int) -> list[Site]:
    """A town's village stations in the order the village step reads them (key 1, 2, ...)."""
    query = select(Site).where(Site.parent_id == town_id, Site.level == SiteLevel.VILLAGE).order_by(Site.id)
    return list(session.scalars(query))


def site_keys(session: Session) -> dict[int, str]:
    """What a caller keys for each place: a town its number (`8`), a village station its town's number
    and then its place in the town's list (`8-2`: 8 #, then 2). The console's site picker shows these,
    so an agent and the IVR teach a caller the same numbers."""
    keys: dict[int, str] = {}
    for town in towns_in_number_order(session):
        keys[town.id] = str(town.number)
        for index, village in enumerate(villages_in_menu_order(session, town.id), 1):
            keys[village.id] = f"{town.number}-{index}"
    return keys


def _villages(turn: Turn, town_id: int) -> list[Site]:
    return villages_in_menu_order(turn.session, town_id)


def ask_village(turn: Turn, retry: str) -> None:
    town = turn.session.get(Site, int(turn.call.answers["site"]))
    assert town is not None
    villages = _villages(turn, town.id)
    listed = [(i, town_short_name(village, turn.language)) for i, village in enumerate(villages, 1)]
    turn.say("village_list", turn.gather("village", retry), town=town.name(turn.language), villages=listed)


def answer_village(turn: Turn, digits: str) -> str:
    """A village station by its place in the list; # (or silence) keeps the town itself."""
    site = turn.session.get(Site, int(turn.call.answers.get("site", 0)))
    if site is None or site.level != SiteLevel.TOWN:
        return after(turn, "area")  # not a town any more (an agent moved it): nothing to choose
    villages = _villages(turn, site.id)
    if digits and digits != "#":
        value = number(digits, 1, len(villages))
        if isinstance(value, str):
            return value
        turn.keep(site=villages[value - 1].id)
    return after(turn, "area")


STEPS = {
    "trade": Step(ask_trade, answer_trade),
    "trade_more": Step(ask_trade_more, answer_trade_more),
    "area": Step(ask_area, answer_area),
    "village": Step(ask_village, answer_village),
}

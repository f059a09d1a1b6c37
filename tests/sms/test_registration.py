"""Registering a worker by SMS: the dialogue, the one-shot form, retries, restarts, phone formats."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import func, select

from dispatch import create_app
from dispatch.i18n import render_sms as render
from dispatch.models import (
    Conversation,
    Message,
    RegisteredVia,
    Site,
    Ticket,
    TicketKind,
    TicketStatus,
    Worker,
    WorkerStatus,
)
from dispatch.settings import PROJECT_ROOT
from tests.conftest import build_runtime
from tests.helpers import outbound_to, text_in

PHONE = "+8613800138000"


def _config(name: str, kind: str) -> list[dict[str, Any]]:
    with (PROJECT_ROOT / "config" / name).open("rb") as file:
        return tomllib.load(file)[kind]


TRADES = _config("trades.toml", "trade")
TOWNS = [site for site in _config("sites.toml", "site") if site["level"] == "town"]


def sig(runtime, language: str) -> str:
    settings = runtime.settings
    return settings.SMS_SIGNATURE_EN if language == "en" else settings.SMS_SIGNATURE_ZH


def ask_trade(runtime, language: str = "zh", retry: bool = False) -> str:
    if language == "en":  # each trade by its first English keyword, to fit one GSM-7 segment
        trades = [(t["ivr_digit"], next(k for k in t["keywords"] if k.isascii())) for t in TRADES]
    else:
        trades = [(t["ivr_digit"], t["name_zh"]) for t in TRADES]
    return render("reg_ask_trade", language, sig=sig(runtime, language), retry=retry, trades=trades)


def ask_area(runtime, language: str = "zh", retry: bool = False) -> str:
    key = "name_en" if language == "en" else "aliases"
    towns = [(town["number"], town[key] if language == "en" else town[key][0]) for town in TOWNS]
    return render("reg_ask_area", language, sig=sig(runtime, language), retry=retry, towns=towns)


def ask(runtime, step: str, language: str = "zh", retry: bool = False) -> str:
    return render(f"reg_ask_{step}", language, sig=sig(runtime, language), retry=retry)


def summary(runtime, name, trade_names, area, pay, language="zh", retry=False) -> str:
    return render(
        "reg_ask_confirm",
        language,
        sig=sig(runtime, language),
        retry=retry,
        name=name,
        trade_names=trade_names,
        area=area,
        pay=pay,
    )


def done(runtime, language: str = "zh") -> str:
    return render("reg_done", language, sig=sig(runtime, language))


def say(client, session, body: str, sender: str = PHONE, phone: str = PHONE) -> str:
    """Text `body` and return the one reply it got."""
    before = len(outbound_to(session, phone))
    text_in(client, body, sender=sender)
    replies = outbound_to(session, phone)
    assert len(replies) == before + 1, [m.body for m in replies[before:]]
    return replies[-1].body


def site_name(session, code: str, language: str) -> str:
    return session.scalar(select(Site).where(Site.code == code)).name(language)


def workers(session) -> list[Worker]:
    session.expire_all()
    return list(session.scalars(select(Worker).order_by(Worker.id)))


def conversation(session, phone: str = PHONE) -> Conversation | None:
    session.expire_all()
    return session.scalar(select(Conversation).where(Conversation.phone == phone))


# -- the prompts ----------------------------------------------------------------------------------


def test_prompts_list_the_configured_trades_and_towns(runtime) -> None:
    trade_prompt = ask_trade(runtime)
    assert trade_prompt == (
        "【潞州零工】请回复工种编号：1小工/力工 2搬运 3保洁 4水电工 5瓦工 6木工 7油漆工 8骑手 9农活 "
        "10焊工 11钳工 12学生兼职"
    )
    assert all(f"{t['ivr_digit']}{t['name_zh']}" in trade_prompt for t in TRADES)
    area_prompt = ask_area(runtime)
    assert area_prompt.startswith("【潞州零工】您住哪个乡镇/街道？回复编号或名称：1东街 2西街 3英雄南路")
    assert area_prompt.endswith(
        "8太行西街 9常青 10长北 11故县 12老顶山 13堠北庄 14大辛庄 15马厂 16黄碾 17西白兔"
    )
    assert ask_trade(runtime, "en") == (
        "Luzhou Jobs: Your trade? 1=labourer 2=porter 3=cleaner 4=plumber 5=bricklayer 6=carpenter "
        "7=painter 8=rider 9=farm 10=welder 11=fitter 12=part-time"
    )


# -- the dialogue ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "area", "pay"),
    [
        ("注册", "太西", "三百"),
        ("登记", "8", "300元"),
        ("注册", "太行西街街道", "３００"),
        ("REG", "８", "三百元"),  # a start word in Latin letters: the first message sets English ...
        ("JOIN", "太行西街", "300元/天"),
        ("【中国移动】注册。", "太行西", "三百块钱"),
    ],
)
def test_the_dialogue_step_by_step(runtime, session, seeded, client, start, area, pay) -> None:
    text_in(client, "帮助")  # ... so the number speaks Chinese first
    assert say(client, session, start) == ask_trade(runtime)
    assert say(client, session, "1") == ask_area(runtime)
    assert say(client, session, area) == ask(runtime, "pay")
    assert say(client, session, pay) == ask(runtime, "name")
    assert say(client, session, "张三") == summary(runtime, "张三", ["小工/力工"], "太行西街街道", 300)
    assert say(client, session, "1") == done(runtime)

    [worker] = workers(session)
    assert worker.phone == PHONE
    assert worker.name == "张三"
    assert worker.home_site.code == "LZ-TX"
    assert worker.min_daily_pay == 300
    assert [wt.trade.code for wt in worker.trades] == ["general_labourer"]
    assert worker.status == WorkerStatus.ACTIVE
    assert worker.consent_at is not None
    assert worker.registered_via == RegisteredVia.SMS
    assert conversation(session) is None
    assert outbound_to(session, PHONE)[-1].worker_id == worker.id


def test_the_summary_text_itself(runtime, session, seeded, client) -> None:
    text_in(client, "注册 水电工 太西 300 张三")
    assert outbound_to(session, PHONE)[-1].body == (
        "【潞州零工】请核对：张三，水电工，太行西街街道，日薪不低于300元。回复1确认并同意接收派活短信，2重填。"
    )


def test_the_dialogue_in_english(runtime, session, seeded, client) -> None:
    assert say(client, session, "REG") == ask_trade(runtime, "en")
    assert say(client, session, "plumber") == ask_area(runtime, "en")
    assert say(client, session, "Dongjie") == ask(runtime, "pay", "en")
    assert say(client, session, "250 yuan") == ask(runtime, "name", "en")
    assert say(client, session, "Li Lei") == (
        "Luzhou Jobs: Li Lei, plumber, Dongjie Street, ¥250+/day. 1=yes, send me offers; 2=redo"
    )
    assert say(client, session, "yes") == done(runtime, "en")
    [worker] = workers(session)
    assert (worker.name, worker.home_site.code, worker.min_daily_pay) == ("Li Lei", "LZ-DJ", 250)
    assert [wt.trade.code for wt in worker.trades] == ["plumber_electrician"]


@pytest.mark.parametrize(
    ("area", "code"),
    [
        ("Taihang West Street", "LZ-TX"),
        ("taihang west", "LZ-TX"),
        ("Yan'an South Road", "LZ-YA"),
        ("Machang", "LZ-MC"),  # the town, not Machang Village Station
        ("Machang Village", "LZ-MC-MC"),
        ("6", "LZ-YA"),
    ],
)
def test_english_place_names(runtime, session, seeded, client, area, code) -> None:
    assert say(client, session, "REG plumber 300 Li") == ask_area(runtime, "en")
    assert say(client, session, area) == summary(
        runtime, "Li", ["plumber"], site_name(session, code, "en"), 300, language="en"
    )


def test_several_trades_at_once(runtime, session, seeded, client) -> None:
    text_in(client, "注册")
    assert say(client, session, "4 5 瓦工") == ask_area(runtime)  # 瓦工 is 5: counted once
    text_in(client, "太西")
    text_in(client, "300")
    assert say(client, session, "张三") == summary(runtime, "张三", ["水电工", "瓦工"], "太行西街街道", 300)
    assert say(client, session, "1 2 3 4") == summary(
        runtime, "张三", ["水电工", "瓦工"], "太行西街街道", 300, retry=True
    )


def test_one_shot_goes_straight_to_the_summary(runtime, session, seeded, client) -> None:
    assert say(client, session, "注册 水电工 太西 300 张三") == summary(
        runtime, "张三", ["水电工"], "太行西街街道", 300
    )
    assert say(client, session, "1") == done(runtime)
    [worker] = workers(session)
    assert (worker.name, worker.home_site.code, worker.min_daily_pay) == ("张三", "LZ-TX", 300)
    assert [wt.trade.code for wt in worker.trades] == ["plumber_electrician"]
    assert worker.status == WorkerStatus.ACTIVE


@pytest.mark.parametrize(
    "body",
    [
        "注册 张三 三百 太西 水电",
        "注册水电工 太西 300 张三",
        "登记 电工 太行西街 300元 张三",
        "【中国移动】注册 水电工 太西 ３００ 张三",
    ],
)
def test_one_shot_in_other_orders_and_forms(runtime, session, seeded, client, body) -> None:
    assert say(client, session, body) == summary(runtime, "张三", ["水电工"], "太行西街街道", 300)


def test_partial_one_shot_asks_only_for_what_is_missing(runtime, session, seeded, client) -> None:
    assert say(client, session, "注册 水电工 张三") == ask_area(runtime)
    assert say(client, session, "太西") == ask(runtime, "pay")
    assert say(client, session, "300") == summary(runtime, "张三", ["水电工"], "太行西街街道", 300)
    assert say(client, session, "是") == done(runtime)
    assert workers(session)[0].name == "张三"


def test_two_at_the_summary_starts_again(runtime, session, seeded, client) -> None:
    text_in(client, "注册 水电工 太西 300 张三")
    assert say(client, session, "2") == ask_trade(runtime)
    assert workers(session) == []
    assert say(client, session, "3") == ask_area(runtime)
    assert say(client, session, "5") == ask(runtime, "pay")
    assert say(client, session, "两百五") == ask(runtime, "name")
    assert say(client, session, "李四") == summary(runtime, "李四", ["保洁"], "紫金街道", 250)
    assert say(client, session, "1") == done(runtime)
    [worker] = workers(session)
    assert (worker.name, worker.home_site.code, worker.min_daily_pay) == ("李四", "LZ-ZJ", 250)
    assert [wt.trade.code for wt in worker.trades] == ["cleaner"]


# -- wrong answers --------------------------------------------------------------------------------


def test_wrong_answers_get_the_retry_prompt(runtime, session, seeded, client) -> None:
    text_in(client, "注册")
    assert say(client, session, "99") == ask_trade(runtime, retry=True)
    assert say(client, session, "厨师") == ask_trade(runtime, retry=True)
    assert say(client, session, "1") == ask_area(runtime)
    assert say(client, session, "火星") == ask_area(runtime, retry=True)
    assert say(client, session, "18") == ask_area(runtime, retry=True)
    assert say(client, session, "1") == ask(runtime, "pay")
    assert say(client, session, "很多") == ask(runtime, "pay", retry=True)
    assert say(client, session, "10") == ask(runtime, "pay", retry=True)  # not a day's wage
    assert say(client, session, "200") == ask(runtime, "name")
    assert say(client, session, "123") == ask(runtime, "name", retry=True)
    assert say(client, session, "一二三四五六七八九十一") == ask(runtime, "name", retry=True)  # too long
    assert say(client, session, "王五") == summary(runtime, "王五", ["小工/力工"], "东街街道", 200)
    assert say(client, session, "3") == summary(runtime, "王五", ["小工/力工"], "东街街道", 200, retry=True)
    assert (
        ask(runtime, "pay", retry=True)
        == "【潞州零工】请只回复数字。您每天最低要多少工钱？回复数字，如 200。"
    )
    assert say(client, session, "1") == done(runtime)
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0  # two misses a step are fine


def test_commands_in_the_middle_of_the_dialogue_do_not_break_it(runtime, session, seeded, client) -> None:
    text_in(client, "注册 水电工 太西 张三")
    assert say(client, session, "帮助") == render("help", "zh", sig="潞州零工")
    assert say(client, session, "我的") == render("not_registered", "zh", sig="潞州零工")
    assert say(client, session, "忙") == render("not_registered", "zh", sig="潞州零工")
    assert say(client, session, "300") == summary(runtime, "张三", ["水电工"], "太行西街街道", 300)
    assert say(client, session, "1") == done(runtime)
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_the_third_wrong_answer_goes_to_an_agent(runtime, session, seeded, client) -> None:
    text_in(client, "注册 水电工 太西 张三")
    assert say(client, session, "很多") == ask(runtime, "pay", retry=True)
    assert say(client, session, "看情况") == ask(runtime, "pay", retry=True)
    assert say(client, session, "不知道") == render("reg_to_agent", "zh", sig="潞州零工")
    assert outbound_to(session, PHONE)[-1].body == "【潞州零工】登记没有完成，工作人员会给您打电话帮您登记。"

    third = session.scalar(select(Message).where(Message.body == "不知道"))
    [ticket] = session.scalars(select(Ticket))
    assert ticket.kind == TicketKind.UNPARSED_SMS
    assert ticket.status == TicketStatus.OPEN
    assert ticket.message_id == third.id
    assert ticket.phone == PHONE
    assert "pay" in ticket.summary
    assert conversation(session) is None
    assert workers(session) == []
    # The dialogue is over: the next answer is just a message nobody understood.
    assert say(client, session, "300") == render("not_understood", "zh", sig="潞州零工")


def test_three_wrong_answers_at_the_summary_go_to_an_agent(runtime, session, seeded, client) -> None:
    text_in(client, "注册 水电工 太西 300 张三")
    say(client, session, "嗯")
    say(client, session, "啊")
    assert say(client, session, "什么") == render("reg_to_agent", "zh", sig="潞州零工")
    assert session.scalar(select(func.count()).select_from(Ticket)) == 1
    assert workers(session) == []


# -- state that lasts -----------------------------------------------------------------------------


def test_a_partial_dialogue_survives_a_restart(runtime, session, seeded, client) -> None:
    text_in(client, "注册")
    say(client, session, "4")
    assert say(client, session, "太西") == ask(runtime, "pay")

    # A new process: a new runtime and app on the same database; nothing is carried in memory.
    restarted = build_runtime(runtime.settings, runtime.db, runtime.redis)
    assert restarted is not runtime
    new_client = create_app(runtime=restarted).test_client()

    assert say(new_client, session, "300") == ask(runtime, "name")
    assert say(new_client, session, "张三") == summary(runtime, "张三", ["水电工"], "太行西街街道", 300)
    assert say(new_client, session, "1") == done(runtime)
    [worker] = workers(session)
    assert (worker.home_site.code, worker.min_daily_pay) == ("LZ-TX", 300)


@pytest.mark.parametrize(
    "sender", ["8613800138000", "13800138000", "+86 138 0013 8000", "１３８００１３８０００"]
)
def test_every_format_of_the_number_is_one_worker(runtime, session, seeded, client, sender) -> None:
    text_in(client, "注册 水电工 太西 300 张三", sender="+8613800138000")
    text_in(client, "1", sender=sender)  # the confirmation may come in any format too
    assert say(client, session, "我的", sender=sender) == render(
        "profile",
        "zh",
        sig="潞州零工",
        name="张三",
        trade_names=["水电工"],
        area="太行西街街道",
        pay=300,
        status="active",
    )
    [worker] = workers(session)
    assert worker.phone == PHONE
    assert {m.phone for m in session.scalars(select(Message))} == {PHONE}


def test_registering_again_updates_the_same_worker(runtime, session, seeded, client) -> None:
    text_in(client, "注册 水电工 太西 300 张三")
    text_in(client, "1")
    [first] = workers(session)
    consent_at = first.consent_at

    assert say(client, session, "注册 瓦工 木工 紫金 400 张三丰", sender="13800138000") == summary(
        runtime, "张三丰", ["瓦工", "木工"], "紫金街道", 400
    )
    assert say(client, session, "1") == done(runtime)

    [worker] = workers(session)
    assert worker.id == first.id
    assert (worker.name, worker.home_site.code, worker.min_daily_pay) == ("张三丰", "LZ-ZJ", 400)
    assert sorted(wt.trade.code for wt in worker.trades) == ["bricklayer", "carpenter"]
    assert worker.consent_at == consent_at
    assert worker.status == WorkerStatus.ACTIVE


def test_registering_again_keeps_a_pause(runtime, session, seeded, client) -> None:
    text_in(client, "注册 水电工 太西 300 张三")
    text_in(client, "1")
    text_in(client, "忙")
    text_in(client, "注册 水电工 太西 350 张三")
    text_in(client, "1")
    [worker] = workers(session)
    assert (worker.min_daily_pay, worker.status) == (350, WorkerStatus.PAUSED)


def test_an_idle_dialogue_expires(runtime, session, seeded, client) -> None:
    ttl = timedelta(hours=runtime.settings.CONVERSATION_TTL_HOURS)
    start = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        text_in(client, "注册")
        text_in(client, "1")
        clock.move_to(start + ttl - timedelta(minutes=1))
        assert say(client, session, "太西") == ask(runtime, "pay")  # still within the TTL of the last answer
        clock.move_to(start + 2 * ttl)
        assert say(client, session, "300") == render("not_understood", "zh", sig="潞州零工")
        assert conversation(session) is None
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1
        assert say(client, session, "注册") == ask_trade(runtime)
        assert conversation(session).answers == {}
        assert conversation(session).step == "trade"

"""Policy answers on demand (issue 18, part 4): the topics of the `政策` menu, what was asked of them,
and the checks a supervisor's text must pass. Plain functions on a session; they flush, never commit.

The menu and the texts reach people by SMS (policy_sms.py) and by phone (policy_voice.py); supervisors
keep the topics in the console (dispatch/console/hall/).
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.i18n import LANGUAGES, render_sms
from dispatch.models import POLICY_POSITIONS, PolicyAsk, PolicyTopic
from dispatch.settings import Settings
from dispatch.sms.segments import count_segments

log = logging.getLogger(__name__)
TOPICS_FILE = "policy_topics.toml"
# What a topic's text (and the menu) may cost: Chinese 2 UCS-2 parts, English 2 GSM-7 parts.
MAX_SEGMENTS = {"zh": 2, "en": 2}
# The menu, sent far more often, is held to what every other SMS template fits (tests/sms/test_templates).
MENU_SEGMENTS = {"zh": 2, "en": 1}
MAX_TITLE = {"zh": 8, "en": 24}  # a title is a menu entry: short, or the menu no longer fits
CHANNELS = ("sms", "voice")


def live_topics(session: Session) -> list[PolicyTopic]:
    """The topics of the menu, in menu order."""
    query = select(PolicyTopic).where(PolicyTopic.retired_at.is_(None)).order_by(PolicyTopic.position)
    return list(session.scalars(query))


def topic_at(session: Session, position: int) -> PolicyTopic | None:
    query = select(PolicyTopic).where(PolicyTopic.position == position, PolicyTopic.retired_at.is_(None))
    return session.scalar(query)


def menu(topics: list[PolicyTopic], language: str) -> list[tuple[int, str]]:
    """The menu's entries as the SMS and voice templates list them: (number, title)."""
    return [(topic.position, topic.title(language)) for topic in topics]


def count_ask(session: Session, topic: PolicyTopic | None, channel: str, language: str) -> None:
    """Count one ask (the menu when `topic` is None) for the reports."""
    session.add(PolicyAsk(topic_id=topic.id if topic else None, channel=channel, language=language))
    session.flush()


# -- the reports --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AskedRow:
    """One line of the report: a topic (None: the menu alone) and its asks per channel."""

    topic: PolicyTopic | None
    sms: int
    voice: int

    @property
    def total(self) -> int:
        return self.sms + self.voice


def asked_between(session: Session, start: datetime, end: datetime) -> list[AskedRow]:
    """What was asked in [start, end): the menu first, then every topic asked or live, in menu order."""
    query = (
        select(PolicyAsk.topic_id, PolicyAsk.channel, func.count())
        .where(PolicyAsk.asked_at >= start, PolicyAsk.asked_at < end)
        .group_by(PolicyAsk.topic_id, PolicyAsk.channel)
    )
    counts: dict[tuple[int | None, str], int] = {
        (topic_id, channel): count for topic_id, channel, count in session.execute(query)
    }
    asked_ids = {topic_id for topic_id, _ in counts if topic_id is not None}
    topics = session.scalars(
        select(PolicyTopic)
        .where(PolicyTopic.id.in_(asked_ids) | PolicyTopic.retired_at.is_(None))
        .order_by(PolicyTopic.retired_at.is_not(None), PolicyTopic.position, PolicyTopic.id)
    )
    rows = [AskedRow(None, counts.get((None, "sms"), 0), counts.get((None, "voice"), 0))]
    for topic in topics:
        rows.append(AskedRow(topic, counts.get((topic.id, "sms"), 0), counts.get((topic.id, "voice"), 0)))
    return rows


# -- what supervisors change --------------------------------------------------------------------


@dataclass
class TopicForm:
    """A topic as the console's form gives it, stripped."""

    position: int
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str

    def values(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "body_zh": self.body_zh,
            "body_en": self.body_en,
        }


class TopicRefused(ValueError):
    """The form cannot be saved; `key` is the console catalogue's text, `fields` fill it in."""

    def __init__(self, key: str, **fields: Any) -> None:
        super().__init__(key)
        self.key, self.fields = key, fields


def sms_cost(settings: Settings, template: str, language: str, **context: Any) -> tuple[int, int, str]:
    """A text as it would go out: its parts, its length in units and its encoding."""
    signature = settings.SMS_SIGNATURE_EN if language == "en" else settings.SMS_SIGNATURE_ZH
    count = count_segments(render_sms(template, language, sig=signature, **context))
    return count.segments, count.units, count.encoding


def check(session: Session, settings: Settings, form: TopicForm, editing: PolicyTopic | None) -> None:
    """Refuse a form that is incomplete, takes a number in use, or does not fit its SMS budget: the
    topic's text, and the menu with the new title among the live ones."""
    if form.position not in POLICY_POSITIONS:
        raise TopicRefused("hall.policy.error.position", low=POLICY_POSITIONS[0], high=POLICY_POSITIONS[-1])
    for language in LANGUAGES:
        title, body = getattr(form, f"title_{language}"), getattr(form, f"body_{language}")
        if not title or not body:
            raise TopicRefused(f"hall.policy.error.empty_{language}")
        if len(title) > MAX_TITLE[language]:
            raise TopicRefused(f"hall.policy.error.title_{language}", most=MAX_TITLE[language])
    taken = topic_at(session, form.position)
    if taken is not None and taken is not editing:
        raise TopicRefused("hall.policy.error.taken", position=form.position, title=taken.title_zh)
    for language in LANGUAGES:
        title, body = getattr(form, f"title_{language}"), getattr(form, f"body_{language}")
        parts, units, encoding = sms_cost(settings, "policy_topic", language, title=title, text=body)
        if language == "en" and encoding != "GSM-7":
            raise TopicRefused("hall.policy.error.en_characters")
        if parts > MAX_SEGMENTS[language]:
            raise TopicRefused(f"hall.policy.error.long_{language}", parts=parts, units=units)
        others = [topic for topic in live_topics(session) if topic is not editing]
        entries = sorted([*menu(others, language), (form.position, title)])
        parts, units, _ = sms_cost(settings, "policy_menu", language, topics=entries)
        if parts > MENU_SEGMENTS[language]:
            raise TopicRefused(
                f"hall.policy.error.menu_{language}", parts=parts, most=MENU_SEGMENTS[language]
            )


def create(session: Session, settings: Settings, form: TopicForm) -> PolicyTopic:
    check(session, settings, form, None)
    topic = PolicyTopic(**form.values())
    session.add(topic)
    session.flush()
    return topic


def update(session: Session, settings: Settings, topic: PolicyTopic, form: TopicForm) -> dict[str, Any]:
    """Change a live topic; returns what changed (before, after) for the audit log."""
    if topic.retired_at is not None:
        raise TopicRefused("hall.policy.error.retired")
    check(session, settings, form, topic)
    changed = {}
    for name, value in form.values().items():
        if getattr(topic, name) != value:
            changed[name] = [getattr(topic, name), value]
            setattr(topic, name, value)
    if changed:
        topic.updated_at = utcnow()
    session.flush()
    return changed


def retire(session: Session, topic: PolicyTopic) -> bool:
    """Take a topic off the menu (kept for the counts); False when it was already."""
    if topic.retired_at is not None:
        return False
    topic.retired_at = utcnow()
    session.flush()
    return True


# -- first run ----------------------------------------------------------------------------------


def seed_topics(session: Session, config_dir: Path) -> int:
    """Load config/policy_topics.toml into an empty table (never over what supervisors keep). A database
    not yet migrated to the hall's revision has no such table: nothing to load yet."""
    path = config_dir / TOPICS_FILE
    if not path.is_file() or not inspect(session.connection()).has_table(PolicyTopic.__tablename__):
        return 0
    if session.scalar(select(func.count()).select_from(PolicyTopic)):
        return 0
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get("topic", [])
    for entry in entries:
        session.add(PolicyTopic(**{key: entry[key] for key in TopicForm.__dataclass_fields__}))
    session.flush()
    log.info("seeded %s policy topics from %s", len(entries), path)
    return len(entries)

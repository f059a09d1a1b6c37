"""Supervisors keep the policy topics (政策) and see what was asked: /console/hall/policy/."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.console.audit import record
from dispatch.console.auth import agent_page
from dispatch.console.i18n import translate
from dispatch.console.reports import periods
from dispatch.hall import policy
from dispatch.i18n import LANGUAGES, market_zone
from dispatch.models import POLICY_POSITIONS, AgentRole, PolicyTopic
from dispatch.settings import Settings

bp = Blueprint("hall", __name__, url_prefix="/hall", template_folder="templates")
FIELDS = ("title_zh", "title_en", "body_zh", "body_en")
MAX_FIELD = 1000  # far beyond two SMS parts: the check refuses it with its own message before this


def _settings() -> Settings:
    return current_app.extensions["dispatch.runtime"].settings


def _form() -> policy.TopicForm:
    raw = request.form.get("position", "").strip()
    position = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 2 else 0
    texts = {name: " ".join(request.form.get(name, "").split())[:MAX_FIELD] for name in FIELDS}
    return policy.TopicForm(position=position, **texts)


def _topic(db: Session, topic_id: int) -> PolicyTopic:
    topic = db.get(PolicyTopic, topic_id) if topic_id < 2**31 else None
    if topic is None:
        abort(404)
    return topic


def _costs(topic: PolicyTopic | policy.TopicForm) -> dict[str, tuple[int, int, str]]:
    """What the topic's text costs as an SMS, per language (shown beside the form)."""
    settings = _settings()
    return {
        language: policy.sms_cost(
            settings,
            "policy_topic",
            language,
            title=getattr(topic, f"title_{language}"),
            text=getattr(topic, f"body_{language}"),
        )
        for language in LANGUAGES
    }


@bp.get("/policy/")
@agent_page(AgentRole.SUPERVISOR)
def topics(db, agent):
    """The topics of the menu (and the retired ones), each with its SMS cost."""
    rows = list(
        db.scalars(select(PolicyTopic).order_by(PolicyTopic.retired_at.is_not(None), PolicyTopic.position))
    )
    return render_template(
        "console/hall/topics.html",
        topics=rows,
        costs={topic.id: _costs(topic) for topic in rows},
        max_segments=policy.MAX_SEGMENTS,
    )


def _form_page(
    form: policy.TopicForm, topic: PolicyTopic | None, error: str = "", status: int = 200, **fields
):
    page = render_template(
        "console/hall/topic_form.html",
        form=form,
        topic=topic,
        error=translate(error, **fields) if error else "",
        costs=_costs(form),
        positions=POLICY_POSITIONS,
        max_segments=policy.MAX_SEGMENTS,
        max_title=policy.MAX_TITLE,
    )
    return page, status


@bp.get("/policy/new")
@agent_page(AgentRole.SUPERVISOR)
def new_topic(db, agent):
    """An empty form, numbered with the first free number."""
    taken = {topic.position for topic in policy.live_topics(db)}
    free = next((number for number in POLICY_POSITIONS if number not in taken), 0)
    return _form_page(policy.TopicForm(free, "", "", "", ""), None)


@bp.post("/policy/new")
@agent_page(AgentRole.SUPERVISOR)
def create_topic(db, agent):
    """Add a topic; refused (the form shown again with why) when it does not fit."""
    form = _form()
    try:
        topic = policy.create(db, _settings(), form)
    except policy.TopicRefused as refused:
        return _form_page(form, None, refused.key, 400, **refused.fields)
    record(db, agent, "policy_topic.create", topic, remote_addr=request.remote_addr or "", **form.values())
    flash(translate("hall.policy.created", title=topic.title_zh), "success")
    return redirect(url_for("console.hall.topics"))


@bp.get("/policy/<int:topic_id>")
@agent_page(AgentRole.SUPERVISOR)
def edit_topic(db, agent, topic_id: int):
    topic = _topic(db, topic_id)
    form = policy.TopicForm(topic.position, topic.title_zh, topic.title_en, topic.body_zh, topic.body_en)
    return _form_page(form, topic)


@bp.post("/policy/<int:topic_id>")
@agent_page(AgentRole.SUPERVISOR)
def update_topic(db, agent, topic_id: int):
    """Change a topic's number or texts; the audit log keeps each change, before and after."""
    topic = _topic(db, topic_id)
    form = _form()
    try:
        changed = policy.update(db, _settings(), topic, form)
    except policy.TopicRefused as refused:
        return _form_page(form, topic, refused.key, 400, **refused.fields)
    if changed:
        record(db, agent, "policy_topic.update", topic, remote_addr=request.remote_addr or "", **changed)
    flash(translate("hall.policy.saved", title=topic.title_zh), "success")
    return redirect(url_for("console.hall.topics"))


@bp.post("/policy/<int:topic_id>/retire")
@agent_page(AgentRole.SUPERVISOR)
def retire_topic(db, agent, topic_id: int):
    """Take the topic off the menu (its counts stay in the report)."""
    topic = _topic(db, topic_id)
    if policy.retire(db, topic):
        record(
            db,
            agent,
            "policy_topic.retire",
            topic,
            remote_addr=request.remote_addr or "",
            position=topic.position,
        )
        flash(translate("hall.policy.retired", title=topic.title_zh), "success")
    return redirect(url_for("console.hall.topics"))


@bp.get("/policy/report")
@agent_page(AgentRole.SUPERVISOR)
def report(db, agent):
    """What was asked, per topic and channel, over the chosen weeks (as the weekly report picks them)."""
    zone = market_zone(_settings())
    raw_week = request.args.get("week", "").strip()
    last = periods.parse_week(raw_week, zone) if raw_week else periods.week_of(utcnow(), zone)
    if last is None:
        abort(400, description=translate("reports.error.week"))
    count = periods.parse_count(request.args.get("weeks", ""))
    weeks = periods.weeks_ending(last, count, zone)
    rows = policy.asked_between(db, weeks[0].start, weeks[-1].end)
    return render_template(
        "console/hall/report.html",
        rows=rows,
        weeks=weeks,
        week=last.label,
        count=count,
        max_weeks=periods.MAX_WEEKS,
        total_sms=sum(row.sms for row in rows),
        total_voice=sum(row.voice for row in rows),
    )

"""Search: a worker, an employer or a job by phone (however it was typed), name or job code.

Every query is limited to the agent's sites and to a bounded number of rows per kind.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import QueryableAttribute, Session, joinedload

from dispatch.console.access import site_filter
from dispatch.models import Agent, Employer, Job, Worker
from dispatch.phones import try_e164

RESULTS_PER_KIND = 25
MIN_SUFFIX_DIGITS = 4  # `8000`: the last digits of a number, as a caller reads them out
MAX_QUERY = 64
# What people put between the digits of a phone number: spaces (full-width too), dashes, brackets.
_PHONE_PUNCTUATION = re.compile(r"[\s\-().·]")


@dataclass(frozen=True)
class ParsedQuery:
    """What the agent typed, read as each kind of key it could be."""

    text: str  # NFKC-normalised and trimmed: a name fragment
    phone: str | None  # the whole number in E.164
    digits: str | None  # the digits alone, when the text is nothing but a number
    exact: bool  # a whole phone number or a job code: one hit may open its page directly

    @property
    def is_name(self) -> bool:
        return self.digits is None and bool(self.text)


@dataclass
class SearchResults:
    workers: list[Worker] = field(default_factory=list)
    employers: list[Employer] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    more: set[str] = field(default_factory=set)  # kinds with more rows than shown

    @property
    def total(self) -> int:
        return len(self.workers) + len(self.employers) + len(self.jobs)


def parse_query(raw: str, region: str) -> ParsedQuery:
    """`+86 138 0013 8000`, `13800138000`, `１３８…`, `8000`, `123` (a job code) or `张`."""
    text = unicodedata.normalize("NFKC", raw or "").strip()[:MAX_QUERY]
    compact = _PHONE_PUNCTUATION.sub("", text)
    number = compact.removeprefix("+")
    digits = number if number.isascii() and number.isdigit() else None
    phone = try_e164(compact, region) if digits else None
    return ParsedQuery(text=text, phone=phone, digits=digits, exact=phone is not None)


def search(session: Session, agent: Agent, query: ParsedQuery) -> SearchResults:
    """Workers, employers and jobs the agent may see that match `query`, newest first."""
    results = SearchResults()
    if not query.text:
        return results
    workers = _people(session, agent, query, Worker, Worker.home_site, Worker.home_site_id)
    results.workers = _bounded(workers, "workers", results)
    employers = _people(session, agent, query, Employer, Employer.site, Employer.site_id)
    results.employers = _bounded(employers, "employers", results)
    if query.digits and not query.phone:
        # Codes are unique, so this is one row at most; a phone number is never a code.
        job = session.scalar(
            select(Job)
            .options(joinedload(Job.trade), joinedload(Job.site), joinedload(Job.employer))
            .where(Job.code == query.digits, site_filter(session, agent, Job.site_id))
        )
        results.jobs = [job] if job is not None else []
    return results


def single_exact_hit(query: ParsedQuery, results: SearchResults) -> Worker | Employer | Job | None:
    """The one row a whole phone number or a job code found, to open directly."""
    if results.total != 1:
        return None
    row = (results.workers or results.employers or results.jobs)[0]
    if isinstance(row, Job) or query.exact:
        return row
    return None


def _people(
    session: Session,
    agent: Agent,
    query: ParsedQuery,
    model: type[Worker] | type[Employer],
    site: QueryableAttribute[Any],
    site_id: QueryableAttribute[Any],
) -> list:
    """Workers or employers placed (`site`, `site_id`) at the agent's sites who match `query`, newest
    first: one more than are shown, to tell that there are more."""
    match = _person_match(model, query)
    if match is None:
        return []
    rows = session.scalars(
        select(model)
        .options(joinedload(site))
        .where(match, site_filter(session, agent, site_id))
        .order_by(model.id.desc())
        .limit(RESULTS_PER_KIND + 1)
    ).unique()
    return list(rows)


def _person_match(model: type[Worker] | type[Employer], query: ParsedQuery):
    if query.phone:
        return model.phone == query.phone
    if query.digits:
        if len(query.digits) < MIN_SUFFIX_DIGITS:
            return None  # too short to mean a phone: a job code
        # The tail of a number: the same digits end the E.164 form, whatever prefix was left off.
        return model.phone.endswith(query.digits, autoescape=True)
    return model.name.icontains(query.text, autoescape=True)


def _bounded(rows: list, kind: str, results: SearchResults) -> list:
    if len(rows) > RESULTS_PER_KIND:
        results.more.add(kind)
    return rows[:RESULTS_PER_KIND]

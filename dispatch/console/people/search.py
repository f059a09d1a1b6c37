"""Search: a worker, an employer or a job by phone (however it was typed), name or job code.

Every query is limited to the agent's sites and to a bounded number of rows per kind.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

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
    worker_match = _person_match(Worker, query)
    if worker_match is not None:
        rows = session.scalars(
            select(Worker)
            .options(joinedload(Worker.home_site))
            .where(worker_match, site_filter(session, agent, Worker.home_site_id))
            .order_by(Worker.id.desc())
            .limit(RESULTS_PER_KIND + 1)
        ).unique()
        results.workers = _bounded(list(rows), "workers", results)
    employer_match = _person_match(Employer, query)
    if employer_match is not None:
        rows = session.scalars(
            select(Employer)
            .options(joinedload(Employer.site))
            .where(employer_match, site_filter(session, agent, Employer.site_id))
            .order_by(Employer.id.desc())
            .limit(RESULTS_PER_KIND + 1)
        ).unique()
        results.employers = _bounded(list(rows), "employers", results)
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

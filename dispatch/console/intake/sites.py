"""The intake forms' site picker: the places an agent may choose, grouped under their towns, each with
the keys a caller presses for it in the IVR (dispatch.ivr.choices.site_keys, the one numbering), so
that "8 = 太行西街" on the phone is 8 on the screen too."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from dispatch.console.intake.forms import choosable_sites
from dispatch.ivr.choices import site_keys
from dispatch.models import Agent, Site, SiteLevel


@dataclass(frozen=True)
class SiteChoice:
    site: Site
    key: str  # what a caller keys in the IVR ("8", "8-2"); "" for a place the IVR does not offer
    search: str  # the names and short forms the typed filter matches, lower-cased, space-separated


@dataclass(frozen=True)
class SiteGroup:
    town: Site | None  # None: places under no town
    key: str
    choices: list[SiteChoice]


def _search_text(site: Site) -> str:
    return " ".join(name.casefold() for name in (site.name_zh, site.name_en, *(site.aliases or [])) if name)


def site_groups(db: Session, agent: Agent) -> list[SiteGroup]:
    """The agent's choosable places: each town first in its own group, then its village stations, in
    the IVR's order; towns by their number."""
    keys = site_keys(db)
    choosable = choosable_sites(db, agent)
    by_town: dict[int | None, list[Site]] = {}
    for site in choosable:
        town_id = site.id if site.level == SiteLevel.TOWN else site.parent_id
        by_town.setdefault(town_id, []).append(site)

    def order(site: Site) -> tuple[int, int, int]:
        # The town before its villages; villages by their key's last part (the IVR's order).
        key = keys.get(site.id, "")
        last = int(key.rsplit("-", 1)[-1]) if key and site.level == SiteLevel.VILLAGE else 0
        return (0 if site.level == SiteLevel.TOWN else 1, last, site.id)

    groups = []
    for town_id, sites in by_town.items():
        town = db.get(Site, town_id) if town_id is not None else None
        choices = [
            SiteChoice(site, keys.get(site.id, ""), _search_text(site)) for site in sorted(sites, key=order)
        ]
        groups.append(SiteGroup(town, keys.get(town_id, "") if town_id is not None else "", choices))
    groups.sort(key=lambda group: (group.town is None, (group.town.number or 0) if group.town else 0))
    return groups

"""Distances between sites, in SQL: from their coordinates, by the equirectangular approximation
(error well under 1% at a district's scale). The cosine of the origin's latitude is a bound
parameter, so the SQL is plain arithmetic on PostgreSQL and on SQLite."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Float, bindparam, func, select
from sqlalchemy.orm import Session

from dispatch.models import Site

KM_PER_DEGREE = 111.195  # of latitude (and of longitude at the equator), on a sphere of 6371 km


def km_from_origin(site: Any) -> tuple[Any, Any]:
    """Squared and plain km from the bound origin (`origin`) to `site`, a site table or alias."""
    dy = (site.lat - bindparam("origin_lat", type_=Float())) * bindparam("km_per_degree", type_=Float())
    dx = (site.lon - bindparam("origin_lon", type_=Float())) * bindparam("lon_scale", type_=Float())
    squared = dx * dx + dy * dy
    return squared, func.sqrt(squared)


def origin(site: Site) -> dict[str, float]:
    return {
        "origin_lat": site.lat,
        "origin_lon": site.lon,
        "km_per_degree": KM_PER_DEGREE,
        "lon_scale": KM_PER_DEGREE * math.cos(math.radians(site.lat)),
    }


_squared, _plain = km_from_origin(Site)
_NEAR = select(Site.id, _plain.label("km")).where(_squared <= bindparam("radius2", type_=Float()))
_ALL_SITES = select(Site.id, _plain.label("km"))


def near_sites(session: Session, site: Site, radius_km: float | None) -> dict[int, float]:
    """Sites within `radius_km` of `site` (all sites when None), with their distance in km."""
    sqrt_for_sqlite(session)
    if radius_km is None:
        return dict(session.execute(_ALL_SITES, origin(site)).all())
    params = {**origin(site), "radius2": radius_km * radius_km}
    return dict(session.execute(_NEAR, params).all())


def sqrt_for_sqlite(session: Session) -> None:
    """SQLite has sqrt() only when built with its math functions: give each connection one."""
    connection = session.connection()
    if connection.dialect.name != "sqlite" or connection.info.get("dispatch.sqrt"):
        return
    dbapi = connection.connection.dbapi_connection
    dbapi.create_function("sqrt", 1, math.sqrt, deterministic=True)  # type: ignore[union-attr]
    connection.info["dispatch.sqrt"] = True

"""The market's places (1 district, 17 towns/streets, N village stations) and its trade catalogue."""

from __future__ import annotations

import enum

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.db import Base
from dispatch.models.types import JSON, str_enum


class SiteLevel(enum.StrEnum):
    DISTRICT = "district"  # the district market (区级零工市场)
    TOWN = "town"  # a town or street market (镇/街道零工市场)
    VILLAGE = "village"  # a village station (村级零工驿站)


class Site(Base):
    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    # The number a worker types for a town in an SMS or on the keypad (towns only).
    number: Mapped[int | None] = mapped_column(Integer)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(128))
    # Short forms people type, e.g. 太西 for 太行西街街道.
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    level: Mapped[SiteLevel] = mapped_column(str_enum(SiteLevel))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)

    parent: Mapped[Site | None] = relationship(remote_side=[id])

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_zh


class Trade(Base):
    __tablename__ = "trade"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    # The keypad digit(s) and list number of the trade in the IVR and the SMS menu.
    ivr_digit: Mapped[str] = mapped_column(String(4), unique=True)
    name_zh: Mapped[str] = mapped_column(String(32))
    name_en: Mapped[str] = mapped_column(String(64))
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Work at height, electrical: dispatched only with day insurance (a later issue enforces it).
    high_risk: Mapped[bool] = mapped_column(Boolean, default=False)

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_zh

"""Reading and checking config/sites.toml and config/trades.toml, without touching the database."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from dispatch.models import Base, Site, SiteLevel, Trade

SITES_FILE = "sites.toml"
TRADES_FILE = "trades.toml"

# Codes end up in URLs, logs and other tables, so they stay plain ASCII.
SITE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
TRADE_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
IVR_DIGITS = re.compile(r"^[1-9][0-9]*$")

SITE_KEYS = frozenset({"code", "level", "parent", "number", "name_zh", "name_en", "aliases", "lat", "lon"})
TRADE_KEYS = frozenset({"code", "ivr_digit", "name_zh", "name_en", "keywords", "high_risk"})

# The parent level each level must hang under; the district is the root.
PARENT_LEVEL: dict[SiteLevel, SiteLevel | None] = {
    SiteLevel.DISTRICT: None,
    SiteLevel.TOWN: SiteLevel.DISTRICT,
    SiteLevel.VILLAGE: SiteLevel.TOWN,
}
LEVEL_ORDER = {SiteLevel.DISTRICT: 0, SiteLevel.TOWN: 1, SiteLevel.VILLAGE: 2}

Counts = dict[str, int]


class SeedError(ValueError):
    """A config file is malformed or contradicts itself; the message names the file and the entry."""


@dataclass(frozen=True)
class SiteSpec:
    code: str
    level: SiteLevel
    parent: str | None
    number: int | None
    name_zh: str
    name_en: str
    aliases: tuple[str, ...]
    lat: float
    lon: float


@dataclass(frozen=True)
class TradeSpec:
    code: str
    ivr_digit: str
    name_zh: str
    name_en: str
    keywords: tuple[str, ...]
    high_risk: bool


# Parsed files are kept by path and content (a file edited since is parsed again): the test suite seeds
# its database once a test, thousands of times a run, from the same two files. Specs are frozen; each
# caller gets a list of its own. A malformed file raises every time (nothing is kept).


def read_sites(path: Path | str) -> list[SiteSpec]:
    """Parse and check a sites.toml without touching the database."""
    path = Path(path)
    return list(_read_sites(path, path.read_bytes()))


@lru_cache(maxsize=16)
def _read_sites(path: Path, content: bytes) -> tuple[SiteSpec, ...]:
    specs: list[SiteSpec] = []
    for entry in _entries(path, content, "site", SITE_KEYS):
        code = entry.text("code", _column_length(Site, "code"))
        if not SITE_CODE.match(code):
            raise entry.error(f"code {code!r} must be ASCII letters, digits, '-' or '_'")
        level_text = entry.text("level")
        try:
            level = SiteLevel(level_text)
        except ValueError:
            choices = ", ".join(member.value for member in SiteLevel)
            raise entry.error(f"level {level_text!r} is not one of {choices}") from None
        parent = entry.optional_text("parent")
        if PARENT_LEVEL[level] is None and parent is not None:
            raise entry.error(f"a {level.value} has no parent, but parent = {parent!r}")
        if PARENT_LEVEL[level] is not None and parent is None:
            raise entry.error(f"a {level.value} needs a parent (the code of its {PARENT_LEVEL[level]})")
        number = entry.optional_integer("number")
        # Only towns are chosen by number (SMS and keypad); a number elsewhere would be ambiguous.
        if level is SiteLevel.TOWN and number is None:
            raise entry.error("a town needs a number (what a worker types to choose it)")
        if level is not SiteLevel.TOWN and number is not None:
            raise entry.error(f"only towns have a number, not a {level.value}")
        if number is not None and number < 1:
            raise entry.error(f"number must be 1 or more, not {number}")
        aliases = entry.words("aliases", required=False)
        for alias in aliases:
            if alias.isdigit():
                raise entry.error(f"alias {alias!r} is all digits and would read as a town number")
        specs.append(
            SiteSpec(
                code=code,
                level=level,
                parent=parent,
                number=number,
                name_zh=entry.text("name_zh", _column_length(Site, "name_zh")),
                name_en=entry.text("name_en", _column_length(Site, "name_en")),
                aliases=aliases,
                lat=entry.real("lat", -90.0, 90.0),
                lon=entry.real("lon", -180.0, 180.0),
            )
        )

    numbered = list(enumerate(specs))
    _unique(path, "site", "code", [(i, spec.code, spec.code) for i, spec in numbered])
    numbers = [(i, spec.code, spec.number) for i, spec in numbered if spec.number is not None]
    _unique(path, "site", "number", numbers)
    # A name or alias must lead to one site; the same word on two sites is ambiguous to the parser.
    labels = [(i, spec.code, label) for i, spec in numbered for label in sorted(site_labels(spec))]
    _unique(path, "site", "name or alias", labels)

    levels = {spec.code: spec.level for spec in specs}
    for spec in specs:
        if spec.parent is None:
            continue
        where = f"{path}: site {spec.code!r}"
        if spec.parent not in levels:
            raise SeedError(f"{where}: parent {spec.parent!r} is not a site in this file")
        if levels[spec.parent] is not PARENT_LEVEL[spec.level]:
            raise SeedError(
                f"{where}: a {spec.level.value} must be under a {PARENT_LEVEL[spec.level]}, "
                f"but {spec.parent!r} is a {levels[spec.parent].value}"
            )
    return tuple(specs)


def read_trades(path: Path | str) -> list[TradeSpec]:
    """Parse and check a trades.toml without touching the database."""
    path = Path(path)
    return list(_read_trades(path, path.read_bytes()))


@lru_cache(maxsize=16)
def _read_trades(path: Path, content: bytes) -> tuple[TradeSpec, ...]:
    specs: list[TradeSpec] = []
    for entry in _entries(path, content, "trade", TRADE_KEYS):
        code = entry.text("code", _column_length(Trade, "code"))
        if not TRADE_CODE.match(code):
            raise entry.error(f"code {code!r} must be lowercase ASCII snake_case")
        ivr_digit = entry.text("ivr_digit", _column_length(Trade, "ivr_digit"))
        if not IVR_DIGITS.match(ivr_digit):
            raise entry.error(f'ivr_digit {ivr_digit!r} must be a string of digits like "1" or "10"')
        keywords = entry.words("keywords", required=True)
        for keyword in keywords:
            if keyword.isdigit():
                raise entry.error(f"keyword {keyword!r} is all digits and would read as a menu choice")
        specs.append(
            TradeSpec(
                code=code,
                ivr_digit=ivr_digit,
                name_zh=entry.text("name_zh", _column_length(Trade, "name_zh")),
                name_en=entry.text("name_en", _column_length(Trade, "name_en")),
                keywords=keywords,
                high_risk=entry.boolean("high_risk", default=False),
            )
        )

    numbered = list(enumerate(specs))
    _unique(path, "trade", "code", [(i, spec.code, spec.code) for i, spec in numbered])
    _unique(path, "trade", "ivr_digit", [(i, spec.code, spec.ivr_digit) for i, spec in numbered])
    labels = [(i, spec.code, label) for i, spec in numbered for label in sorted(trade_labels(spec))]
    _unique(path, "trade", "keyword", labels)
    return tuple(specs)


def site_labels(spec: SiteSpec) -> set[str]:
    return {spec.name_zh.lower(), *spec.aliases}


def trade_labels(spec: TradeSpec) -> set[str]:
    return {spec.name_zh.lower(), *spec.keywords}


def _unique(path: Path, kind: str, what: str, pairs: Iterable[tuple[int, str, object]]) -> None:
    """Raise on the first value claimed by two entries; pairs are (entry index, entry code, value)."""
    owners: dict[object, tuple[int, str]] = {}
    for index, code, value in pairs:
        owner_index, owner_code = owners.setdefault(value, (index, code))
        if owner_index != index:
            raise SeedError(
                f"{path}: {kind} {code!r} (entry #{index + 1}): {what} {value!r} is already used by "
                f"{kind} {owner_code!r} (entry #{owner_index + 1})"
            )


class _Entry:
    """Typed access to one [[kind]] table of a file; every error names the file and the entry."""

    def __init__(self, path: Path, kind: str, index: int, table: dict[str, Any]) -> None:
        self.path, self.kind, self.index, self.table = path, kind, index, table

    def error(self, message: str) -> SeedError:
        code = self.table.get("code")
        label = f"{self.kind} {code!r}" if isinstance(code, str) else f"[[{self.kind}]] #{self.index + 1}"
        return SeedError(f"{self.path}: {label}: {message}")

    def _get(self, key: str, required: bool) -> Any:
        if key not in self.table and required:
            raise self.error(f"{key} is missing")
        return self.table.get(key)

    def text(self, key: str, max_length: int | None = None) -> str:
        value = self._get(key, required=True)
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"{key} must be a non-empty string, not {value!r}")
        value = value.strip()
        # SQLite ignores VARCHAR lengths but PostgreSQL does not; fail here rather than at go-live.
        if max_length is not None and len(value) > max_length:
            raise self.error(f"{key} {value!r} is longer than {max_length} characters")
        return value

    def optional_text(self, key: str) -> str | None:
        return self.text(key) if key in self.table else None

    def optional_integer(self, key: str) -> int | None:
        value = self._get(key, required=False)
        # bool is an int in Python; `number = true` is a typo, not 1.
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise self.error(f"{key} must be an integer, not {value!r}")
        return value

    def real(self, key: str, low: float, high: float) -> float:
        value = self._get(key, required=True)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self.error(f"{key} must be a number, not {value!r}")
        if not low <= value <= high:
            raise self.error(f"{key} {value} is outside {low}..{high}")
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, required=False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(f"{key} must be true or false, not {value!r}")
        return value

    def words(self, key: str, required: bool) -> tuple[str, ...]:
        """A list of non-empty strings, lowercased (the parser lowercases what workers type), deduplicated."""
        value = self._get(key, required=required)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(word, str) and word.strip() for word in value):
            raise self.error(f"{key} must be a list of non-empty strings, not {value!r}")
        if required and not value:
            raise self.error(f"{key} must not be empty")
        return tuple(dict.fromkeys(word.strip().lower() for word in value))


def _entries(path: Path, content: bytes, kind: str, allowed: frozenset[str]) -> list[_Entry]:
    try:
        data = tomllib.loads(content.decode())  # as tomllib.load does
    except tomllib.TOMLDecodeError as exc:
        raise SeedError(f"{path}: not valid TOML: {exc}") from exc
    extra = set(data) - {kind}
    if extra:
        raise SeedError(f"{path}: unexpected top-level keys {sorted(extra)}; expected only [[{kind}]] tables")
    tables = data.get(kind)
    if not isinstance(tables, list) or not tables or not all(isinstance(table, dict) for table in tables):
        raise SeedError(f"{path}: expected one or more [[{kind}]] tables")
    entries = [_Entry(path, kind, index, table) for index, table in enumerate(tables)]
    for entry in entries:
        # A misspelt key (e.g. `alias`) would otherwise be dropped without a word.
        unknown = set(entry.table) - allowed
        if unknown:
            raise entry.error(f"unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    return entries


def _column_length(model: type[Base], column: str) -> int | None:
    return getattr(model.__table__.c[column].type, "length", None)


# --- writing ---------------------------------------------------------------------------------------

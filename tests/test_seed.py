"""The config files load, seeding is idempotent, and malformed files are refused with a clear error."""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from dispatch.models import Base, Site, SiteLevel, Trade
from dispatch.seed import SeedError, load_sites, load_trades, read_sites, read_trades, seed

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
SITES = CONFIG_DIR / "sites.toml"
TRADES = CONFIG_DIR / "trades.toml"
CENTRE = (36.195, 113.117)  # 潞州区, Changzhi city centre


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


# Named seed_session so that it does not clash with the project-wide `session` fixture (PostgreSQL).
@pytest.fixture
def seed_session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    """A writable copy of the real config directory, for tests that edit it."""
    directory = tmp_path / "config"
    directory.mkdir()
    for name in ("sites.toml", "trades.toml"):
        shutil.copy(CONFIG_DIR / name, directory / name)
    return directory


def count(session: Session, model: type[Base]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should occur once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


# --- the real files ----------------------------------------------------------------------------------


def test_real_sites_are_one_district_seventeen_towns_and_villages_under_towns() -> None:
    specs = read_sites(SITES)
    by_code = {spec.code: spec for spec in specs}
    districts = [spec for spec in specs if spec.level is SiteLevel.DISTRICT]
    towns = [spec for spec in specs if spec.level is SiteLevel.TOWN]
    villages = [spec for spec in specs if spec.level is SiteLevel.VILLAGE]

    assert [spec.code for spec in districts] == ["LZ"]
    assert len(towns) == 17
    assert sorted(spec.number for spec in towns) == list(range(1, 18))
    assert all(spec.parent == "LZ" for spec in towns)
    assert 10 <= len(villages) <= 15
    for village in villages:
        assert village.parent is not None
        assert by_code[village.parent].level is SiteLevel.TOWN, village.code
        assert village.code.startswith(village.parent + "-"), village.code


def test_real_site_names_and_aliases_are_unique() -> None:
    labels: dict[str, str] = {}
    for spec in read_sites(SITES):
        for label in {spec.name_zh, *spec.aliases}:
            assert labels.setdefault(label, spec.code) == spec.code, (label, spec.code, labels[label])
    by_code = {spec.code: spec for spec in read_sites(SITES)}
    assert "太西" in by_code["LZ-TX"].aliases
    assert "老顶山" in by_code["LZ-LDS"].aliases


def test_real_sites_are_within_20_km_of_the_centre_and_villages_near_their_town() -> None:
    specs = read_sites(SITES)
    by_code = {spec.code: spec for spec in specs}
    for spec in specs:
        assert haversine_km(CENTRE, (spec.lat, spec.lon)) < 20, spec.code
        if spec.level is SiteLevel.VILLAGE:
            assert spec.parent is not None
            parent = by_code[spec.parent]
            assert haversine_km((parent.lat, parent.lon), (spec.lat, spec.lon)) < 5, spec.code


def test_real_trades_have_digits_one_to_n_and_unambiguous_keywords() -> None:
    specs = read_trades(TRADES)
    assert [spec.ivr_digit for spec in specs] == [str(n) for n in range(1, len(specs) + 1)]
    assert 10 <= len(specs) <= 15
    keywords = [(spec.code, keyword) for spec in specs for keyword in spec.keywords]
    assert all(keyword == keyword.lower() for _code, keyword in keywords)
    # A parser that looks for keywords inside a message must not find two trades' keywords in one word.
    for code, keyword in keywords:
        for other_code, other in keywords:
            if code != other_code:
                assert keyword not in other, (keyword, code, other, other_code)
    by_code = {spec.code: spec for spec in specs}
    assert {"水电", "电工", "plumber", "electrician"} <= set(by_code["plumber_electrician"].keywords)
    assert by_code["plumber_electrician"].high_risk
    assert by_code["welder"].high_risk
    assert not by_code["cleaner"].high_risk


# --- loading into the database -----------------------------------------------------------------------


def test_seed_loads_the_real_config(seed_session: Session) -> None:
    counts = seed(seed_session, CONFIG_DIR)

    sites, trades = len(read_sites(SITES)), len(read_trades(TRADES))
    assert counts["sites_total"] == counts["sites_created"] == count(seed_session, Site) == sites
    assert counts["trades_total"] == counts["trades_created"] == count(seed_session, Trade) == trades
    taixi = seed_session.scalars(select(Site).where(Site.code == "LZ-TX")).one()
    assert taixi.level is SiteLevel.TOWN
    assert taixi.parent is not None and taixi.parent.code == "LZ"
    assert taixi.number == 8 and "太西" in taixi.aliases
    village = seed_session.scalars(select(Site).where(Site.code == "LZ-TX-WYM")).one()
    assert village.parent is taixi
    plumber = seed_session.scalars(select(Trade).where(Trade.ivr_digit == "4")).one()
    assert plumber.code == "plumber_electrician" and plumber.high_risk


def test_seeding_twice_changes_nothing(seed_session: Session) -> None:
    first = seed(seed_session, CONFIG_DIR)
    ids = {key: value for key, value in seed_session.execute(select(Site.code, Site.id))}
    second = seed(seed_session, CONFIG_DIR)

    for kind in ("sites", "trades"):
        assert second[f"{kind}_total"] == first[f"{kind}_total"]
        assert second[f"{kind}_created"] == second[f"{kind}_updated"] == 0
        assert second[f"{kind}_unchanged"] == first[f"{kind}_total"]
    assert count(seed_session, Site) == first["sites_total"]
    assert count(seed_session, Trade) == first["trades_total"]
    assert {key: value for key, value in seed_session.execute(select(Site.code, Site.id))} == ids
    assert not seed_session.dirty and not seed_session.new


def test_each_reader_gets_the_files_specs_as_they_are_now(config_copy: Path) -> None:
    sites, trades = read_sites(config_copy / "sites.toml"), read_trades(config_copy / "trades.toml")
    sites.clear()
    trades.pop()  # a caller's list is its own: the next caller still gets every spec
    assert read_sites(config_copy / "sites.toml") == read_sites(CONFIG_DIR / "sites.toml") != []
    assert len(read_trades(config_copy / "trades.toml")) == len(read_trades(CONFIG_DIR / "trades.toml"))
    edit(config_copy / "trades.toml", 'name_zh = "钳工"', 'name_zh = "钳工/机修"')
    assert "钳工/机修" in {spec.name_zh for spec in read_trades(config_copy / "trades.toml")}


def test_an_edited_name_updates_the_row(seed_session: Session, config_copy: Path) -> None:
    seed(seed_session, config_copy)
    edit(config_copy / "sites.toml", 'name_en = "Taihang West Street"', 'name_en = "Taihangxijie Street"')
    edit(config_copy / "trades.toml", 'name_zh = "钳工"', 'name_zh = "钳工/机修"')

    counts = seed(seed_session, config_copy)

    assert counts["sites_updated"] == 1 and counts["sites_created"] == 0
    assert counts["trades_updated"] == 1 and counts["trades_created"] == 0
    seed_session.expire_all()
    name_en = seed_session.scalars(select(Site.name_en).where(Site.code == "LZ-TX")).one()
    assert name_en == "Taihangxijie Street"
    assert seed_session.scalars(select(Trade.name_zh).where(Trade.code == "fitter")).one() == "钳工/机修"
    assert count(seed_session, Site) == counts["sites_total"]


def test_a_village_can_move_to_another_town(seed_session: Session, config_copy: Path) -> None:
    seed(seed_session, config_copy)
    edit(
        config_copy / "sites.toml",
        'code = "LZ-TX-FHX"\nlevel = "village"\nparent = "LZ-TX"',
        ('code = "LZ-TX-FHX"\nlevel = "village"\nparent = "LZ-XJ"'),
    )

    counts = load_sites(seed_session, config_copy / "sites.toml")

    assert counts == {"total": counts["total"], "created": 0, "updated": 1, "unchanged": counts["total"] - 1}
    village = seed_session.scalars(select(Site).where(Site.code == "LZ-TX-FHX")).one()
    assert village.parent is not None and village.parent.code == "LZ-XJ"


def test_swapping_two_trades_digits_does_not_trip_the_unique_constraint(
    seed_session: Session, config_copy: Path
) -> None:
    seed(seed_session, config_copy)
    path = config_copy / "trades.toml"
    edit(path, 'code = "porter"\nivr_digit = "2"', 'code = "porter"\nivr_digit = "3"')
    edit(path, 'code = "cleaner"\nivr_digit = "3"', 'code = "cleaner"\nivr_digit = "2"')

    counts = load_trades(seed_session, path)

    assert counts["updated"] == 2
    digits = {key: value for key, value in seed_session.execute(select(Trade.code, Trade.ivr_digit))}
    assert digits["porter"] == "3" and digits["cleaner"] == "2"


def test_a_trade_left_in_the_database_keeps_its_digit_from_being_reused(
    seed_session: Session, tmp_path: Path
) -> None:
    first = tmp_path / "first.toml"
    first.write_text(trade_toml(("old_trade", "1", ["旧"])), encoding="utf-8")
    load_trades(seed_session, first)
    second = tmp_path / "second.toml"
    second.write_text(trade_toml(("new_trade", "1", ["新"])), encoding="utf-8")

    with pytest.raises(SeedError, match=r"second\.toml.*'new_trade'.*'old_trade'"):
        load_trades(seed_session, second)


def test_a_bad_file_writes_nothing(seed_session: Session, config_copy: Path) -> None:
    edit(config_copy / "trades.toml", 'ivr_digit = "12"', 'ivr_digit = "11"')

    with pytest.raises(SeedError, match=r"trades\.toml"):
        seed(seed_session, config_copy)

    # Both files are checked before either is written, so the sites were not loaded either.
    assert count(seed_session, Site) == 0
    assert count(seed_session, Trade) == 0


# --- malformed files ---------------------------------------------------------------------------------


def site_toml(*sites: dict[str, object]) -> str:
    blocks = []
    for site in sites:
        lines = ["[[site]]"]
        for key, value in site.items():
            if isinstance(value, str):
                lines.append(f'{key} = "{value}"')
            elif isinstance(value, list):
                items = ", ".join(f'"{item}"' for item in value)
                lines.append(f"{key} = [{items}]")
            else:
                lines.append(f"{key} = {str(value).lower() if isinstance(value, bool) else value}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def trade_toml(*trades: tuple[str, str, list[str]]) -> str:
    blocks = []
    for code, digit, keywords in trades:
        words = ", ".join(f'"{keyword}"' for keyword in keywords)
        blocks.append(
            f'[[trade]]\ncode = "{code}"\nivr_digit = "{digit}"\nname_zh = "{keywords[0]}"\n'
            f'name_en = "{code}"\nkeywords = [{words}]\n'
        )
    return "\n".join(blocks)


def district(**extra: object) -> dict[str, object]:
    site: dict[str, object] = {"code": "D", "level": "district", "name_zh": "区", "name_en": "D"}
    return site | {"lat": 36.2, "lon": 113.1} | extra


def town(code: str, number: int, **extra: object) -> dict[str, object]:
    site: dict[str, object] = {"code": code, "level": "town", "parent": "D", "number": number}
    site |= {"name_zh": f"镇{code}", "name_en": code, "aliases": [f"别名{code}"], "lat": 36.2, "lon": 113.1}
    return site | extra


def village(code: str, parent: str, **extra: object) -> dict[str, object]:
    site: dict[str, object] = {"code": code, "level": "village", "parent": parent}
    return site | {"name_zh": f"村{code}", "name_en": code, "lat": 36.2, "lon": 113.1} | extra


BAD_SITES = {
    "unknown parent": ([district(), town("A", 1), village("V", "NOPE")], r"site 'V'.*parent 'NOPE'"),
    "duplicate code": ([district(), town("A", 1), town("A", 2, aliases=["x"])], r"site 'A'.*code 'A'"),
    "duplicate number": ([district(), town("A", 1), town("B", 1)], r"site 'B'.*number 1.*site 'A'"),
    "duplicate alias": (
        [district(), town("A", 1, aliases=["太西"]), town("B", 2, aliases=["太西"])],
        r"site 'B'.*'太西'.*site 'A'",
    ),
    "alias is another site's name": (
        [district(), town("A", 1), town("B", 2, aliases=["镇a"])],
        r"site 'B'.*'镇a'.*site 'A'",
    ),
    "village under the district": ([district(), village("V", "D")], r"site 'V'.*must be under a town"),
    "town without a number": (
        [district(), {k: v for k, v in town("A", 1).items() if k != "number"}],
        r"site 'A'.*a town needs a number",
    ),
    "number not an integer": (
        [district(), town("A", 1) | {"number": "one"}],
        r"site 'A'.*number must be an integer",
    ),
    "village with a number": (
        [district(), town("A", 1), village("V", "A", number=3)],
        r"site 'V'.*only towns",
    ),
    "district with a parent": ([district(parent="X"), town("A", 1)], r"site 'D'.*has no parent"),
    "unknown level": ([district(), town("A", 1, level="county")], r"site 'A'.*level 'county'"),
    "misspelt key": ([district(), town("A", 1, alias=["x"])], r"site 'A'.*unknown keys \['alias'\]"),
    "missing name": (
        [district(), {"code": "A", "level": "town", "parent": "D", "number": 1}],
        r"site 'A'.*name_zh is missing",
    ),
    "latitude out of range": ([district(lat=136.2)], r"site 'D'.*lat 136.2"),
}


@pytest.mark.parametrize("sites, message", BAD_SITES.values(), ids=BAD_SITES.keys())
def test_bad_sites_file_raises_seed_error(
    seed_session: Session, tmp_path: Path, sites: list[dict[str, object]], message: str
) -> None:
    path = tmp_path / "bad_sites.toml"
    path.write_text(site_toml(*sites), encoding="utf-8")

    with pytest.raises(SeedError, match=message) as raised:
        load_sites(seed_session, path)

    assert str(path) in str(raised.value)
    assert count(seed_session, Site) == 0


def test_a_good_small_sites_file_loads(seed_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "sites.toml"
    # Children before parents in the file is fine: seed orders by level.
    path.write_text(site_toml(village("V", "A"), town("A", 1), district()), encoding="utf-8")

    assert load_sites(seed_session, path) == {"total": 3, "created": 3, "updated": 0, "unchanged": 0}


BAD_TRADES = {
    "duplicate digit": (trade_toml(("a", "1", ["甲"]), ("b", "1", ["乙"])), r"trade 'b'.*ivr_digit '1'.*'a'"),
    "duplicate keyword": (
        trade_toml(("a", "1", ["甲", "电工"]), ("b", "2", ["乙", "电工"])),
        r"trade 'b'.*keyword '电工'.*trade 'a'",
    ),
    "keyword differing only in case": (
        trade_toml(("a", "1", ["甲", "Plumber"]), ("b", "2", ["乙", "plumber"])),
        r"trade 'b'.*'plumber'",
    ),
    "duplicate code": (trade_toml(("a", "1", ["甲"]), ("a", "2", ["乙"])), r"trade 'a'.*code 'a'"),
    "digit with a leading zero": (trade_toml(("a", "01", ["甲"])), r"trade 'a'.*ivr_digit '01'"),
    "keyword that is a number": (trade_toml(("a", "1", ["甲", "7"])), r"trade 'a'.*keyword '7'"),
    "code not snake case": (trade_toml(("Water-Man", "1", ["甲"])), r"'Water-Man'.*snake_case"),
    "digit as an integer": (
        '[[trade]]\ncode = "a"\nivr_digit = 1\nname_zh = "甲"\nname_en = "A"\nkeywords = ["甲"]\n',
        r"trade 'a'.*ivr_digit must be a non-empty string",
    ),
    "no keywords": (
        '[[trade]]\ncode = "a"\nivr_digit = "1"\nname_zh = "甲"\nname_en = "A"\nkeywords = []\n',
        r"trade 'a'.*keywords must not be empty",
    ),
    "not toml": ("[[trade]\ncode = ", r"not valid TOML"),
    "no trade tables": ('[[trades]]\ncode = "a"\n', r"unexpected top-level keys \['trades'\]"),
}


@pytest.mark.parametrize("text, message", BAD_TRADES.values(), ids=BAD_TRADES.keys())
def test_bad_trades_file_raises_seed_error(
    seed_session: Session, tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad_trades.toml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(SeedError, match=message) as raised:
        load_trades(seed_session, path)

    assert str(path) in str(raised.value)
    assert count(seed_session, Trade) == 0


def test_seed_error_is_a_value_error() -> None:
    assert issubclass(SeedError, ValueError)

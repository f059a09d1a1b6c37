"""What create_app keeps for the process (dispatch/url_rules.py, dispatch/templating.py): a second app
shares the first one's URL builders and compiled templates, and gets the same URLs and pages as
without them; a template edited or an environment configured otherwise is compiled again."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import DictLoader, Environment, FileSystemLoader, TemplateAssertionError
from werkzeug.routing import AnyConverter, BaseConverter, IntegerConverter, Map, Rule

from dispatch import create_app
from dispatch.templating import BYTECODE_CACHE, ProcessBytecodeCache
from dispatch.url_rules import CachedRule


def sample(converter: BaseConverter) -> object:
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[-1]
    return 7 if isinstance(converter, IntegerConverter) else "a b/ü"


def built(rule: Rule, values: dict[str, object]) -> tuple[tuple[str, str] | None, tuple[str, str] | None]:
    return rule.build(values, append_unknown=False), rule.build({**values, "page": "2"})


def test_every_url_of_the_app_is_built_as_werkzeug_builds_it(app):
    plain = Map()
    for rule in app.url_map.iter_rules():
        assert isinstance(rule, CachedRule)
        twin = Rule(rule.rule, **rule.get_empty_kwargs())
        plain.add(twin)
        values = {name: sample(converter) for name, converter in rule._converters.items()}
        assert built(rule, values) == built(twin, values), rule.rule


def test_a_second_app_shares_the_url_builders(app):
    again = create_app(runtime=app.extensions["dispatch.runtime"])
    first = {rule.rule: rule for rule in app.url_map.iter_rules()}
    for rule in again.url_map.iter_rules():
        assert rule is not first[rule.rule] and rule.map is again.url_map  # the rules are the app's own
        assert rule._build.__func__ is first[rule.rule]._build.__func__  # their builders are shared
        assert rule._build_unknown.__func__ is first[rule.rule]._build_unknown.__func__


class Upper(BaseConverter):
    def to_url(self, value: str) -> str:
        return value.upper()


def test_url_builders_differ_where_their_sources_differ():
    lower, upper = Map(), Map(converters={"code": Upper})
    lower.converters["code"] = BaseConverter
    for url_map in (lower, upper):
        url_map.add(CachedRule("/j/<code:code>", endpoint="job"))
        url_map.add(CachedRule("/page/<int:n>", endpoint="first", defaults={"n": 1}))
        url_map.add(CachedRule("/page/<int:n>", endpoint="second", defaults={"n": 2}))
    assert lower.bind("example.org").build("job", {"code": "ab"}) == "/j/ab"
    assert upper.bind("example.org").build("job", {"code": "ab"}) == "/j/AB"  # the converter's class
    assert lower.bind("example.org").build("first") == "/page/1"
    assert lower.bind("example.org").build("second") == "/page/2"  # a default built in as a constant


def test_a_second_app_renders_the_compiled_templates(app):
    first = app.test_client().get("/console/sign-in")
    assert first.status_code == 200
    compiled = dict(BYTECODE_CACHE._code)
    assert compiled  # the page's templates, compiled (here or by an earlier test)
    again = create_app(runtime=app.extensions["dispatch.runtime"])
    second = again.test_client().get("/console/sign-in")
    assert second.status_code == 200 and BYTECODE_CACHE._code == compiled  # loaded, none compiled again
    form = '<form method="post"'
    assert form in first.get_data(as_text=True) and form in second.get_data(as_text=True)


def test_an_edited_template_is_compiled_again(tmp_path: Path):
    cache = ProcessBytecodeCache()
    page = tmp_path / "page.txt"
    page.write_text("one {{ n }}")
    first = Environment(loader=FileSystemLoader(tmp_path), bytecode_cache=cache)
    assert first.get_template("page.txt").render(n=1) == "one 1"
    page.write_text("two {{ n }}")
    second = Environment(loader=FileSystemLoader(tmp_path), bytecode_cache=cache)
    assert second.get_template("page.txt").render(n=1) == "two 1"


def test_environments_configured_otherwise_compile_their_own():
    cache = ProcessBytecodeCache()
    source = {"page.txt": "{% if n %}\nyes\n{% endif %}\n{{ n | shout }}"}
    loud = Environment(loader=DictLoader(source), bytecode_cache=cache)
    loud.filters["shout"] = lambda value: f"{value}!"
    assert loud.get_template("page.txt").render(n=1) == "\nyes\n\n1!"
    trimmed = Environment(loader=DictLoader(source), bytecode_cache=cache, trim_blocks=True)
    trimmed.filters["shout"] = lambda value: f"{value}!"
    assert trimmed.get_template("page.txt").render(n=1) == "yes\n1!"
    without_filter = Environment(loader=DictLoader(source), bytecode_cache=cache)
    with pytest.raises(TemplateAssertionError, match="shout"):  # as without a cache: refused at compile
        without_filter.get_template("page.txt")

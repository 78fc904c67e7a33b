"""The template sandbox: the payloads of the bad-input catalogue are live (plain Jinja runs them), and the
sandbox refuses each of them before or while rendering; what questionnaire templates need still works."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest
from test_bad_input_catalogue import SENTINEL, TEMPLATE_PAYLOADS

from silicon_sample import templating
from silicon_sample.errors import SpecError
from silicon_sample.population.personas import load_template, shipped_styles

CONTEXT = {"attributes": [{"name": "age", "label": "Age", "value": "34", "question": None}], "name": "Ann",
           "cue_type": "explicit", "variant": 3, "age": "34"}


def test_the_command_payload_runs_under_plain_jinja_so_the_refusal_is_what_stops_it():
    Path(SENTINEL).unlink(missing_ok=True)
    try:
        jinja2.Environment().from_string(TEMPLATE_PAYLOADS[0][1]).render()
        assert Path(SENTINEL).exists()
    finally:
        Path(SENTINEL).unlink(missing_ok=True)


@pytest.mark.parametrize("what,payload,fragment", TEMPLATE_PAYLOADS, ids=[p[0] for p in TEMPLATE_PAYLOADS])
def test_every_payload_is_refused_in_one_line_naming_the_file_and_nothing_runs(what, payload, fragment):
    Path(SENTINEL).unlink(missing_ok=True)
    with pytest.raises(SpecError) as refused:
        templating.render(payload, "style.j2", **CONTEXT)
    assert fragment in refused.value.what and refused.value.where == "style.j2"
    assert "\n" not in refused.value.message
    assert refused.value.what.startswith("line 1: ") or "sandbox refuses" in refused.value.what
    assert not Path(SENTINEL).exists()


@pytest.mark.parametrize("source", [
    "{{ cycler }}", "{{ joiner() }}", "{{ namespace(a=1) }}", "{{ dict(a=1) }}"])
def test_jinja_helper_objects_are_not_there(source):
    with pytest.raises(SpecError):
        templating.render(source, "t.j2")


@pytest.mark.parametrize("source,expected", [
    ("{{ name|upper }} {{ attributes|map(attribute='label')|join(', ') }}", "ANN Age"),
    ("{% for a in attributes %}{{ loop.index }}. {{ a.label|lower }}: {{ a.value }}{% endfor %}", "1. age: 34"),
    ("{{ name.lower().title() }} {{ '%s years'|format(age) }} {{ range(3)|list|length }}", "Ann 34 years 3"),
    ("{% macro line(x) %}- {{ x }}{% endmacro %}{{ line(name) }}", "- Ann"),
    ("{{ ['a', 'b'][variant % 2] }} {{ {'x': 1}.get('x') }} {{ name.startswith('A') }}", "b 1 True"),
    ("{% for i in range(2) %}{{ loop.cycle('o', 'e') }}{% endfor %}", "oe"),
])
def test_what_questionnaire_templates_use_still_renders(source, expected):
    assert templating.render(source, "t.j2", **CONTEXT) == expected


def test_every_shipped_persona_style_loads_through_the_sandbox():
    for style in shipped_styles():
        template = load_template(style)
        attributes = [type("A", (), {"name": name, "label": name.title(), "question": None})()
                      for name in ("age", "description")]          # a catalogue persona has a description (role)
        assert template.render({"age": "34", "description": "a nurse", "persona_id": "P1"}, attributes,
                               variant=1) is not None


def test_a_template_over_the_size_limit_is_refused_before_it_is_parsed():
    with pytest.raises(SpecError, match="more than the 65,536"):
        templating.check_template("{{" * 40_000, "big.j2")


def test_a_chat_template_keeps_namespace_and_the_callbacks_it_is_given():
    source = ("{%- set ns = namespace(n=0) -%}{%- for m in messages -%}{%- set ns.n = ns.n + 1 -%}{%- endfor -%}"
              "{{ ns.n }}{% if messages|length > 5 %}{{ raise_exception('too many') }}{% endif %}")
    templating.check_template(source, "chat", environment=templating.CHAT_SANDBOX,
                              forbidden=templating.CHAT_FORBIDDEN_NAMES)
    raised = []

    @templating.template_callable
    def raise_exception(message):
        raised.append(message)
        return ""

    template = templating.CHAT_SANDBOX.from_string(source)
    assert template.render(messages=[1, 2], raise_exception=raise_exception) == "2"
    template.render(messages=list(range(7)), raise_exception=raise_exception)
    assert raised == ["too many"]
    with pytest.raises(jinja2.exceptions.SecurityError):     # an unmarked function may not be called
        templating.CHAT_SANDBOX.from_string("{{ f() }}").render(f=os.getcwd)

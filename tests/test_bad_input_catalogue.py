"""The catalogue of bad inputs, part two: study, instrument, population, template, layout and command-line
mistakes, each a row of (input, exit code, message fragment). Every row is run through the command line
(in this process, for speed: the same ``main`` the console script calls) and must end with that exit code,
one line on stderr holding the fragment, no traceback, and nothing written. A bad study is refused the same
way by ``validate``, by ``run --dry-run`` and by ``run`` before it creates its folder. Part one
(tests/test_bad_inputs.py) holds the backend options, damaged runs, prices, exports, baselines and limits.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
from pathlib import Path

import pytest
import yaml

from silicon_sample.cli import main

from support.studies import MINI5

ROOT = Path(__file__).resolve().parents[1]
SERVER = {"id": "m", "backend": "openai", "model": "gpt-4o-mini", "answer_mode": "sample",
          "options": {"base_url": "http://127.0.0.1:9/v1"}}
BASE = {"id": "catalogue", "seed": 7, "population": {"name": "psych_bfi", "n": 2}, "instruments": [MINI5],
        "models": [SERVER]}


def invoke(*args) -> tuple[int, str]:
    """``silicon-sample ARGS`` in this process: (exit code, stderr)."""
    err = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code
    return code, err.getvalue()


def files(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _with(**changes):
    return lambda tmp: {**copy.deepcopy(BASE), **changes}


def _model(**changes):
    return lambda tmp: {**copy.deepcopy(BASE), "models": [{**SERVER, **changes}]}


def _options(**changes):
    return _model(options={**SERVER["options"], **changes})


def _population(**changes):
    return _with(population={**BASE["population"], **changes})


def _instrument(change):
    def make(tmp):
        spec = yaml.safe_load(open(MINI5))
        change(spec)
        path = tmp / "instrument.yaml"
        path.write_text(yaml.safe_dump(spec))
        return {**copy.deepcopy(BASE), "instruments": [str(path)]}
    return make


def _added_item(**fields):
    """mini5 with one more item (an item type's fields), so every scale keeps its items."""
    return _instrument(lambda s: s["items"].append({"id": "X1", "text": "A question?", **fields}))


TWO = {"options": [{"value": 1, "label": "None of these", "exclusive": True}, {"value": 2, "label": "Other"}]}
PLAIN = {"options": [{"value": 1, "label": "Yes"}, {"value": 2, "label": "No"}]}


def _file(name, text, key, value=None):
    def make(tmp):
        (tmp / name).write_bytes(text if isinstance(text, bytes) else text.encode())
        return {**copy.deepcopy(BASE), key: value(tmp / name) if value else str(tmp / name)}
    return make


LAYOUT = (ROOT / "templates" / "prompts" / "questionnaire.yaml").read_text()
SENTINEL = "/tmp/silicon-sample-template-sentinel"
"""What a payload that ran would create (tests/test_templating.py shows that each does under plain Jinja)."""
TEMPLATE_PAYLOADS = [    # (what it tries, the template, the message fragment)
    ("runs a command through cycler", "{{ cycler.__init__.__globals__.os.popen('touch " + SENTINEL + "').read() }}",
     "reaches for the attribute '__globals__'"),
    ("runs a command through joiner", "{{ joiner.__init__.__globals__.os.popen('touch " + SENTINEL + "') }}",
     "reaches for the attribute '__globals__'"),
    ("runs a command through namespace", "{{ namespace.__init__.__globals__.os.system('touch " + SENTINEL + "') }}",
     "reaches for the attribute '__globals__'"),
    ("runs a command through lipsum", "{{ lipsum.__globals__['os'].popen('touch " + SENTINEL + "') }}",
     "reaches for the attribute '__globals__'"),
    ("reaches the context through self", "{{ self._TemplateReference__context.cycler }}",
     "reaches for the attribute '_TemplateReference__context'"),
    ("uses the attr filter", "{{ cycler|attr('__init__')|attr('__globals__') }}", "uses the `attr` filter"),
    ("walks the class hierarchy", "{{ ''.__class__.__mro__[1].__subclasses__() }}",
     "reaches for the attribute '__subclasses__'"),
    ("subscripts a dunder", "{{ name['__class__'] }}", "names '__class__'"),
    ("names lipsum", "{{ lipsum(1) }}", "uses 'lipsum'"),
    ("names self", "{{ self }}", "uses 'self'"),
    ("builds a dunder at run time", "{% set d = '_' ~ '_class__' %}{{ cue_type[d] }}",
     "tried something the sandbox refuses"),
    ("mutates the attributes", "{{ attributes.pop() }}", "tried something the sandbox refuses"),
    ("calls a builtin through a method", "{{ cue_type.format.__self__ }}", "reaches for the attribute '__self__'"),
]
ALIAS_BOMB = "\n".join(["a: &a [x, x, x, x, x, x, x, x, x, x]"] + [
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]" for i in range(8)]) + "\nid: *i\n"


BASELINE = (ROOT / "human_baselines" / "psych_bfi.yaml").read_text()


def _text(tmp, name, text):
    (tmp / name).write_text(text)
    return tmp / name


def _fake_run(tmp):
    """A folder that looks like a run (its copy of the study is there): outputs are checked before it is read."""
    (tmp / "inputs").mkdir(exist_ok=True)
    (tmp / "inputs" / "study.resolved.yaml").write_text("id: x\n")
    return tmp


def _linked(name, target, key):
    def make(tmp):
        (tmp / name).symlink_to(target)
        return {**copy.deepcopy(BASE), key: [str(tmp / name)] if key == "persona_styles" else str(tmp / name)}
    return make


def _set(path: list, value):
    def change(spec):
        target = spec
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


STUDIES = {
    # the study file itself
    "not YAML": (lambda tmp: "id: [unclosed\n", "YAML syntax error"),
    "a list, not a mapping": (lambda tmp: "- a\n- b\n", "expected a mapping at the top level"),
    "not UTF-8": (lambda tmp: b"\xff\xfe\x00id: x\n", "the file is not UTF-8 text"),
    "no seed": (lambda tmp: {k: v for k, v in BASE.items() if k != "seed"}, "'seed' is a required property"),
    "seed as text": (_with(seed="abc"), "seed: 'abc' is not of type 'integer'"),
    "a misspelt key": (_with(sead=3), "unknown field(s) ('sead' was unexpected)"),
    "n 0": (_population(n=0), "population.n: 0 is less than the minimum of 1"),
    "n negative": (_population(n=-3), "population.n: -3 is less than the minimum of 1"),
    "n 2.5": (_population(n=2.5), "population.n: 2.5 is not of type 'integer'"),
    "unknown population": (_population(name="psych_bfx"), "no shipped populations named 'psych_bfx'"),
    "unknown sampling method": (_population(method="snowball"), "population.method: 'snowball' is not one of"),
    "strata not an attribute": (_population(method="stratified", strata=["income"]),
                                "population.strata: income is not an attribute of psych_bfi"),
    "strata without stratified sampling": (_population(strata=["gender"]),
                                           "population.strata are used only by method: stratified"),
    "unknown weighting target": (_population(weighting={"target": "nowhere"}), "no shipped populations named"),
    "weighting variable not shared": (
        _population(weighting={"target": "us_adults_agesex2020", "variables": ["income"]}),
        "population.weighting.variables: ['income'] are not attributes of both"),
    "unknown instrument": (_with(instruments=["bfi26"]), "no shipped instruments named 'bfi26'"),
    "no instruments": (_with(instruments=[]), "instruments: [] should be non-empty"),
    "one instrument twice": (_with(instruments=[MINI5, MINI5]), "the same instrument is named twice"),
    "instrument file missing": (lambda tmp: {**BASE, "instruments": [str(tmp / "nope.yaml")]},
                                "instrument file not found"),
    "no models": (_with(models=[]), "models: [] should be non-empty"),
    "two models with one id": (_with(models=[SERVER, SERVER]), "duplicate model id(s) m"),
    "a model id with a slash": (_model(id="a/b"), "models[0].id: 'a/b' does not match"),
    "unknown backend": (_model(backend="openia"), "models[0].backend: 'openia' is not a registered backend"),
    "unknown answer mode": (_model(answer_mode="guess"), "models[0].answer_mode: 'guess' is not one of"),
    "negative temperature": (_model(temperature=-1), "models[0].temperature: -1 is less than the minimum of 0"),
    "temperature as text": (_model(temperature="hot"), "models[0].temperature: 'hot' is not of type 'number'"),
    "replicates 0": (_model(replicates=0), "models[0].replicates: 0 is less than the minimum of 1"),
    "max_tokens 0": (_model(max_tokens=0), "models[0].max_tokens: 0 is less than the minimum of 1"),
    "no model name for a server": (lambda tmp: {**BASE, "models": [{k: v for k, v in SERVER.items() if k != "model"}]},
                                   "an OpenAI-compatible backend needs `model`"),
    "an API key written in the study": (_options(api_key="sk-123"), "unknown option(s) api_key"),
    "base_url not http": (_options(base_url="ftp://example.org/v1"), "is not an http(s) URL with a host"),
    "base_url without a host": (_options(base_url="http:///v1"), "is not an http(s) URL with a host"),
    "base_url with a bad port": (_options(base_url="http://127.0.0.1:99999/v1"), "has an invalid port"),
    "base_url empty": (_options(base_url=""), "base_url is empty"),
    "Ollama host empty": (lambda tmp: {**BASE, "models": [{"id": "o", "backend": "ollama", "model": "llama3.2:3b",
                                                          "options": {"host": ""}}]},
                          "models[].options.host: host is empty — give the Ollama server's URL, e.g. http://127.0.0.1:11434"),
    "unknown item order": (_with(item_order="shuffled"), "item_order: 'shuffled' is not one of"),
    "unknown persona style": (_with(persona_styles=["haiku"]), "no shipped persona template named 'haiku'"),
    "unknown cue type": (_with(cue_types=["telepathic"]), "cue_types[0]: 'telepathic' is not one of"),
    "unknown prompt layout": (_with(prompt_layout="fancy"), "no shipped prompt layout named 'fancy'"),
    # presentation, blocks and perturbations
    "presentation of an instrument the study lacks": (_with(presentation={"bfi25": "battery"}),
                                                      "presentation: 'bfi25' is not an instrument of the study"),
    "unknown presentation mode": (_with(presentation={"mini5": "chat"}), "presentation.mini5: 'chat' is not valid"),
    "a block naming an unknown item": (_with(presentation={"mini5": {"mode": "battery", "blocks": [
        {"id": "b", "items": ["A2", "C4", "E4", "N1", "O1", "X9"]}]}}), "block 'b' names item 'X9'"),
    "an item in two blocks": (_with(presentation={"mini5": {"blocks": [
        {"id": "b1", "items": ["A2", "C4", "E4"]}, {"id": "b2", "items": ["E4", "N1", "O1"]}]}}),
        "item 'E4' is in blocks 'b1' and 'b2'"),
    "an item in no block": (_with(presentation={"mini5": {"blocks": [{"id": "b1", "items": ["A2", "C4"]}]}}),
                            "item(s) E4, N1, O1 are in no block"),
    "a battery with free-text reasons": (lambda tmp: {**copy.deepcopy(BASE), "presentation": {"mini5": "battery"},
                                                      "models": [{**SERVER, "free_text_reason": True}]},
                                         "has no room for a free-text reason"),
    "a battery read as distributions from a server": (
        lambda tmp: {**copy.deepcopy(BASE), "presentation": {"mini5": "battery"},
                     "models": [{**SERVER, "answer_mode": "distribution"}]},
        "cannot read a battery in distribution mode"),
    "a conversation through the Batch API": (
        lambda tmp: {**copy.deepcopy(BASE), "presentation": {"mini5": "conversation"},
                     "models": [{**SERVER, "backend": "openai_batch"}]},
        "conversation presentation is not available with it"),
    "unknown perturbation": (_with(perturbations=["upside_down"]), "perturbations[0]: 'upside_down' is not one of"),
    "a perturbation listed twice": (_with(perturbations=["original", "original"]), "has non-unique elements"),
    "labels only in distribution mode": (_with(perturbations=["labels_only"], models=[{**SERVER,
                                                                                       "answer_mode": "distribution"}]),
                                         "labels_only needs sample mode"),
    "paraphrases the instrument does not have": (_with(perturbations=["instructions_paraphrase_1"]),
                                                 "has no instruction_paraphrases"),
    # files the study names
    "persona template with an unknown attribute": (
        _file("bad.j2", "I am {{ favourite_colour }}.", "persona_styles", lambda p: [str(p)]),
        "template uses an undefined variable: 'favourite_colour' is undefined"),
    "persona template syntax": (_file("bad.j2", "I am {% if %}.", "persona_styles", lambda p: [str(p)]),
                                "template syntax error"),
    "persona template not UTF-8": (_file("bad.j2", b"\xff\xfeI am", "persona_styles", lambda p: [str(p)]),
                                   "the template is not UTF-8 text"),
    "layout that never shows the item": (_file("layout.yaml", LAYOUT.replace("{{ item }}", ""), "prompt_layout"),
                                         "user: the template never shows {{ item }}"),
    "layout that never shows the persona": (
        _file("layout.yaml", LAYOUT.replace("{{ persona }}", ""), "prompt_layout"),
        "system: the template never shows {{ persona }}"),
    "layout syntax": (_file("layout.yaml", LAYOUT.replace("{{ item }}", "{{ item "), "prompt_layout"),
                      "user: line 1: template syntax error"),
    "layout with an unknown variable": (
        _file("layout.yaml", LAYOUT.replace("{{ item }}", "{{ item }} {{ question_number }}"), "prompt_layout"),
        "user: unknown template variable(s) question_number"),
    "name cues missing": (lambda tmp: {**BASE, "cue_types": ["name"], "name_cues": str(tmp / "none.yaml")},
                          "name-cue file not found"),
    "name cues without lists": (lambda tmp: {**_file("names.yaml", "names: [Ann, Bob]\n", "name_cues")(tmp),
                                             "cue_types": ["name"]}, "a name-cue file needs `lists`"),
    "name cues without the name cue type": (_file("names.yaml", "lists: []\n", "name_cues"),
                                            "name_cues is given but cue_types has no `name`"),
    # hostile study files (issue 25): templates that try to run code or read files, YAML that tries to exhaust
    # the machine. The sentinel a payload would create lies in the test's folder, so "nothing written" also
    # proves that nothing ran.
    **{f"persona style that {what}": (_file("style.j2", payload, "persona_styles", lambda p: [str(p)]), fragment)
       for what, payload, fragment in TEMPLATE_PAYLOADS},
    **{f"prompt layout that {what}": (_file("layout.yaml", LAYOUT.replace("{{ item }}", "{{ item }}" + payload),
                                            "prompt_layout"), fragment)
       for what, payload, fragment in TEMPLATE_PAYLOADS[:6]},
    "persona style /proc/self/environ": (_with(persona_styles=["/proc/self/environ"]),
                                         "must be a shipped one or a file in the study's folder"),
    "persona style /etc/passwd": (_with(persona_styles=["/etc/passwd"]),
                                  "must be a shipped one or a file in the study's folder"),
    "persona style ~/.bashrc": (_with(persona_styles=["~/.bashrc"]),
                                "must be a shipped one or a file in the study's folder"),
    "persona style through ../": (_with(persona_styles=["../outside.j2"]),
                                  "must be a shipped one or a file in the study's folder"),
    "persona style linked outside the study's folder": (_linked("style.j2", "/etc/passwd", "persona_styles"),
                                                        "must be a shipped one or a file in the study's folder"),
    "prompt layout /proc/self/environ": (_with(prompt_layout="/proc/self/environ"),
                                         "must be a shipped one or a file in the study's folder"),
    "name cues /proc/self/environ": (_with(cue_types=["name"], name_cues="/proc/self/environ"),
                                     "must be a shipped one or a file in the study's folder"),
    "instrument /proc/self/environ": (_with(instruments=["/proc/self/environ"]), "files are never read from /proc"),
    "population from /dev/zero": (_population(name="/dev/zero.yaml"), "files are never read from /dev"),
    "persona style of 100 KB": (_file("style.j2", "x" * 100_000, "persona_styles", lambda p: [str(p)]),
                                "more than the 65,536 a template may have"),
    "a YAML alias bomb": (lambda tmp: ALIAS_BOMB, "its aliases expand to more than 1,000,000 values"),
    "a YAML alias that contains itself": (lambda tmp: "id: &a [*a]\n", "refers to a node that contains it"),
    "YAML nested 10,000 deep": (lambda tmp: "id: " + "[" * 10_000 + "]" * 10_000 + "\n",
                                "nests lists and mappings more than 64 deep"),
    "YAML mappings nested 200 deep": (lambda tmp: "".join(f"{'  ' * i}k{i}:\n" for i in range(200)),
                                        "nests lists and mappings more than 64 deep"),
    "a seed of a million characters": (_with(seed="x" * 1_000_000), "more characters)"),
    "a study file of 20 MB": (lambda tmp: "# " + "x" * 20_000_000 + "\n", "more than the 8,388,608 a file may have"),
    # the instrument
    "duplicate item id": (_instrument(lambda s: s["items"].append(dict(s["items"][0]))),
                          "items[5].id: duplicate item id 'A2'"),
    "a scale of one option": (_instrument(lambda s: s["response_scale"].update(
        options=s["response_scale"]["options"][:1])), "response_scale.options: [{'label': 'Very Inaccurate'"),
    "duplicate option value": (_instrument(lambda s: s["response_scale"]["options"].__setitem__(
        1, {"value": 1, "label": "again"})), "option values must be unique, got [1, 1, 3, 4, 5, 6]"),
    "item on an undeclared scale": (_instrument(_set(["items", 0, "scale"], "kindness")),
                                    "items[0].scale: 'kindness' is not declared in scoring.scales"),
    "empty item text": (_instrument(_set(["items", 0, "text"], "")), "items[0].text: '' should be non-empty"),
    "no items": (_instrument(_set(["items"], [])), "items: [] should be non-empty"),
    "reverse as text": (_instrument(_set(["items", 0, "reverse"], "maybe")),
                        "items[0].reverse: 'maybe' is not of type 'boolean'"),
    "unknown scoring method": (_instrument(_set(["scoring", "method"], "median")),
                               "scoring.method: 'median' is not one of"),
    "negative option code": (_instrument(_set(["response_scale", "options", 0, "value"], -1)),
                             "response_scale.options[0].value: -1 is less than the minimum of 0"),
    "empty option label": (_instrument(_set(["response_scale", "options", 0, "label"], "")),
                           "response_scale.options[0].label: '' should be non-empty"),
    "a numeric item with min above max": (_added_item(type="numeric", min=100, max=0),
                                          "items[5]: min (100) must be below max (0)"),
    "a numeric item without max": (_added_item(type="numeric", min=0), "items[5]: a numeric item needs max"),
    "a special code inside the range": (_added_item(type="numeric", min=0, max=100, special=[
        {"value": 50, "label": "Don't know"}]), "code 50 (Don't know) lies inside the range 0 to 100"),
    "a step that does not divide the range": (_added_item(type="numeric", min=0, max=10, step=4),
                                              "step: 4 does not divide the range 0 to 10"),
    "a check-all item allowing one choice, beside its exclusive option": (
        _added_item(type="multiple", max_selected=1, response_scale=TWO),
        "a check-all-that-apply item with at most one choice is a single-choice item"),
    "a check-all item whose every option is exclusive": (
        _added_item(type="multiple", response_scale={"options": [{**o, "exclusive": True} for o in TWO["options"]]}),
        "every option is exclusive, so no two can be chosen together"),
    "an exclusive option on a single-choice item": (_added_item(response_scale=TWO),
                                                    "only a multiple item's option can be"),
    "a rank of one option": (_added_item(type="rank", rank_top=1, response_scale=PLAIN),
                             "items[5].rank_top: 1 is less than the minimum of 2"),
    "a rank of more options than it has": (_added_item(type="rank", rank_top=3, response_scale=PLAIN),
                                           "rank_top: 3 is more than the 2 options"),
    "a knowledge item without its right answer": (_added_item(type="knowledge", response_scale=PLAIN),
                                                  "a knowledge item needs `correct:`"),
    "a text item with options": (_added_item(type="text", response_scale=PLAIN), "a text item has no options"),
    "a text item on a scale": (_added_item(type="text", scale="openness"), "a text item cannot be scored"),
    "a field of another type": (_added_item(type="numeric", min=0, max=10, correct=1),
                                "only a knowledge item has 'correct'"),
    "a catalogue study selecting an unknown category": (
        _with(population={"name": "persona_behavior", "categories": ["gender", "astrology"]}),
        "population.categories: 'astrology' is not a category of persona_behavior"),
    "a demographic study selecting categories": (_population(per_category=2),
                                                 "population.per_category selects from a catalogue population"),
    "a numeric item in distribution mode on a server": (
        lambda tmp: {**_added_item(type="numeric", min=0, max=100)(tmp),
                     "models": [{**SERVER, "answer_mode": "distribution"}]},
        "backend openai cannot read a distribution over the answers of a numeric item"),
}


@pytest.mark.parametrize("name", list(STUDIES))
def test_a_bad_study_gets_one_line_from_validate_dry_run_and_run_and_nothing_is_written(tmp_path, name):
    make, fragment = STUDIES[name]
    spec = make(tmp_path)
    study = tmp_path / "study.yaml"
    study.write_bytes(spec if isinstance(spec, bytes) else (
        spec if isinstance(spec, str) else yaml.safe_dump(spec, sort_keys=False)).encode())
    before = files(tmp_path)
    for args in (("validate", study), ("run", study, "--dry-run"), ("run", study, "--out", tmp_path / "run")):
        code, stderr = invoke(*args)
        assert code == 2, (args, stderr)
        assert fragment in stderr, (args, stderr)
        assert len(stderr.strip().splitlines()) == 1 and stderr.startswith("error: "), stderr
        assert len(stderr) < 2_000, f"{len(stderr):,} characters"
        assert "Traceback" not in stderr and "error: unexpected" not in stderr
    assert files(tmp_path) == before and not (tmp_path / "run").exists()
    assert not Path(SENTINEL).exists()


def _population_file(tmp, text):
    (tmp / "population.yaml").write_text(text)
    return ("validate", tmp / "population.yaml")


POPULATION = (ROOT / "populations" / "us_adults_agesex2020.yaml").read_text()
CATALOGUE = (ROOT / "populations" / "persona_behavior.yaml").read_text()

COMMANDS = {
    "a population count below 0": (lambda tmp: _population_file(
        tmp, POPULATION.replace("value: 15146696", "value: -5")), 2,
        "joint[0].cells[0].value: -5 is less than the minimum of 0"),
    "a population of an unknown kind": (lambda tmp: _population_file(tmp, POPULATION.replace("kind: marginals",
                                                                                             "kind: census")),
                                        2, "kind: 'census' is not one of ['marginals', 'microdata', 'catalogue']"),
    "a file of no known kind": (lambda tmp: _population_file(tmp, "hello: world\n"), 2,
                                "cannot tell what kind of file this is"),
    "validate a missing file": (lambda tmp: ("validate", tmp / "nope.yaml"), 2, "file not found"),
    "validate a folder": (lambda tmp: ("validate", tmp), 2, "is a directory"),
    "status of a folder that is not a run": (lambda tmp: ("status", tmp), 2, "not a silicon-sample run"),
    "status of a missing folder": (lambda tmp: ("status", tmp / "nothing"), 2, "run directory not found"),
    "resume of a folder that is not a run": (lambda tmp: ("resume", tmp), 2, "not a silicon-sample run"),
    "repair of a missing folder": (lambda tmp: ("repair", tmp / "nothing"), 2, "run directory not found"),
    "repair of a folder that is not a run": (lambda tmp: ("repair", tmp), 2,
                                             "cannot repair: the run's copy of its study"),
    "bayes of a folder that is not a run": (lambda tmp: ("bayes", tmp, "--baseline", "psych_bfi", "--outcome", "x",
                                                         "--attribute", "y"), 2, "not a silicon-sample run"),
    "export in an unknown format": (lambda tmp: ("export", tmp, "--format", "xlsx", "-o", "-"), 2,
                                    "Invalid value for '--format'"),
    "run without --out": (lambda tmp: ("run", tmp / "study.yaml"), 2, "--out is required (unless --dry-run)"),
    "run against a server where nothing listens": (lambda tmp: ("run", tmp / "study.yaml", "--out", tmp / "run"), 2,
                                                   "cannot connect to the server: 127.0.0.1:9"),
    "run --n 0": (lambda tmp: ("run", tmp / "study.yaml", "--n", "0", "--dry-run"), 2,
                  "--n must be a positive whole number, got 0"),
    "run --n -1": (lambda tmp: ("run", tmp / "study.yaml", "--n", "-1", "--dry-run"), 2,
                   "--n must be a positive whole number, got -1"),
    "a price table that is missing": (lambda tmp: ("run", tmp / "study.yaml", "--dry-run", "--prices",
                                                   tmp / "nope.yaml"), 2, "file not found"),
    "compare with an unknown baseline": (lambda tmp: ("compare", tmp, "--baseline", "psych_bfx"), 2,
                                         "no shipped human_baselines named 'psych_bfx'"),
    "rank with no runs": (lambda tmp: ("rank", "--baseline", "psych_bfi"), 2, "Missing argument 'RUN_DIRS...'"),
    "an unknown command": (lambda tmp: ("frobnicate",), 2, "No such command 'frobnicate'"),
    # hostile files and outputs (issue 25)
    "a QSF survey nested 100,000 deep": (lambda tmp: ("import-qsf", _text(tmp, "deep.qsf", "[" * 10**5 + "]" * 10**5),
                                                      "-o", tmp / "out.yaml"), 2, "not a QSF file: it nests more than"),
    "a QSF survey from /proc": (lambda tmp: ("import-qsf", "/proc/self/environ", "-o", tmp / "out.yaml"), 2,
                                "survey files are never read from /proc"),
    "import-qsf over its own survey": (lambda tmp: ("import-qsf", _text(tmp, "s.qsf", "{}"), "-o", tmp / "s.qsf",
                                                    "--force"), 2, "the output is an input of this command"),
    "validate an alias bomb": (lambda tmp: ("validate", _text(tmp, "bomb.yaml", ALIAS_BOMB)), 2,
                               "its aliases expand to more than 1,000,000 values"),
    "validate a file nested 1,000 deep": (lambda tmp: ("validate", _text(tmp, "deep.yaml", "a: " + "[" * 1000)), 2,
                                          "nests lists and mappings more than 64 deep"),
    "report onto a run's database": (lambda tmp: ("report", _fake_run(tmp), "-o", tmp / "responses.sqlite"), 2,
                                     "would overwrite the run's own files"),
    "export onto a run's manifest": (lambda tmp: ("export", _fake_run(tmp), "--format", "csv", "-o",
                                                  tmp / "manifest.json"), 2, "would overwrite the run's own files"),
    "export into a run's inputs": (lambda tmp: ("export", _fake_run(tmp), "-o", tmp / "inputs" / "x.csv"), 2,
                                   "would overwrite the run's own files"),
    "codebook onto a run's study": (lambda tmp: ("export", _fake_run(tmp), "--codebook", tmp / "study.yaml"), 2,
                                    "would overwrite the run's own files"),
    "report beside a run without --force": (lambda tmp: ("report", _fake_run(tmp), "-o", tmp / "r.html"), 2,
                                            "inside the run folder"),
    "compare into the run folder": (lambda tmp: ("compare", _fake_run(tmp), "--baseline", "psych_bfi", "-o", tmp), 2,
                                    "would overwrite the run's own folder"),
    "rank onto its own baseline": (lambda tmp: ("rank", tmp, "--baseline", _text(tmp, "b.yaml", BASELINE), "-o",
                                                tmp / "b.yaml"), 2, "the output is an input of this command"),
    "report over a file of another kind": (lambda tmp: ("report", tmp, "-o", _text(tmp, "data.sav", "$FL2 spss")), 2,
                                           "exists and is not a html file (it holds sav)"),
    "report into a missing folder": (lambda tmp: ("report", tmp, "-o", tmp / "no" / "r.html"), 2,
                                     "output folder does not exist"),
    "an unknown option": (lambda tmp: ("status", tmp, "--verbose"), 2, "No such option '--verbose'"),
    # calibration with a small human sample (issue 29)
    "calibrate without a labelled sample": (lambda tmp: ("calibrate", tmp, "--baseline", "psych_bfi"), 2,
                                            "give one of --human-n N"),
    "calibrate with two labelled samples": (lambda tmp: ("calibrate", tmp, "--baseline", "psych_bfi", "--human-n",
                                                         "50", "--pilot", tmp / "p.csv"), 2, "give one of --human-n N"),
    "calibrate --plan without a human's cost": (lambda tmp: ("calibrate", tmp, "--baseline", "psych_bfi",
                                                             "--human-n", "50", "--plan", "--budget", "100"), 2,
                                                "a plan needs the cost of one human respondent"),
    "calibrate --plan without a budget": (lambda tmp: ("calibrate", tmp, "--baseline", "psych_bfi", "--human-n", "50",
                                                       "--plan", "--cost-human", "5"), 2,
                                          "a plan needs a budget or a target interval width"),
    "calibrate a folder that is not a run": (lambda tmp: ("calibrate", tmp, "--baseline", "psych_bfi", "--human-n",
                                                          "50"), 2, "not a silicon-sample run"),
    "calibrate --validate -1": (lambda tmp: ("calibrate", tmp, "--baseline", "psych_bfi", "--human-n", "50",
                                             "--validate", "-1"), 2, "Invalid value for '--validate'"),
    "compare with an unknown way of taking missing answers": (lambda tmp: ("compare", tmp, "--baseline", "psych_bfi",
                                                                           "--missing", "sometimes"), 2,
                                                              "Invalid value for '--missing'"),
    # persona catalogues (issue 31)
    "a catalogue with a duplicated persona id": (lambda tmp: _population_file(tmp, CATALOGUE.replace(
        "id: a_black_person", "id: a_white_person")), 2, "persona id 'a_white_person' is given twice"),
    "a catalogue persona without a category": (lambda tmp: _population_file(tmp, CATALOGUE.replace(
        "category: race, description: \"a black person\"", "description: \"a black person\"")), 2,
        "personas[1]: 'category' is a required property"),
    "personas of a folder that is not a run": (lambda tmp: ("personas", tmp), 2, "not a silicon-sample run"),
    "personas with a bootstrap too small": (lambda tmp: ("personas", tmp, "--bootstrap", "5"), 2,
                                            "Invalid value for '--bootstrap'"),
    "rank for calibration without humans": (lambda tmp: ("rank", tmp, "--baseline", "psych_bfi", "--purpose",
                                                         "calibration"), 2,
                                            "ranking for calibration needs the labelled sample"),
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_bad_command_line_or_file_gets_one_line_and_nothing_is_written(tmp_path, name):
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(BASE, sort_keys=False))
    make, expected_code, fragment = COMMANDS[name]
    args = make(tmp_path)
    before = files(tmp_path)
    code, stderr = invoke(*args)
    assert code == expected_code, stderr
    assert fragment in stderr and stderr.startswith("error: "), stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr and "error: unexpected" not in stderr
    assert files(tmp_path) == before


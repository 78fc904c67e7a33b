"""Documented workflows are tests (issue 26, part 1): every `silicon-sample` command and every Python snippet
in the README runs here, in the README's order, at a small n — read from README.md itself, so an example is
tested the day it is written. The commands run in independent chains (:func:`chains`: those that read what
another wrote run after it, in one workspace), one test each, so that the suite's workers share them out.

What is changed on the way, and why: `run` gets `--n 4` (and `ss.run` n=4) so the whole README runs in minutes (the
persona catalogue study `--n 2` and 2 of its 30 control paraphrases, a copy in the workspace) — a twin study `--n
20`, and its calibration 12 labelled humans (`--human-n 12`, 2 validation draws, 10 bootstrap resamples), the fewest
a calibration takes with some personas left unlabelled; `[...]` marks optional arguments and is left out; the
analyses get `--no-invariance`, 10 bootstrap resamples and 2 repetitions (`bayes` 50 draws, 1 chain, at most 150
respondents a source) where the README leaves them at their defaults — their results at that size mean nothing, but
every step of the workflow runs. The files the README takes as the user's (`survey.qsf`, `pilot.sav`) are made here.
Two kinds of lines are not run, each said here: `make demo` and `make test` (the set-up commands, which run the
suite this test is part of) and a block whose first line says `not run by the tests` (the SLURM cluster recipe;
LocalCluster runs it in tests/runner/test_dask_executor.py).
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
import yaml

from support.human_data import spss_pilot
from support.studies import ROOT, cli

NOT_RUN = "not run by the tests"
TWIN_N, TWIN_HUMANS = "20", "12"
PERSONA_N, PERSONA_CONTROLS = "2", 2      # the catalogue study on two embedded models: 2 + 2 controls + the empty
PERSONA_SLICE = "persona_slice.yaml"
SPEED = {"personas": ["--bootstrap", "100"],
         "compare": ["--no-invariance", "--bootstrap", "10", "--repetitions", "2"],
         "calibrate": ["--validate", "2", "--bootstrap", "10"],
         "report": ["--no-invariance", "--bootstrap", "10", "--repetitions", "2"],
         "rank": ["--no-invariance", "--bootstrap", "10", "--repetitions", "2"],
         "bayes": ["--draws", "50", "--tune", "50", "--chains", "1", "--max-respondents", "150"]}


def readme_blocks() -> list[tuple[str, str]]:
    """(language, text) of every fenced code block of the README, in order."""
    return re.findall(r"```(\w*)\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)


def commands() -> list[list[str]]:
    """Every `silicon-sample` line of the README's shell blocks, as arguments, adapted as the module says."""
    out = []
    for language, text in readme_blocks():
        if language not in ("sh", "bash", "shell") or NOT_RUN in text.splitlines()[0]:
            continue
        for line in text.splitlines():
            line = line.split("  #")[0].split(" # ")[0].strip()
            if not line.startswith("silicon-sample "):
                continue
            args = shlex.split(re.sub(r"\[[^\]]*\]", "", line))[1:]
            args = [PERSONA_SLICE if a == "studies/persona_behavior.yaml" else a for a in args]
            small = TWIN_N if any("twins_" in a for a in args) else PERSONA_N if PERSONA_SLICE in args else "4"
            if args[0] == "run":
                if "--n" in args:
                    args[args.index("--n") + 1] = small
                else:
                    args += ["--n", small]
                args.append("--quiet")
            if "--human-n" in args:
                args[args.index("--human-n") + 1] = TWIN_HUMANS
            if args[0] == "calibrate" and "--validate" in args:
                args[args.index("--validate") + 1] = "2"
            args += _speed(args)
            out.append(args)
    return out


OUTPUT_OPTIONS = ("--out", "-o", "--codebook")
LONGEST_FIRST = ("personas", "replica", "twins", "controls", "pilot")   # by their durations in `make test`


def chains() -> list[list[list[str]]]:
    """The README's commands in independent chains, each in the README's order: a command joins the chain of
    every earlier command that wrote a file or folder it reads (one named other than by ``--out``, ``-o`` or
    ``--codebook``; two commands that only write ``tables/`` do not depend on each other), so a chain
    runs alone in a workspace of its own and the chains can run side by side (tests/conftest.py gives each a
    worker). The chains of :data:`LONGEST_FIRST` come first, the rest in the README's order."""
    groups: list[list[int]] = []
    writer: dict[str, int] = {}                         # a path written so far -> the group of its last writer
    listed = commands()
    for number, args in enumerate(listed):
        named, written = _paths(args)
        joined = sorted({writer[path] for path in named - written if path in writer})
        group = joined[0] if joined else len(groups)
        if not joined:
            groups.append([])
        for other in joined[1:]:                         # one command joining two chains makes them one
            groups[group] += groups[other]
            groups[other] = []
            writer = {path: group if g == other else g for path, g in writer.items()}
        groups[group].append(number)
        writer.update(dict.fromkeys(written, group))
    found = [[listed[i] for i in sorted(g)] for g in groups if g]
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    return sorted(found, key=lambda chain: rank.get(chain_id(chain), len(rank)))    # stable


def _paths(args: list[str]) -> tuple[set[str], set[str]]:
    """(every path-like argument of a command, the ones it writes), folders without their trailing slash."""
    named, written = set(), set()
    for flag, value in zip([""] + args, args):
        if value.startswith("-"):
            continue
        named.add(value.rstrip("/"))
        if flag in OUTPUT_OPTIONS:
            written.add(value.rstrip("/"))
    return named, written


def chain_id(chain: list[list[str]]) -> str:
    """A chain named for what its first command writes (``runs/pilot`` -> ``pilot``)."""
    written = _paths(chain[0])[1]
    return Path(sorted(written)[0]).name if written else chain[0][0]


def _speed(args: list[str]) -> list[str]:
    extra, options = [], SPEED.get(args[0], [])
    i = 0
    while i < len(options):
        flag = options[i]
        takes_value = i + 1 < len(options) and not options[i + 1].startswith("--")
        if flag not in args:
            extra += options[i:i + 2] if takes_value else [flag]
        i += 2 if takes_value else 1
    return extra


def snippets() -> list[str]:
    """Every Python block of the README but those marked as not run."""
    return [text for language, text in readme_blocks()
            if language == "python" and NOT_RUN not in text.splitlines()[0]]


def workspace(folder: Path) -> Path:
    """A folder laid out as the README assumes: the shipped files beside the user's own."""
    for name in ("studies", "populations", "human_baselines", "templates"):
        (folder / name).symlink_to(ROOT / name)
    shutil.copytree(ROOT / "instruments", folder / "instruments")        # import-qsf writes into it
    shutil.copy(ROOT / "tests" / "fixtures" / "qsf" / "social_trust.qsf", folder / "survey.qsf")
    spss_pilot(folder)
    study = yaml.safe_load((ROOT / "studies" / "persona_behavior.yaml").read_text())
    study["population"]["controls"] = PERSONA_CONTROLS   # the fewest with a spread among the controls
    (folder / PERSONA_SLICE).write_text(yaml.safe_dump(study, sort_keys=False))
    return folder


def test_the_readme_has_the_workflows_this_test_runs():
    names = [args[0] for args in commands()]
    assert {"run", "status", "resume", "repair", "export", "show", "report", "import-qsf", "validate", "compare",
            "baseline", "rank", "bayes", "calibrate"} <= set(names)
    assert len(snippets()) >= 2
    skipped = [text.splitlines()[0] for language, text in readme_blocks() if NOT_RUN in text.splitlines()[0]]
    assert len(skipped) == 1 and "SLURM" in skipped[0]          # every other block runs


def test_the_readme_s_commands_fall_into_chains_that_share_no_file():
    found, listed = chains(), commands()
    assert sorted(map(tuple, (args for chain in found for args in chain))) == sorted(map(tuple, listed))
    for chain in found:                                  # each chain keeps the README's order
        numbers = [listed.index(args) for args in chain]
        assert numbers == sorted(numbers)
    for i, chain in enumerate(found):                    # no chain reads a path another chain writes
        named = set().union(*(_paths(args)[0] - _paths(args)[1] for args in chain))
        others = set().union(*(_paths(args)[1] for j, other in enumerate(found) if j != i for args in other))
        assert not named & others, (chain_id(chain), named & others)
    ids = [chain_id(chain) for chain in found]
    assert len(set(ids)) == len(ids) and ids[:len(LONGEST_FIRST)] == list(LONGEST_FIRST)
    pilot = found[ids.index("pilot")]
    assert ["compare", "runs/pilot", "--baseline", "mine.yaml"] == pilot[-2][:4]   # joined through mine.yaml
    assert ["validate", "instruments/mine.yaml"] in found[ids.index("mine.yaml")]


@pytest.mark.slow
@pytest.mark.parametrize("chain", chains(), ids=chain_id)
def test_every_readme_command_runs_in_order(tmp_path, chain):
    folder = workspace(tmp_path)
    for args in chain:
        result = cli(*args, cwd=folder, timeout=1200)
        assert result.returncode == 0, (args, result.stderr[-2000:])
        assert "Traceback" not in result.stderr and "unexpected" not in result.stderr, (args, result.stderr)


@pytest.mark.slow
def test_every_readme_python_snippet_runs_in_order(tmp_path, monkeypatch):
    folder = workspace(tmp_path)
    monkeypatch.chdir(folder)
    monkeypatch.syspath_prepend(str(folder))
    namespace: dict = {}
    for text in snippets():
        code = re.sub(r"\bn=\d+", "n=4", text)
        code = code.replace('ss.compare(run.dir, "psych_bfi", output="tables/")',
                            'ss.compare(run.dir, "psych_bfi", output="tables/", invariance=False, bootstrap=10, '
                            'repetitions=2)')
        code = code.replace('ss.rank([run.dir], "psych_bfi")',
                            'ss.rank([run.dir], "psych_bfi", invariance=False, bootstrap=10, repetitions=2)')
        exec(compile(code, "README.md", "exec"), namespace)
    assert len(namespace["long"]) == 100 and "scales" in namespace["tables"] and len(namespace["ranking"]) == 1
    assert "alpha" in namespace["scales"].columns and namespace["mi"] is not None

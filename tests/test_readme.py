"""Documented workflows are tests (issue 26, part 1): every `silicon-sample` command and every Python snippet
in the README runs here, in the README's order, at a small n — read from README.md itself, so an example is
tested the day it is written.

What is changed on the way, and why: `run` gets `--n 4` (and `ss.run` n=4) so the whole README runs in minutes (the
persona catalogue study also 3 of its 30 control paraphrases, a copy in the workspace) — a
twin study `--n 20`, and its calibration 12 labelled humans (`--human-n 12`, 2 validation draws, 10 bootstrap
resamples), the fewest a calibration takes with some personas left unlabelled; `[...]` marks optional arguments and
is left out; the analyses get `--no-invariance`, 10 bootstrap resamples and 2 repetitions (`bayes` 50 draws, 1
chain) where the README leaves them at their defaults — their results at that size mean nothing, but every step of
the workflow runs. The files the README takes as the user's (`survey.qsf`, `pilot.sav`) are made here. Two kinds of
lines are not run, each said here: `make demo` and `make test` (the set-up commands, which run the suite this test
is part of) and a block whose first line says `not run by the tests` (the SLURM cluster recipe; LocalCluster runs
it in tests/runner/test_dask_executor.py).
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
PERSONA_SLICE = "persona_slice.yaml"
SPEED = {"personas": ["--bootstrap", "100"],
         "compare": ["--no-invariance", "--bootstrap", "10", "--repetitions", "2"],
         "calibrate": ["--validate", "2", "--bootstrap", "10"],
         "report": ["--no-invariance", "--bootstrap", "10", "--repetitions", "2"],
         "rank": ["--no-invariance", "--bootstrap", "10", "--repetitions", "2"],
         "bayes": ["--draws", "50", "--tune", "50", "--chains", "1"]}


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
            small = TWIN_N if any("twins_" in a for a in args) else "4"
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
    study["population"]["controls"] = 3                  # 4 personas (--n 4), 3 controls and the empty persona
    (folder / PERSONA_SLICE).write_text(yaml.safe_dump(study, sort_keys=False))
    return folder


def test_the_readme_has_the_workflows_this_test_runs():
    names = [args[0] for args in commands()]
    assert {"run", "status", "resume", "repair", "export", "show", "report", "import-qsf", "validate", "compare",
            "baseline", "rank", "bayes", "calibrate"} <= set(names)
    assert len(snippets()) >= 2
    skipped = [text.splitlines()[0] for language, text in readme_blocks() if NOT_RUN in text.splitlines()[0]]
    assert len(skipped) == 1 and "SLURM" in skipped[0]          # every other block runs


@pytest.mark.slow
def test_every_readme_command_runs_in_order(tmp_path):
    folder = workspace(tmp_path)
    for args in commands():
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

"""The package face: every function of the API is public, documented and typed."""

import inspect
import pydoc

import silicon_sample as ss
from silicon_sample import api


def public_functions():
    return {name: f for name, f in inspect.getmembers(api, inspect.isfunction)
            if f.__module__ == api.__name__ and not name.startswith("_")}


def test_every_api_function_is_in_all_documented_and_typed():
    functions = public_functions()
    assert {"run", "resume", "status", "results", "export", "compare", "rank", "bayes", "dry_run", "validate",
            "populations"} <= set(functions)
    assert set(functions) <= set(ss.__all__)
    for name, function in functions.items():
        assert getattr(ss, name) is function
        assert function.__doc__ and len(function.__doc__.strip()) > 20, name
        assert inspect.signature(function).return_annotation is not inspect.Signature.empty, name


def test_a_baseline_is_a_name_a_path_or_a_loaded_baseline():
    for name in ("compare", "rank", "bayes", "load_baseline"):
        annotation = inspect.signature(public_functions()[name]).parameters["baseline"].annotation
        assert annotation == "BaselineLike", name
    assert set(ss.BaselineLike.__args__) == {str, __import__("pathlib").Path, ss.Baseline}
    loaded = ss.load_baseline("psych_bfi")
    assert ss.load_baseline(loaded) is loaded


def test_help_is_a_page_of_functions():
    text = pydoc.render_doc(ss, renderer=pydoc.plaintext)
    for name in public_functions():
        assert f"\n    {name}(" in text, name
    assert len(text.splitlines()) < 1000


def test_an_unknown_estimator_is_refused_before_any_work(tmp_path):
    """compare and rank check the estimator before reading a run; auto and any case are accepted."""
    import pytest

    from silicon_sample.errors import SpecError

    for function in (lambda e: ss.compare(tmp_path / "absent", "psych_bfi", estimator=e),
                     lambda e: ss.rank([tmp_path / "absent"], "psych_bfi", estimator=e)):
        with pytest.raises(SpecError, match="unknown estimator 'WLS'.*ML, MLR, WLSMV or auto"):
            function("WLS")
    assert api._estimator_option("auto") is None and api._estimator_option("wlsmv") == "WLSMV"


def test_the_cli_offers_the_estimators_and_collapsing(tmp_path):
    from support.studies import cli

    for command in ("compare", "rank"):
        result = cli(command, "--help")
        assert "--estimator [auto|ml|mlr|wlsmv]" in result.stdout.lower() and "--collapse-empty" in result.stdout
    result = cli("compare", tmp_path, "--baseline", "psych_bfi", "--estimator", "WLS")
    assert result.returncode == 2 and "'WLS' is not one of" in result.stderr and "Traceback" not in result.stderr


def test_a_command_starts_without_the_statistics():
    """`import silicon_sample` and the command line load neither scipy nor the statistics packages (comparison,
    psychometrics) nor a model or cluster library: each command imports what it uses, so `status`, `show` or
    `validate` start in about half the time (ARCHITECTURE.md, import rule 6). Checked in a new process."""
    import json
    import subprocess
    import sys

    heavy = ["scipy", "silicon_sample.comparison", "silicon_sample.psychometrics", "pingouin", "statsmodels",
             "pymc", "arviz", "matplotlib", "llama_cpp", "distributed", "httpx", "instructor"]
    code = ("import json, sys, silicon_sample, silicon_sample.cli; "
            f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(loaded) == []
    assert "pandas" in subprocess.run([sys.executable, "-c", code.replace(repr(heavy), "['pandas']")],
                                      capture_output=True, text=True, check=True).stdout   # the check can see

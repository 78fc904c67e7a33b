import numpy as np
import pandas as pd
import pytest

from silicon_sample.psychometrics.scoring import scale_scores

RANGES = {"A1": (1, 6), "A2": (1, 6), "A3": (1, 6)}


def test_reverse_keyed_items_are_mirrored_on_their_scale():
    answers = pd.DataFrame({"A1": [1, 6, 3], "A2": [6, 1, 4], "A3": [5, 2, 4]})
    scores = scale_scores(answers, {"a": ["-A1", "A2", "A3"]}, RANGES)
    assert scores["a"].tolist() == [(6 + 6 + 5) / 3, (1 + 1 + 2) / 3, (4 + 4 + 4) / 3]
    assert scores["a_n"].tolist() == [3, 3, 3]


def test_mean_leaves_out_unanswered_items_and_sum_refuses_partial_scales():
    answers = pd.DataFrame({"A1": [np.nan, 2], "A2": [5, np.nan], "A3": [3, np.nan]})
    mean = scale_scores(answers, {"a": ["A1", "A2", "A3"]}, RANGES)
    assert mean["a"].tolist() == [4.0, 2.0] and mean["a_n"].tolist() == [2, 1]
    total = scale_scores(answers, {"a": ["A1", "A2", "A3"]}, RANGES, method="sum")
    assert total["a"].isna().all()
    complete = scale_scores(pd.DataFrame({"A1": [1], "A2": [2], "A3": [3]}), {"a": ["-A1", "A2", "A3"]}, RANGES,
                            method="sum")
    assert complete["a"].tolist() == [11.0]


MIXED = """\
id: mixed
name: Items on scales of their own (test fixture)
citation: test fixture
license: public domain
instructions: Say how much you agree.
response_scale:
  options:
    - {value: 1, label: Disagree strongly}
    - {value: 2, label: Disagree}
    - {value: 3, label: Neither}
    - {value: 4, label: Agree}
    - {value: 5, label: Agree strongly}
items:
  - {id: X1, text: "I like parties.", scale: s}
  - {id: X2, text: "I keep to myself.", scale: s, reverse: true}
  - id: X3
    text: "How quiet are you?"
    scale: s
    reverse: true
    response_scale:
      options: [{value: 0, label: Not at all}, {value: 5, label: Somewhat}, {value: 10, label: Completely}]
  - id: X4
    text: "How outgoing are you?"
    scale: s
    response_scale:
      options: [{value: 0, label: Not at all}, {value: 5, label: Somewhat}, {value: 10, label: Completely}]
scoring:
  method: mean
  scales:
    s: {name: Sociability}
"""


def test_items_on_scales_of_their_own_are_mirrored_alike_in_scores_alphas_and_the_report(tmp_path):
    """One reverse-keying rule: X3 (0-10) mirrors on 0-10, X2 (1-5) on 1-5, in the run's scale scores,
    the summary's alpha, the comparison's alpha and the report's figures alike."""
    import zlib

    import pingouin as pg

    import silicon_sample as ss
    from silicon_sample.answers import Answer
    from silicon_sample.comparison.tables import compare_answers
    from silicon_sample.report.summary import reliability_table
    from silicon_sample.runner.execute import start_run
    from silicon_sample.tidy.results import run_instruments

    from support.scripted_backend import ScriptedBackend
    from support.studies import write_study

    (tmp_path / "mixed.yaml").write_text(MIXED)

    def script(request):
        persona, item = request.request_id.split("/")[0], request.request_id.split("/")[5]
        level = zlib.crc32(persona.encode()) % 3          # a trait level per persona, shared by the items
        high = item in ("X1", "X4")
        pick = level if high else 2 - level
        pick = (pick + zlib.crc32(request.request_id.encode()) % 2) % len(request.options)
        return Answer(request_id=request.request_id, status="answered", value=request.options[pick])

    study = write_study(tmp_path, n=24, instruments=[str(tmp_path / "mixed.yaml")])
    store = start_run(study, tmp_path / "run", backend_factory=lambda model: ScriptedBackend(script=script))
    wide = ss.results(store.dir, wide=True)
    mirrored = pd.DataFrame({"X1": wide["X1"], "X2": 6 - wide["X2"], "X3": 10 - wide["X3"], "X4": wide["X4"]}
                            ).astype(float)
    assert wide["s"].tolist() == pytest.approx(mirrored.mean(axis=1).tolist())
    alpha = pg.cronbach_alpha(mirrored, nan_policy="pairwise")[0]
    summary = reliability_table(wide, run_instruments(store))
    assert summary["alpha"].iloc[0] == pytest.approx(alpha)
    instrument = ss.load_instrument(tmp_path / "mixed.yaml")
    human = mirrored.assign(X2=6 - mirrored["X2"], X3=10 - mirrored["X3"], weight=1.0)  # the answers, raw
    tables = compare_answers(human, wide, instrument, invariance=False)
    assert tables["scales"]["alpha_silicon"].iloc[0] == pytest.approx(alpha)
    assert tables["scales"]["mean_silicon"].iloc[0] == pytest.approx(mirrored.mean(axis=1).mean())

"""Loading study files: matched studies and their baselines."""

import pytest


def test_a_matched_study_refuses_another_population(tmp_path):
    from silicon_sample.design.study import load_study
    from silicon_sample.errors import SpecError

    study = tmp_path / "s.yaml"
    study.write_text("id: s\nseed: 1\nbaseline: psych_bfi\npopulation: {name: us_adults_gss2018, n: 5}\n"
                     "models: [{id: m, backend: embedded}]\n")
    with pytest.raises(SpecError, match="not the baseline's population 'psych_bfi'"):
        load_study(study)

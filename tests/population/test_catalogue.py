"""Catalogue populations: Araujo & Roth's personas, control paraphrases and empty persona, and a study's
selection from them."""

import json

import pytest
import yaml

from silicon_sample.design.cells import draw_personas, render_personas
from silicon_sample.design.study import load_study
from silicon_sample.errors import SpecError
from silicon_sample.population import populations
from silicon_sample.population.personas import control_paraphrases

from support.studies import ROOT

CATALOGUE = populations.load("persona_behavior")
# The authors' category counts (data/persona_cat.json at edeadf7): 162 personas in 12 categories.
COUNTS = {"race": 7, "sexuality": 6, "social_class": 3, "gender": 4, "education": 6, "profession_generic": 17,
          "religious": 7, "ideology": 8, "health": 15, "profession_specific": 50, "name_from_country": 12,
          "political_figure": 27}


def study(tmp_path, **population):
    spec = {"id": "slice", "seed": 3, "population": {"name": "persona_behavior", **population},
            "persona_styles": ["role"], "instruments": ["bfi25"],
            "models": [{"id": "m", "backend": "embedded", "answer_mode": "distribution"}]}
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_the_shipped_catalogue_is_araujo_and_roths():
    rows = CATALOGUE.profiles
    regular = rows[rows["persona_group"] == "persona"]
    assert len(regular) == 162 and regular["category"].value_counts().to_dict() == COUNTS
    assert CATALOGUE.report == {"personas": 162, "categories": 12, "controls": 30, "empty": True}
    described = dict(zip(rows["persona_id"], rows["description"]))
    assert described["a_statistician"] == "a statistician" and described["Yumi_from_Japan"] == "Yumi from Japan"
    assert described["John_F._Kennedy"] == "John F. Kennedy" and described["empty"] == ""
    controls = rows[rows["persona_group"] == "control"]
    assert list(controls["description"]) == list(control_paraphrases())
    assert controls["persona_id"].iloc[-1] == "a_competent_second-in-command"
    assert rows["persona_id"].is_unique


def test_the_role_style_states_each_persona_as_they_did(tmp_path):
    loaded = load_study(study(tmp_path, categories=["gender"], controls=2))
    personas, _ = draw_personas(loaded)
    texts = dict(zip(*render_personas(loaded, personas)[["persona_id", "persona_text"]].to_numpy().T))
    assert texts["a_woman"] == "You are a woman." and texts["a_nonbinary_person"] == "You are a nonbinary person."
    assert texts["empty"] == ""                              # the empty persona has no text at all
    controls = personas.loc[personas["persona_group"] == "control", "persona_id"]
    assert len(controls) == 2 and all(texts[c].startswith("You are a") for c in controls)
    assert loaded.n == 4 + 2 + 1 and set(personas["category"]) == {"gender", "control", "empty"}


def test_a_study_selects_seeded_subsets_per_category_and_in_all(tmp_path):
    three = draw_personas(load_study(study(tmp_path, per_category=3, controls=10, empty=False)))[0]
    counts = three[three["persona_group"] == "persona"]["category"].value_counts()
    assert counts.to_dict() == {c: min(3, n) for c, n in COUNTS.items()}
    assert (three["persona_group"] == "control").sum() == 10 and "empty" not in set(three["persona_id"])
    again = draw_personas(load_study(study(tmp_path, per_category=3, controls=10, empty=False)))[0]
    assert list(again["persona_id"]) == list(three["persona_id"])          # seeded
    spread = draw_personas(load_study(study(tmp_path), n=24))[0]
    regular = spread[spread["persona_group"] == "persona"]
    assert len(regular) == 24 and regular["category"].value_counts().eq(2).all()      # 24 over 12 categories
    assert (spread["persona_group"] == "control").sum() == 30 and (spread["persona_id"] == "empty").sum() == 1
    ideology = draw_personas(load_study(study(tmp_path, categories=["ideology"], n=5)))[0]
    assert ideology.loc[ideology["persona_group"] == "persona", "category"].eq("ideology").sum() == 5


def test_a_catalogue_file_of_ones_own_with_attributes_and_controls(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump({
        "id": "mine", "kind": "catalogue", "name": "Mine", "source": "test", "empty": False,
        "controls": ["a helpful assistant", "a kind helper"],
        "personas": [{"id": "nurse", "category": "job", "description": "a nurse", "attributes": {"gender": "female"}},
                     {"id": "pilot", "category": "job", "description": "a pilot"}]}))
    mine = populations.load(path)
    rows = mine.profiles.set_index("persona_id")
    assert rows.loc["nurse", "gender"] == "female" and rows.loc["pilot", "gender"] == "not stated"
    assert list(rows.index) == ["nurse", "pilot", "a_helpful_assistant", "a_kind_helper"]
    assert [a.name for a in mine.attributes] == ["category", "description", "persona_group", "gender"]


@pytest.mark.parametrize("change, message", [
    (lambda p: p["personas"].append(dict(p["personas"][0])), "persona id 'a_white_person' is given twice"),
    (lambda p: p["personas"][3].pop("category"), "personas[3]: 'category' is a required property"),
    (lambda p: p["personas"][0].update(category="control"), "category 'control' is reserved"),
    (lambda p: p["personas"][0].update(id="a_helpful_assistant"), "persona id 'a_helpful_assistant' is given twice"),
    (lambda p: p.update(attributes={"age": {"label": "Age"}}), "a catalogue population takes its personas"),
])
def test_a_bad_catalogue_is_refused_in_one_line(tmp_path, change, message):
    spec = yaml.safe_load((ROOT / "populations" / "persona_behavior.yaml").read_text())
    change(spec)
    path = tmp_path / "bad.yaml"
    path.write_text(json.dumps(spec))
    with pytest.raises(SpecError) as caught:
        populations.load(path)
    assert message in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("population, message", [
    ({"categories": ["astrology"]}, "'astrology' is not a category of persona_behavior"),
    ({"controls": 31}, "31 is more than the 30 control personas"),
    ({"n": 500}, "n = 500 is more regular personas than the selection has (162)"),
    ({"method": "quota", "n": 5}, "population.method 'quota' does not fit the catalogue population"),
])
def test_a_bad_selection_is_refused(tmp_path, population, message):
    with pytest.raises(SpecError) as caught:
        load_study(study(tmp_path, **population))
    assert message in str(caught.value)


def test_selection_keys_on_a_demographic_population_are_refused(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump({"id": "x", "seed": 1, "population": {"name": "psych_bfi", "n": 3,
                                                                          "per_category": 2},
                                    "instruments": ["bfi25"], "models": [{"id": "m", "backend": "embedded"}]}))
    with pytest.raises(SpecError, match="population.per_category selects from a catalogue population"):
        load_study(path)

"""Persona rendering: every style and cue type produces the prompt its template says."""

import pytest

from silicon_sample.errors import SpecError
from silicon_sample.population import populations
from silicon_sample.population.personas import (
    control_paraphrases,
    load_names,
    load_template,
    render_variant,
    shipped_styles,
)

GSS = populations.load("us_adults_gss2018")
PERSONA = {"persona_id": "P007", "age_band": "45 to 54", "sex": "female", "race": "black",
           "education": "bachelor's degree", "income": "$50,000 to $74,999", "party_id": "strong Democrat",
           "political_views": "liberal", "place": "a suburb of a large city", "work_status": "working full time"}
NAMES = load_names()
BM_BLACK_FEMALE = {"Aisha", "Ebony", "Keisha", "Kenya", "Lakisha", "Latonya", "Latoya", "Tamika", "Tanisha"}


def render(style, cue, persona=PERSONA, population=GSS, seed=1):
    return render_variant(load_template(style), persona, population.attributes, cue, NAMES, seed)


def test_the_four_styles_are_shipped():
    assert set(shipped_styles()) >= {"profile_list", "third_person_bio", "first_person_backstory", "interview_qa"}


def test_profile_list_explicit():
    text = render("profile_list", "explicit")["persona_text"]
    assert text.splitlines() == [
        "Imagine that you are a person with these characteristics:",
        "- Age: 45 to 54", "- Sex: female", "- Race: black", "- Highest degree: bachelor's degree",
        "- Personal yearly income: $50,000 to $74,999", "- Party identification: strong Democrat",
        "- Political views: liberal", "- Place of residence: a suburb of a large city",
        "- Work status: working full time",
        "Answer every question as this person would answer it."]


def test_first_person_backstory_explicit():
    text = render("first_person_backstory", "explicit")["persona_text"]
    assert text.splitlines()[0] == "Here is your backstory, in your own words:"
    assert text.splitlines()[1].startswith('"My age: 45 to 54. My sex: female. My race: black. ')
    assert text.splitlines()[1].endswith('My work status: working full time."')


def test_interview_uses_each_attributes_question():
    lines = render("interview_qa", "explicit")["persona_text"].splitlines()
    assert lines[1:5] == ["Interviewer: What is your age?", "Me: 45 to 54",
                          "Interviewer: What is your sex?", "Me: female"]
    assert "Interviewer: Where would you place yourself on a scale from extremely liberal to extremely " \
           "conservative?" in lines


def test_third_person_bio_explicit():
    lines = render("third_person_bio", "explicit")["persona_text"].splitlines()
    assert lines[0] == "The following is a short description of a survey respondent."
    assert "The respondent's age: 45 to 54." in lines and "The respondent's sex: female." in lines


@pytest.mark.parametrize("style", ["profile_list", "third_person_bio", "first_person_backstory", "interview_qa"])
def test_name_cue_replaces_gender_and_race_with_a_name(style):
    variant = render(style, "name")
    text = variant["persona_text"]
    assert variant["name"] in BM_BLACK_FEMALE
    assert variant["cued_attributes"] == "sex,race"
    assert variant["name"] in text
    assert "female" not in text and "black" not in text.lower().replace("black people", "")
    assert "45 to 54" in text and "strong Democrat" in text            # other attributes stay explicit
    explicit = render(style, "explicit")
    assert explicit["name"] is None and explicit["cued_attributes"] == ""


def test_name_is_seeded_per_persona_and_the_same_across_styles():
    names = {render(style, "name")["name"] for style in shipped_styles() if style != "role"}   # role: catalogues
    assert len(names) == 1
    drawn = {render("profile_list", "name", persona={**PERSONA, "persona_id": f"P{i}"})["name"] for i in range(40)}
    assert drawn <= BM_BLACK_FEMALE and len(drawn) > 3


def test_ethnicity_without_a_name_list_stays_explicit():
    variant = render("profile_list", "name", persona={**PERSONA, "race": "other race", "sex": "male"})
    assert variant["cued_attributes"] == "sex"
    assert "- Race: other race" in variant["persona_text"]
    assert variant["name"] in {"Michael", "Christopher", "Matthew", "Joshua", "Daniel", "David", "Andrew",
                               "James", "Justin", "Joseph"}


def test_templates_cannot_use_attributes_a_name_replaces(tmp_path):
    path = tmp_path / "leaky.j2"
    path.write_text("I am {{ sex }}.")
    assert render_variant(load_template(path), PERSONA, GSS.attributes, "explicit", NAMES, 1)["persona_text"] == \
        "I am female."
    with pytest.raises(SpecError, match="undefined variable"):
        render_variant(load_template(path), PERSONA, GSS.attributes, "name", NAMES, 1)


def test_name_cues_need_a_gender_attribute():
    population = populations.load("us_adults_cces2016")
    names = load_names()
    names.check_population(population.attributes)
    without = [a for a in population.attributes if a.role != "gender"]
    with pytest.raises(SpecError, match="role: gender"):
        names.check_population(without)


def test_control_styles_carry_no_persona():
    none = render("none", "explicit")
    assert none["persona_text"] == ""
    assistants = {render("assistant_control", "explicit", persona={**PERSONA, "persona_id": f"P{i:03d}"})
                  ["persona_text"] for i in range(40)}
    stated = {f"You are {paraphrase}." for paraphrase in control_paraphrases()}
    assert len(control_paraphrases()) == 30 and control_paraphrases()[0] == "a helpful assistant"
    assert len(assistants) > 10 and assistants <= stated      # Araujo & Roth's 30 paraphrases, one per persona
    assert all(value not in text for text in assistants for value in ("female", "black", "45 to 54"))
    again = render("assistant_control", "explicit", persona={**PERSONA, "persona_id": "P001"})["persona_text"]
    assert again == render("assistant_control", "explicit", persona={**PERSONA, "persona_id": "P001"})["persona_text"]

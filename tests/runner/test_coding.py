"""Open-ended answers coded end to end: a run of the mixed-types fixture on the embedded model, its "most
important problem" answers coded by keywords, by the embedded model as a classifier (distribution mode:
coding probabilities) and by hand, with Krippendorff's alpha between them; and the command line."""

import pandas as pd
import pytest

import silicon_sample as ss
from silicon_sample.errors import SpecError

from support.studies import FIXTURES, cli, write_study

pytestmark = pytest.mark.usefixtures("private_cache")
BOOK = FIXTURES / "mip_codebook.yaml"


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("coding")
    study = write_study(folder, n=4, mode="sample", temperature=0.7, instruments=(str(FIXTURES / "mixed_types.yaml"),))
    return ss.run(study, folder / "run", progress=False).dir


@pytest.mark.slow
def test_keywords_a_model_and_human_codes_code_the_same_answers_and_their_agreement_is_reported(text_run, tmp_path):
    long = ss.results(text_run)
    answered = long[(long["item_id"] == "mip") & (long["status"] == "answered")]
    assert len(answered) >= 2
    human = pd.DataFrame({"cell_id": answered["cell_id"], "code": [1, 2, 9, 1][:len(answered)]})
    human.to_csv(tmp_path / "human.csv", index=False)
    result = ss.code(text_run, BOOK, model={"backend": "embedded", "answer_mode": "distribution"},
                     human_codes=tmp_path / "human.csv", bootstrap=50)
    codes = result["codes"]
    assert len(codes) == len(answered) and set(codes["cell_id"]) == set(answered["cell_id"])
    assert codes["keywords"].isin([1, 2, 3, 9]).all() and codes["model"].isin([1, 2, 3, 9]).all()
    probabilities = codes[[f"model_p_{c}" for c in (1, 2, 3, 9)]].sum(axis=1)
    assert probabilities.round(9).eq(1.0).all() and codes["model_option_mass"].between(0, 1).all()
    assert codes["human"].tolist() == human["code"].tolist()
    agreement = result["agreement"]
    assert {"keywords / model", "keywords / human", "model / human", "all coders"} == set(agreement.index)
    assert agreement["n_answers"].max() == len(answered)
    shares = result["shares"]
    sums = shares.groupby(["model", "persona_style", "cue_type", "perturbation", "item_id", "coder"])["share"].sum()
    assert set(sums.index.get_level_values("coder")) == {"keywords", "model", "human"}
    assert sums.to_numpy() == pytest.approx(1.0)
    again = ss.code(text_run, BOOK, model={"backend": "embedded", "answer_mode": "distribution"}, bootstrap=50)
    assert again["codes"]["model"].tolist() == codes["model"].tolist()             # seeded: the same codes


@pytest.mark.slow   # its module run (a free-text study on the embedded model) takes half a minute
def test_the_command_line_codes_and_refuses_a_run_without_text_answers(text_run, tmp_path):
    done = cli("code", text_run, "--codebook", BOOK, "-o", tmp_path / "coded")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "coded" / "codes.csv").exists() and (tmp_path / "coded" / "shares.csv").exists()
    assert "keywords" in done.stdout
    with pytest.raises(SpecError, match="no answered open-ended item"):
        bad = FIXTURES / "mip_codebook.yaml"
        ss.code(text_run, _renamed(bad, tmp_path))


def _renamed(path, folder):
    text = path.read_text().replace("items: [mip]", "items: [nothing]")
    out = folder / "other.yaml"
    out.write_text(text)
    return out

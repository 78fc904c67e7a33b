"""Runner and run store mechanics, on a scripted backend (the real-model versions are in test_runs.py)."""


import pytest

from silicon_sample.answers import Answer
from silicon_sample.errors import RunStoreError, SpecError
from silicon_sample.runner.execute import resume_run, start_run
from silicon_sample.store.run_store import RunStore

from support.scripted_backend import ScriptedBackend
from support.studies import MINI5, write_study


class Scripted:
    """Runs studies on scripted backends through the runner's documented ``backend_factory`` boundary."""

    def __init__(self):
        self.state: dict = {}              # ScriptedBackend arguments for the next backend made
        self.made: list[ScriptedBackend] = []

    def factory(self, model):
        self.made.append(ScriptedBackend(**self.state))
        return self.made[-1]

    def start_run(self, study, out):
        return start_run(study, out, backend_factory=self.factory)

    def resume_run(self, run_dir):
        return resume_run(run_dir, backend_factory=self.factory)

    def __iter__(self):
        return iter((self.state, self.made))


@pytest.fixture
def scripted():
    return Scripted()


def test_every_status_is_recorded_with_its_reason(tmp_path, scripted):
    state, made = scripted

    def script(request):
        item = request.request_id.split("/")[5]
        if item == "A1":
            return Answer(request_id=request.request_id, status="failed", reason="HTTP 500 after 3 retries")
        if item == "A2":
            return Answer(request_id=request.request_id, status="invalid", raw_output="seven",
                          reason="output does not match the answer schema")
        if item == "A3":
            return Answer(request_id=request.request_id, status="refused", raw_output="I cannot answer that.",
                          reason="refusal")
        return Answer(request_id=request.request_id, status="answered", value=3)

    state["script"] = script
    store = scripted.start_run(write_study(tmp_path, n=4), tmp_path / "run")
    counts = store.status_counts().loc["smollm2"]
    assert (counts["failed"], counts["invalid"], counts["refused"], counts["answered"], counts["pending"]) == (
        4, 4, 4, 88, 0)
    import silicon_sample as ss

    long = ss.results(store.dir)
    failed = long[long["status"] == "failed"]
    assert len(failed) == 4 and failed["reason"].eq("HTTP 500 after 3 retries").all()
    assert failed["answer"].isna().all()
    refused = long[long["status"] == "refused"]
    assert refused["raw_output"].eq("I cannot answer that.").all()
    wide = ss.results(store.dir, wide=True)
    assert wide["agreeableness_n"].eq(2).all()  # A1-A3 not answered: A4, A5 scored


def test_interrupted_run_resumes_without_repeating_cells(tmp_path, scripted):
    state, made = scripted
    state["crash_after"] = 37
    study = write_study(tmp_path, n=4)
    with pytest.raises(KeyboardInterrupt):
        scripted.start_run(study, tmp_path / "run")
    store = RunStore.open(tmp_path / "run")
    assert len(store.pending()) == 100 - 37
    assert store.sessions()["outcome"].tolist() == ["interrupted"]
    state.clear()
    scripted.resume_run(tmp_path / "run")
    resumed = made[-1]
    assert len(resumed.calls) == 63
    assert set(resumed.calls).isdisjoint(made[0].calls)
    assert store.pending().empty
    assert store.sessions()["outcome"].tolist() == ["interrupted", "completed"]


def test_a_cell_cannot_be_stored_twice(tmp_path, scripted):
    store = scripted.start_run(write_study(tmp_path, n=1), tmp_path / "run")
    cells = store.responses()
    first = cells.iloc[0]
    second = Answer(request_id=first["cell_id"], status="answered", value=int(first["value"]) % 6 + 1)
    assert store.record_many([second], session=1) == 1                        # refused, and counted
    assert store.responses().equals(cells)                                      # the first answer is kept
    session = store.begin_session("resume", {})
    store.record_many([second, second], session)
    store.end_session(session, "completed")
    assert store.manifest()["sessions"][-1]["duplicates_refused"] == 2


def test_existing_output_and_bad_study_leave_nothing_behind(tmp_path, scripted):
    study = write_study(tmp_path, n=1)
    scripted.start_run(study, tmp_path / "run")
    with pytest.raises(RunStoreError, match="already exists"):
        scripted.start_run(study, tmp_path / "run")
    bad = write_study(tmp_path / "bad", n=1, instruments=("no_such_instrument",))
    with pytest.raises(SpecError):
        scripted.start_run(bad, tmp_path / "bad_run")
    assert not (tmp_path / "bad_run").exists()
    assert not list(tmp_path.glob(".*partial*"))


def test_only_one_process_works_on_a_run(tmp_path, scripted):
    store = scripted.start_run(write_study(tmp_path, n=1), tmp_path / "run")
    with store.lock():
        with pytest.raises(RunStoreError, match="another silicon-sample process"):
            with RunStore.open(tmp_path / "run").lock():
                pass


def test_weights_against_a_target_travel_with_personas_into_results(tmp_path, scripted):
    import numpy as np

    import silicon_sample as ss
    from silicon_sample.population import populations

    mini5 = MINI5
    study = write_study(tmp_path, n=80, instruments=(mini5,),
                        population={"name": "us_adults_gss2018", "n": 80, "method": "microdata",
                                    "weighting": {"target": "us_adults_agesex2020", "method": "rake",
                                                  "variables": ["age_band", "sex"]}})
    store = scripted.start_run(study, tmp_path / "run")
    personas = store.personas()
    target = populations.load("us_adults_agesex2020").marginals()
    for variable in ("age_band", "sex"):
        weighted = personas.groupby(variable)["weight"].sum() / personas["weight"].sum()
        for category, share in target[variable].items():
            assert weighted[category] == pytest.approx(share, abs=1e-6)
    weights = store.manifest()["weights"]
    w = personas["weight"].to_numpy()
    assert weights["kish_ess"] == pytest.approx(w.sum() ** 2 / (w ** 2).sum())
    assert weights["design_effect"] > 1 and weights["target"] == "us_adults_agesex2020"
    long = ss.results(store.dir)
    merged = long.merge(personas[["persona_id", "weight"]], on="persona_id", suffixes=("", "_persona"))
    assert np.allclose(merged["weight"], merged["weight_persona"]) and long["weight"].nunique() > 1
    assert "design effect" in (store.dir / "summary.md").read_text()

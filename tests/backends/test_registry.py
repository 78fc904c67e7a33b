"""The one registry of backends: what the study loader, the dry run and the executors read."""

import inspect

import pytest

import silicon_sample as ss
from silicon_sample import backends
from silicon_sample.backends.in_process import InProcessBackend
from silicon_sample.backends.registry import REGISTRY, BackendEntry

from support.studies import MINI5, write_study


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_registered_backend_loads_and_its_options_are_its_constructors(name):
    entry = REGISTRY[name]
    cls = entry.load()
    assert issubclass(cls, backends.Backend) and cls.name == name
    parameters = set(inspect.signature(cls.__init__).parameters) - {"self", "model"}
    assert parameters == set(entry.options)
    assert entry.threads_option is None or entry.threads_option in entry.options


def test_a_registered_backend_is_accepted_by_the_study_loader_and_made_by_create(tmp_path):
    study = write_study(tmp_path, n=2, instruments=(MINI5,), models=[{"id": "f", "backend": "in_process"}])
    with pytest.raises(ss.SpecError, match="'in_process' is not a registered backend"):
        ss.load_study(study)
    backends.register(BackendEntry("in_process", "silicon_sample.backends.in_process:InProcessBackend",
                                   frozenset({"version"})))
    try:
        assert ss.load_study(study).models[0].backend == "in_process"
        made = backends.create("in_process", None, {"version": "v9"})
        assert isinstance(made, InProcessBackend) and made.describe()["model_version"] == "v9"
    finally:
        del REGISTRY["in_process"]


def test_the_in_process_backend_runs_a_study_with_no_model_and_no_server(tmp_path):
    study = write_study(tmp_path, n=3, instruments=(MINI5,), presentation={"mini5": "battery"},
                        models=[{"id": "f", "backend": "embedded", "answer_mode": "sample"}])
    made = []

    def factory(model):
        made.append(InProcessBackend(lambda request: request.options[-1]))
        return made[-1]

    store = ss.run(study, tmp_path / "run", backend_factory=factory, progress=False)
    long = ss.results(store.dir)
    assert len(long) == 15 and (long["status"] == "answered").all() and (long["answer"] == 6).all()
    assert len(made[0].calls) == 3                          # one battery request per persona
    assert store.manifest()["models"]["f"]["model_version"] == "in-process-1"

"""silicon-sample: administer questionnaires to model–persona pairs and test the answers psychometrically.

Data flow (one subpackage per stage; ``ARCHITECTURE.md`` draws the map)::

    population → personas → design → backends → run store → tidy results
        → psychometrics / comparison with human baselines → report

The functions below are the whole public API (:mod:`silicon_sample.api`); the CLI is a thin face over
them. Running a study:

- :func:`run` — run a study file into a new run directory; :func:`resume` — finish an interrupted one;
- :func:`status` — how far a run has got; :func:`results` — its tidy results, long or wide;
- :func:`export` — write them to a file; :func:`dry_run` — calls, tokens and cost before any call;
- :func:`validate` — check an instrument, population, study or baseline file.

Comparing with humans (a baseline is a shipped name, a path, or a loaded :class:`Baseline`):

- :func:`compare` — every table of a run against a human baseline;
- :func:`rank` — which model–persona pair stands in for the humans, and for what (its manifest goes to
  :func:`ranking_manifest_path`);
- :func:`bayes` — the Bayesian ordinal model of a subgroup effect in humans and silicon;
- :func:`drift` — two runs of the same study (another model version, another date) compared.

Bringing one's own material in: :func:`import_qsf` — a Qualtrics survey as an instrument;
:func:`baseline_init` — a human baseline drafted from a data file's labels.

Loading spec files: :func:`load_study`, :func:`load_instrument`, :func:`load_population`,
:func:`load_baseline`; listing the shipped ones: :func:`instruments`, :func:`populations`.

The types they take and return are importable from here too (``Baseline``, ``BaselineLike``,
``Instrument``, ``Population``, ``Study``, ``ModelSpec``, ``RunStore``, ``Progress``, ``BackendFactory``)
but left out of ``__all__``, so that ``help(silicon_sample)`` stays a page of functions.

Errors: every failure a user can act on is a :class:`SiliconSampleError` (what, where, how to fix);
:mod:`silicon_sample.errors` draws the hierarchy.
"""

from .api import BaselineLike as BaselineLike
from .api import (
                  baseline_init,
                  bayes,
                  bench,
                  calibrate,
                  code,
                  codebook,
                  compare,
                  drift,
                  dry_run,
                  example_prompts,
                  export,
                  import_qsf,
                  instruments,
                  load_baseline,
                  load_instrument,
                  load_population,
                  load_study,
                  persona_effects,
                  populations,
                  rank,
                  ranking_manifest_path,
                  repair,
                  report,
                  results,
                  resume,
                  run,
                  show,
                  status,
                  validate,
)
from .backends.base import Backend
from .design.study import ModelSpec as ModelSpec
from .design.study import Study as Study
from .errors import BackendError, DataError, RunStoreError, SiliconSampleError, SpecError
from .population.baselines import Baseline as Baseline
from .population.populations import Population as Population
from .runner.execute import BackendFactory as BackendFactory
from .runner.execute import Progress as Progress
from .specs.instruments import Instrument as Instrument
from .store.run_store import RunStore as RunStore
from .version import __version__

__all__ = [
    # running a study
    "run", "resume", "status", "repair", "show", "results", "export", "codebook", "dry_run", "example_prompts",
    "validate",
    # coding open-ended answers
    "code",
    # comparing with humans
    "compare", "rank", "ranking_manifest_path", "bayes", "drift", "report",
    # how many humans a silicon sample is worth (prediction-powered inference)
    "calibrate",
    # persona effects beyond paraphrase noise (catalogue populations)
    "persona_effects",
    # throughput on this machine beside its ceilings
    "bench",
    # bringing surveys and human data in
    "import_qsf", "baseline_init",
    # loading and listing spec files
    "load_study", "load_instrument", "load_population", "load_baseline", "instruments", "populations",
    # a backend of one's own (see silicon_sample.backends.base)
    "Backend",
    # errors
    "SiliconSampleError", "SpecError", "RunStoreError", "BackendError", "DataError",
    "__version__",
]

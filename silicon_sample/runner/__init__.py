"""Running a study: create the run, send its cells to the backends, store each answer, write the outputs.

- :mod:`.execute` — :func:`~.execute.start_run` and :func:`~.execute.resume_run`;
- :mod:`.manifest` — what a run (and an analysis of runs) records about how it was made;
- :mod:`.dry_run` — calls, tokens and cost of a study before any call is made.
"""

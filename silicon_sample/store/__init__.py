"""The run store: one directory per run, its SQLite database of personas, cells and responses, its manifest.

:mod:`.run_store` is the only code that reads or writes a run's files; it knows nothing of models,
studies or statistics.
"""

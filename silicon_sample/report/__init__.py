"""What a reader looks at: the run summary (``summary.md``) and the terminal views of comparison tables.

Reads tidy results and the run store, computes psychometrics through :mod:`silicon_sample.psychometrics`;
never calls a backend.
"""

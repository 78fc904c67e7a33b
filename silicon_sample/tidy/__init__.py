"""Tidy results of a run: long (one row per cell) and wide (one row per respondent) tables, scale scores.

:mod:`.results` reads the run store and is the one bridge from a run's files to DataFrames; everything
downstream (psychometrics, comparison, report) works on these DataFrames. :mod:`.scoring` scores scales
from item answers.
"""

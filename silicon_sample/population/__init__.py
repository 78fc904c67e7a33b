"""Who is asked: populations, their data, sampling, weighting, persona texts, and human baselines.

- :mod:`.populations` — population files (microdata or marginals + raking) and drawing personas;
- :mod:`.microdata` — respondents' profiles from data sets shipped in Python packages, attribute coding;
- :mod:`.sampling`, :mod:`.quota_allocation` — quota, stratified and microdata draws;
- :mod:`.weighting` — raking and post-stratification weights (balance), Kish's effective n;
- :mod:`.personas` — persona styles (templates) × cue types (explicit, first names);
- :mod:`.baselines` — real human answers to an instrument, described by the same attributes.

Baselines live here, not in :mod:`silicon_sample.comparison`, because a study may name one (the study
draws from the baseline's population and administers its instrument).
"""

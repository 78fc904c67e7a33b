"""The design of a study: the loaded study spec, and the personas, renderings and cells it implies.

- :mod:`.study` — a study file with every file it names resolved and validated;
- :mod:`.cells` — drawing and weighting personas, rendering them, the cells
  (persona × style × cue type × item × model × replicate) and the request for each cell.
"""

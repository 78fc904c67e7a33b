"""Spec files and shipped resources: reading and validating YAML, instruments, prompt layouts, schemas.

- :mod:`.yaml_files` — read a YAML file, validate it against a JSON Schema in ``schemas/``, one-line errors;
- :mod:`.resources` — where the shipped data files are, and resolving a shipped name or a path;
- :mod:`.instruments` — questionnaires (items, response scales, scoring keys);
- :mod:`.prompt_layouts` — how a persona and an item become chat messages.

Imports only the lowest modules (errors, answers, files).
"""

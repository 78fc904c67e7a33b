"""compare -o writes each table as LaTeX and HTML (great_tables) beside its CSV: rounded, counts as integers,
the conventions in the notes."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from support.studies import cli, write_study


@pytest.mark.slow
def test_compare_writes_latex_and_html_tables_with_their_conventions(tmp_path):
    from silicon_sample.throughput.loopback import LoopbackServer

    with LoopbackServer(delay=0.0) as server:
        study = write_study(tmp_path, n=20, models=[{"id": "lb", "backend": "openai", "model": "loopback",
                                                     "options": {"base_url": server.url}}])
        assert cli("run", study, "--out", tmp_path / "run", "--fresh", "--quiet").returncode == 0
    result = cli("compare", tmp_path / "run", "--baseline", "psych_bfi", "--no-invariance", "--no-anchors",
                 "-o", tmp_path / "tables")
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "tables"
    csvs = {p.stem for p in folder.glob("*.csv") if not pd.read_csv(p).empty}
    assert {p.stem for p in folder.glob("*.tex")} == csvs == {p.stem for p in folder.glob("*.html")}
    tex = (folder / "items.tex").read_text()
    assert tex.startswith("\\begin{table}") and ("Hedges--Olkin" in tex or "Hedges–Olkin" in tex)
    assert "baseline: psych\\_bfi" in tex
    html = (folder / "scales.html").read_text()
    assert "2,800" in html                                                # n_human as an integer
    assert not re.search(r">-?\d+\.\d{3,}<", html)                        # rounded for reading
    scales = pd.read_csv(folder / "scales.csv")
    assert scales["alpha_human"].map(lambda x: len(str(x).split(".")[1]) > 2).any()    # the CSV keeps precision

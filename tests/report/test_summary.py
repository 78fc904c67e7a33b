"""Summaries a reader can use: counts as integers, every mean with its interval, the score (mean or sum) named,
implausible figures flagged in words, no 16-digit floats."""

from __future__ import annotations

import re

import pandas as pd
import yaml

from silicon_sample.report.readable import mean_with_interval, plausibility_notes, readable_table

from support.studies import MINI5, cli, write_study


def test_a_run_summary_reads_with_integers_intervals_and_the_score_named(tmp_path):
    from silicon_sample.throughput.loopback import LoopbackServer

    spec = yaml.safe_load(open(MINI5))
    spec["id"], spec["scoring"]["method"] = "mini5sum", "sum"
    (tmp_path / "mini5sum.yaml").write_text(yaml.safe_dump(spec))
    with LoopbackServer(delay=0.0) as server:
        study = write_study(tmp_path, n=12, instruments=(str(tmp_path / "mini5sum.yaml"),), models=[{
            "id": "lb", "backend": "openai", "model": "loopback", "options": {"base_url": server.url}}])
        assert cli("run", study, "--out", tmp_path / "run", "--fresh", "--quiet").returncode == 0
    summary = (tmp_path / "run" / "summary.md").read_text()
    assert "mini5sum: the sum of the answered items of each scale" in summary
    assert "Mean of the answered items" not in summary
    assert summary.count("mean_ci_low") >= 4                      # option mass, latency, scales, items
    assert re.search(r"\nlb\s+60\s", summary) and "60.0" not in summary     # 60 cells, counted as an integer
    assert not re.search(r"\d\.\d{5,}", summary)                     # nothing printed to 5+ decimals


def test_mean_with_interval_is_the_t_interval_with_n_minus_1():
    n, mean, low, high, sd = mean_with_interval(pd.Series([1, 2, 3, 4, 5.0]))
    assert (n, mean, sd) == (5, 3.0, pd.Series([1, 2, 3, 4, 5.0]).std())
    assert round(high - mean, 4) == round(2.776445 * sd / 5 ** 0.5, 4)      # t(0.975, 4) = 2.776445
    assert mean_with_interval(pd.Series([2.0]))[2] != mean_with_interval(pd.Series([2.0]))[2]   # NaN below two values


def test_implausible_reliability_is_said_in_words_and_counts_print_as_integers():
    table = pd.DataFrame({"alpha": [-0.4, 0.8], "ordinal_omega": [0.7, 26622.5]}, index=["neuroticism", "openness"])
    notes = plausibility_notes(table, str)
    assert notes[0].startswith("neuroticism: alpha -0.40 is negative — the items do not hang together")
    assert "openness: ordinal_omega 2.66e+04 is above 1" in notes[1] and "do not read it" in notes[1]
    shown = readable_table(pd.DataFrame({"n_human": [2800.0], "count": [40.0], "d": [0.123456789]}))
    assert shown.to_string().split("\n")[1].split() == ["0", "2800", "40", "0.123"]


def test_populations_prints_figures_to_a_few_digits():
    result = cli("populations")
    assert result.returncode == 0 and "1.3877787807814457e-17" not in result.stdout
    assert "1.39e-17" in result.stdout

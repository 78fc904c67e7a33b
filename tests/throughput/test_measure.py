"""The bench: our rates beside ceilings measured in the same process (figures are printed, never asserted
against a time; what is asserted is what the figures must be made of)."""

from __future__ import annotations

import json

import pytest

from silicon_sample.throughput.measure import hosted

from support.studies import cli

KEYS = {"hosted_ceiling_calls_per_s", "hosted_calls_per_s", "hosted_ratio", "hosted_max_in_flight",
        "distribution_items_per_s", "sample_items_per_s", "limit_items_per_s", "prompt_tokens_per_response",
        "peak_rss_mb", "shared_items_per_s", "shared_ratio", "shared_threads"}


def test_hosted_figures_come_from_the_run_and_the_bare_loop_against_one_server(tmp_path):
    row = hosted(delay=0.05, concurrency=16, personas=4, folder=tmp_path)
    assert row["calls"] == 100 and row["max_in_flight"] == 16          # 4 personas x 25 items, 16 at a time
    assert row["ceiling_calls_per_s"] > 0 and row["distribution_calls_per_s"] > 0
    assert row["ratio_distribution"] == pytest.approx(row["distribution_calls_per_s"] / row["ceiling_calls_per_s"])
    assert 0 < row["ratio_sample"] and len(row["rss_mb"]) == 2


@pytest.mark.slow
def test_the_bench_command_prints_one_json_object_with_every_figure():
    result = cli("bench", "--json", "--quick", timeout=900)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert KEYS <= set(figures)
    assert figures["hosted_max_in_flight"] == figures["hosted"][0]["concurrency"]
    assert figures["shared_ratio"] == pytest.approx(figures["shared_items_per_s"] / figures["distribution_items_per_s"])
    assert figures["limit_items_per_s"] == pytest.approx(figures["forward_tokens_per_s"]
                                                         / figures["prompt_tokens_per_response"])

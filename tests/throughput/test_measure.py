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


@pytest.mark.slow
def test_a_load_test_against_a_failing_server_accounts_for_every_cell_and_prints_no_traceback(tmp_path):
    from silicon_sample.throughput.measure import load_test

    figures = load_test(2000, tmp_path)
    assert figures["load_exit_code"] == 0 and figures["load_tracebacks"] == 0
    assert figures["load_calls"] == 2000 and figures["load_pending"] == 0
    assert sum(figures["load_statuses"].values()) == 2000
    assert set(figures["load_statuses"]) <= {"answered", "failed", "invalid"}
    served = figures["load_faults_served"]
    assert served["error"] > 40 and served["rate_limit"] > 10 and served["timeout"] > 3    # the faults happened
    assert figures["load_rss_mb_at_10_percent"] and figures["load_rss_mb_at_100_percent"]


@pytest.mark.slow
def test_the_dask_figures_are_a_local_cluster_run_beside_the_workers_times_the_single_thread_rate(tmp_path):
    from silicon_sample.throughput.measure import dask_rate

    row = dask_rate(personas=4, folder=tmp_path)
    assert row["dask_workers"] >= 1 and row["dask_answers_per_s"] > 0
    assert row["dask_ceiling_answers_per_s"] == pytest.approx(row["dask_workers"] * row["single_thread_items_per_s"])
    assert row["dask_ratio"] == pytest.approx(row["dask_answers_per_s"] / row["dask_ceiling_answers_per_s"])
    assert row["dask_answers_per_s_per_worker"] == pytest.approx(row["dask_answers_per_s"] / row["dask_workers"])


@pytest.mark.slow
def test_the_million_figures_come_from_a_complete_synthetic_run_its_exports_and_its_comparison(tmp_path):
    from silicon_sample.throughput.million import million

    row = million(tmp_path, personas=40)
    assert row["million_answers"] == 40 * 25
    assert row["store_insert_ratio"] == pytest.approx(row["store_insert_answers_per_s"]
                                                      / row["bare_insert_answers_per_s"])
    codes = [v for k, v in row.items() if k.endswith("_exit_code")]
    assert codes == [0] * 5                                   # four exports and the comparison, all finished
    assert row["million_peak_rss_mb_max"] == max(v for k, v in row.items() if k.endswith("_peak_rss_mb"))

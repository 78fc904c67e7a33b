"""Dry runs: calls, tokens, cost and cached cells before any call is made (against a real llama.cpp server)."""

import pytest

import silicon_sample as ss

from support.studies import cli, openai_study

pytestmark = pytest.mark.usefixtures("private_cache")


def test_dry_run_counts_calls_tokens_and_cost_without_calling(tmp_path, llama_server):
    study = openai_study(tmp_path, llama_server, "sample", n=2)
    prices = tmp_path / "prices.yaml"
    prices.write_text("smollm2: {input_per_million: 1.0, output_per_million: 2.0}\n")
    before = llama_server.completions_served()
    result = cli("run", study, "--dry-run", "--prices", prices)
    assert result.returncode == 0, result.stderr
    assert llama_server.completions_served() == before and not (tmp_path / "run").exists()
    plan = ss.api.dry_run(study, prices=prices).loc["smollm2-server"]
    assert (plan["cells"], plan["cached"], plan["calls_min"], plan["calls_max"]) == (10, 0, 10, 30)
    assert plan["completion_tokens_est"] == 10 * 32
    assert plan["cost_usd_est"] == pytest.approx((plan["prompt_tokens_est"] * 1.0 + 320 * 2.0) / 1e6)
    ss.run(study, tmp_path / "run")
    assert ss.api.dry_run(study, prices=prices).loc["smollm2-server", "cached"] >= 8   # now served from cache



def test_a_hosted_model_is_estimated_without_its_key_but_not_run_without_it(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    study = openai_study(tmp_path, type("Hosted", (), {"alias": "gpt-4o-mini", "base_url": "https://api.openai.com/v1"}),
                         "sample", n=1)
    plan = ss.api.dry_run(study).loc["smollm2-server"]
    assert (plan["cells"], plan["calls_min"]) == (5, 5) and plan["cost_usd_est"] != plan["cost_usd_est"]   # NaN
    refused = cli("run", study, "--out", tmp_path / "run")
    assert refused.returncode == 2
    assert "no API key: the environment variable OPENAI_API_KEY is not set" in refused.stderr
    assert not (tmp_path / "run").exists()


def test_a_batched_model_is_priced_at_the_batch_rate(tmp_path):
    hosted = type("Hosted", (), {"alias": "gpt-4o-mini", "base_url": "https://api.openai.com/v1"})
    sync = openai_study(tmp_path / "sync", hosted, "sample", n=2)
    batched = tmp_path / "batch" / "study.yaml"
    batched.parent.mkdir()
    batched.write_text(sync.read_text().replace("backend: openai", "backend: openai_batch"))
    prices = tmp_path / "prices.yaml"
    prices.write_text("gpt-4o-mini: {input_per_million: 0.15, output_per_million: 0.60}\n")
    one, other = ss.api.dry_run(sync, prices=prices).iloc[0], ss.api.dry_run(batched, prices=prices).iloc[0]
    assert (one["price_basis"], other["price_basis"]) == ("synchronous", "batch (50% of synchronous)")
    assert other["prompt_tokens_est"] == one["prompt_tokens_est"] and other["calls_max"] == other["calls_min"] == 10
    assert other["cost_usd_est"] == pytest.approx(one["cost_usd_est"] / 2)
    prices.write_text("gpt-4o-mini: {input_per_million: 0.15, output_per_million: 0.60, batch_input_per_million: "
                      "0.05, batch_output_per_million: 0.2}\n")
    table = ss.api.dry_run(batched, prices=prices).iloc[0]
    assert table["price_basis"] == "batch (price table)"
    assert table["cost_usd_est"] == pytest.approx((table["prompt_tokens_est"] * 0.05 + 320 * 0.2) / 1e6)
    shown = cli("run", batched, "--dry-run", "--prices", prices)
    assert shown.returncode == 0 and "batch (price table)" in shown.stdout


def test_the_token_estimate_summed_by_persona_and_item_equals_the_sum_over_every_cell(tmp_path):
    from silicon_sample.answers import estimate_tokens
    from silicon_sample.design.cells import build_cells, build_request, draw_personas, render_personas
    from silicon_sample.design.study import load_study

    hosted = type("Hosted", (), {"alias": "gpt-4o-mini", "base_url": "https://api.openai.com/v1"})
    path = openai_study(tmp_path, hosted, "sample", n=7, instruments=("bfi25",))
    spec = __import__("yaml").safe_load(path.read_text())
    spec["persona_styles"], spec["models"][0]["replicates"] = ["profile_list", "first_person_backstory"], 2
    path.write_text(__import__("yaml").safe_dump(spec))
    study = load_study(path)
    personas, _ = draw_personas(study)
    texts = render_personas(study, personas).set_index(["persona_id", "persona_style", "cue_type"])["persona_text"]
    by_cell = sum(estimate_tokens(build_request(study, study.models[0], c, texts[(c["persona_id"], c["persona_style"],
                                                                                 c["cue_type"])]), 0)
                  for c in build_cells(study, personas).to_dict(orient="records"))
    plan = ss.api.dry_run(path).iloc[0]
    assert plan["cells"] == 7 * 2 * 25 * 2 and plan["prompt_tokens_est"] == by_cell

"""Option probabilities from top-k log-probabilities (OpinionQA's rule)."""

import pytest


def test_option_probabilities_from_top_logprobs_follow_opinionqa():
    import math

    from silicon_sample.answers import AnswerRequest, ChatMessage
    from silicon_sample.backends.option_logprobs import answer_from_top_logprobs

    request = AnswerRequest(request_id="x", messages=(ChatMessage(role="user", content="q"),), options=(1, 2, 3, 4),
                            mode="distribution", seed=1)
    top = [("I", math.log(0.5)), ("1", math.log(0.2)), (" 1", math.log(0.05)), (" 2", math.log(0.1)),
           ("The", math.log(0.04))]
    answer = answer_from_top_logprobs(request, top)
    # listed mass 0.89 -> unlisted 0.11 / 2 missing = 0.055; smallest listed 0.04 -> fill 0.04 for 3 and 4
    expected = {1: 0.2, 2: 0.1, 3: 0.04, 4: 0.04}
    total = sum(expected.values())
    assert answer.probabilities == pytest.approx({k: v / total for k, v in expected.items()})
    assert answer.option_mass == pytest.approx(0.3) and "[3, 4]" in answer.reason
    none = answer_from_top_logprobs(request, [("I", -0.1), ("The", -2.0)])
    assert none.status == "invalid" and "no option label" in none.reason

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
    none = answer_from_top_logprobs(request, [("I", -0.1), ("The", -2.5)])
    assert none.status == "invalid" and "no option label" in none.reason


@pytest.mark.parametrize("top, says", [
    ([("1", -1e5), ("2", -1e5), ("x", -0.01)], "the options' probability mass is 0"),
    ([("1", float("nan")), ("2", -1.0)], "token '1' has log-probability nan"),
    ([("1", -0.1), ("2", -0.2), ("3", -0.3)], "the listed probabilities sum to 2.464, more than 1"),
    ([("1", 0.5), ("2", -1.0)], "token '1' has log-probability 0.5"),
    ([("1", float("inf"))], "token '1' has log-probability inf"),
])
def test_impossible_log_probabilities_are_invalid_with_the_reason_never_renormalised(top, says):
    from silicon_sample.answers import AnswerRequest, ChatMessage
    from silicon_sample.backends.option_logprobs import answer_from_top_logprobs

    request = AnswerRequest(request_id="x", messages=(ChatMessage(role="user", content="q"),), options=(1, 2, 3),
                            mode="distribution", seed=1)
    answer = answer_from_top_logprobs(request, top)
    assert answer.status == "invalid" and says in answer.reason and answer.probabilities is None


def test_a_log_probability_rounded_just_above_zero_or_minus_infinity_is_read():
    from silicon_sample.answers import AnswerRequest, ChatMessage
    from silicon_sample.backends.option_logprobs import answer_from_top_logprobs

    request = AnswerRequest(request_id="x", messages=(ChatMessage(role="user", content="q"),), options=(1, 2),
                            mode="distribution", seed=1)
    answer = answer_from_top_logprobs(request, [("1", 1e-9), ("2", float("-inf"))])
    assert answer.status == "answered" and answer.probabilities == {1: 1.0, 2: 0.0}

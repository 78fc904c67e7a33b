"""Telling a refusal from an invalid answer."""

from silicon_sample.backends.refusals import is_refusal


def test_refusal_phrases_are_recognised():
    assert is_refusal("I'm sorry, but I can't provide a rating for that.")
    assert is_refusal("As an AI language model, I don't have personal experiences.")
    assert not is_refusal("4")
    assert not is_refusal('{"answer": 2}')

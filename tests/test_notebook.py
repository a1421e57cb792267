"""llmcours.notebook: show_source, progress, and the French number format of printed outputs."""

import pytest

from llmcours.notebook import fr, progress, show_source


def test_fr_thousands_and_decimal_comma():
    assert fr(28311552) == "28\u202f311\u202f552"
    assert fr(13.456, 1, "%") == "13,5\u00a0%"
    assert fr(-0.5, 2) == "-0,50"


@pytest.mark.parametrize("decimals", [-1, 1.5, True, "2"])
def test_fr_bad_decimals(decimals):
    with pytest.raises(ValueError, match="decimals"):
        fr(1.0, decimals)


def test_progress_iterates():
    assert list(progress(range(3), disable=True)) == [0, 1, 2]


def test_show_source_rejects_builtins():
    with pytest.raises(ValueError, match="no Python source"):
        show_source(len)

"""emo_lib.formatting: one form per kind of number, for tables and prose alike."""
import numpy as np
import pytest

from emo_lib import formatting as F


@pytest.mark.parametrize("p,text", [
    (0.0, "< 0.001"), (0.00099, "< 0.001"), (0.001, "0.0010"), (0.0123, "0.012"),
    (0.5, "0.50"), (0.999, "1.0"), (1.0, "1.0"), (0.0449, "0.045"),
    (0.0496, "0.0496"),          # two digits would print 0.050 beside "significant"
    (0.05, "0.050"), (0.0504, "0.0504"), (np.float64(0.3), "0.30")])
def test_p_values_two_significant_digits_never_scientific(p, text):
    assert F.format_p(p) == text


def test_p_values_missing_and_in_a_sentence():
    assert F.format_p(None) == "n/a" and F.format_p(float("nan"), missing="–") == "–"
    assert F.p_equals(0.012) == "p = 0.012" and F.p_equals(1e-9) == "p < 0.001"
    assert F.p_equals(None) == "p n/a"


@pytest.mark.parametrize("x,text,signed", [
    (0.4554, "0.455", "+0.455"), (-0.409, "-0.409", "-0.409"), (-0.0004, "0.000", "0.000"),
    (-3.7e-05, "0.000", "0.000"), (0.0, "0.000", "0.000"), (np.float32(0.25), "0.250", "+0.250"),
    (float("inf"), "∞", "+∞"), (float("nan"), "–", "–")])
def test_fixed_decimals_and_signed_differences(x, text, signed):
    assert F.format_number(x) == text
    assert F.format_signed(x) == signed


def test_intervals_estimates_ratios_percentages():
    assert F.format_interval(-0.452, -0.366, signed=True) == "[-0.452, -0.366]"
    assert F.format_interval(0.1, 0.2) == "[0.100, 0.200]"
    assert F.format_interval(float("nan"), None) == "–"
    assert F.format_estimate(-0.409, -0.452, -0.366, signed=True) == "-0.409 [-0.452, -0.366]"
    assert F.format_estimate(0.5) == "0.500"
    assert F.format_ratio(9.2412) == "9.24"
    assert F.format_percent(0.305, signed=True) == "+30 %" and F.format_percent(0.5) == "50 %"
    assert F.format_percent(-0.001, signed=True) == "0 %"


def test_a_column_too_small_for_its_decimals_keeps_significant_digits():
    assert F.column_decimals([0.0001, 0.00003]) is None
    assert F.column_decimals([0.0001, 0.3]) == 3
    assert F.column_decimals([0.0, float("nan")]) == 3
    assert F.format_small(0.00012345) == "0.00012" and F.format_small(1e-9) == "0.000000001"

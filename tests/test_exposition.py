"""The text exposition: values exactly as client_python writes them, streamed in chunks."""

from __future__ import annotations

import math

import pytest
from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString

from nms.exposition import format_float, format_value, generate_text, stream


@pytest.mark.parametrize("value", [0.1, 45.5, 0.12345, 1e-7, 1.5e300, 123456789.25, 1234567.0 + 0.5, -2.5, 1e22,
                                   math.inf, -math.inf, math.nan, 5e-324, 2.0**70 + 0.5])
def test_floats_are_formatted_exactly_like_client_python(value):
    assert format_float(value) == floatToGoString(value)


def test_values_never_raise_and_integers_keep_every_digit():
    assert format_value(2**64 - 1) == "18446744073709551615"
    assert format_value(1.0) == "1" and format_value(-3.0) == "-3"
    assert format_value(float("nan")) == "NaN"
    assert format_value(float("inf")) == "+Inf" and format_value(float("-inf")) == "-Inf"
    assert format_value(1e300) == floatToGoString(1e300)


def test_a_collector_with_nan_and_inf_still_renders():
    class Odd:
        def collect(self):
            m = Metric("odd", "odd values", "gauge")
            m.add_sample("odd", {"k": 'a"b\\c\nd'}, float("nan"))
            m.add_sample("odd", {"k": "inf"}, float("inf"))
            yield m

    text = generate_text(Odd()).decode()
    assert 'odd{k="a\\"b\\\\c\\nd"} NaN\n' in text and 'odd{k="inf"} +Inf\n' in text
    assert b"".join(stream(Odd())) == generate_text(Odd())

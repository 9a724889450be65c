"""Lone surrogates found where they are (engine/loading/unicode_text.py)."""

import pytest

from engine.loading.unicode_text import find_lone_surrogate, path_text


@pytest.mark.parametrize("data, path", [
    ({"a": ["x", "\ud800"]}, ("a", 1)),
    ({"\udc00": 1}, ("\udc00",)),
    (("x", {"k": "a\udfffb"}), (1, "k")),
    ({"a": "ok", "b": {"c": ["\udbff"]}}, ("b", "c", 0)),
])
def test_a_lone_surrogate_is_found_with_its_path(data, path):
    found, excerpt = find_lone_surrogate(data)
    assert found == path and "\\u" in excerpt and path_text(found)


@pytest.mark.parametrize("data", [
    {"a": "中文 ok", "b": [1, 2.5, None, True]},
    {"text": "\\ud800 typed as six characters"},     # a backslash, not a surrogate
    {"emoji": "😀 is a pair, not a lone half"},
    "",
])
def test_text_without_one_is_left_alone(data):
    assert find_lone_surrogate(data) is None

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.normalize import MAX_CHARS, normalize_text
from classifier.segment import segment


def test_full_width_letters_digits_and_space_become_half_width():
    assert normalize_text("ＡＢＣ１２３\u3000东湖区！") == "abc123 东湖区!"


def test_whitespace_collapses_and_controls_and_surrogates_disappear():
    assert normalize_text(" 噪音\n\n扰民\t\x00\x07\u200b\ud800 ") == "噪音 扰民"


def test_none_bytes_and_numbers_are_text_too():
    assert normalize_text(None) == ""
    assert normalize_text(b"\xe5\x99\xaa\xe9\x9f\xb3") == "噪音"
    assert normalize_text(12345) == "12345"


def test_very_long_input_is_capped():
    assert len(normalize_text("投诉" * 100_000)) == MAX_CHARS


@settings(deadline=None)  # the first example builds jieba's dictionary
@given(st.text())
def test_any_text_normalises_to_bounded_clean_text(text):
    result = normalize_text(text)
    assert len(result) <= MAX_CHARS
    assert result == result.strip()
    assert "  " not in result
    assert all(unicodedata.category(c) not in {"Cc", "Cf", "Cs"} for c in result)
    segment(result)  # and jieba accepts it


def test_user_dictionary_keeps_districts_and_hotline_terms_whole():
    tokens = segment(normalize_text("西山区翠湖苑油烟扰民，想问社保转移和预付卡退费"))
    for term in ("西山区", "油烟扰民", "社保转移", "预付卡退费"):
        assert term in tokens
    assert "，" not in tokens

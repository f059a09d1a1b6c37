import pytest

from dispatch.phones import InvalidPhoneNumber, display, to_e164


@pytest.mark.parametrize(
    "typed",
    [
        "13800138000",
        "+86 138 0013 8000",
        "8613800138000",
        "１３８００１３８０００",
        "+86-138-0013-8000",
        "0086 13800138000",
    ],
)
def test_every_way_of_typing_a_number_is_one_person(typed):
    assert to_e164(typed) == "+8613800138000"


def test_the_default_region_comes_from_settings():
    assert to_e164("(415) 555-2671", default_region="US") == "+14155552671"


@pytest.mark.parametrize("typed", ["", "abc", "12345", "+1", "1380013800", "138001380001234"])
def test_an_invalid_number_is_a_clear_error(typed):
    with pytest.raises(InvalidPhoneNumber, match="not a valid phone number"):
        to_e164(typed)


def test_display_is_the_national_format():
    assert display("+8613800138000") == "138 0013 8000"

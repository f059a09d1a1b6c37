"""The insurance texts fit their budget with the longest signature a market may configure (the one the
signature test of tests/sms uses) and the longest reference prefix the settings accept."""

from __future__ import annotations

import pytest

from dispatch.i18n import render_sms as render
from dispatch.settings import Settings, SettingsError
from dispatch.sms.segments import count_segments, is_gsm7
from tests.sms.test_templates import _contexts

LONG = {
    "SMS_SIGNATURE_ZH": "长治市潞州区零工",
    "SMS_SIGNATURE_EN": "Luzhou Gig Market",
    "INSURANCE_REFERENCE_PREFIX": "ABCD",
}
TEMPLATES = ("placement_worker", "placement_insurance", "insurance_refused")


@pytest.mark.parametrize("settings_overrides", [LONG])
@pytest.mark.parametrize("template", TEMPLATES)
def test_the_insurance_texts_fit_with_the_longest_signature_and_prefix(
    session, seeded, runtime, template: str
) -> None:
    measured = 0
    for language, budget in (("zh", 134), ("en", 160)):
        for context in _contexts(session, runtime, template, language):
            body = render(template, language, **context)
            count = count_segments(body)
            assert count.units <= budget, (count, body)
            assert count.encoding == ("UCS-2" if language == "zh" else "GSM-7") and (
                is_gsm7(body) or language == "zh"
            )
            if context.get("insurance"):
                assert context["insurance"].startswith("ABCD-") and context["insurance"] in body
                measured += 1
    assert measured or template != "placement_insurance"


@pytest.mark.parametrize("prefix", ["", "LUZHOU", "LZ1", "L-Z", "ＬＺ", "路州"])
def test_a_reference_prefix_the_texts_have_no_room_for_is_refused(prefix: str) -> None:
    with pytest.raises(SettingsError, match="INSURANCE_REFERENCE_PREFIX"):
        Settings.load({"INSURANCE_REFERENCE_PREFIX": prefix}, environ={})


@pytest.mark.parametrize("prefix", ["LZ", "ABCD", "z"])
def test_a_short_letter_prefix_is_taken(prefix: str) -> None:
    assert (
        prefix == Settings.load({"INSURANCE_REFERENCE_PREFIX": prefix}, environ={}).INSURANCE_REFERENCE_PREFIX
    )

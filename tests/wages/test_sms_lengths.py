"""The wage-case SMS, every result, at the longest values it can carry, fits its budget: Chinese in two
UCS-2 segments (134 code units), English in one pure GSM-7 segment. (tests/sms/test_templates.py
measures it too, with every other template.)"""

from __future__ import annotations

import pytest

from dispatch.i18n import render_sms as render
from dispatch.sms.normalize import has_cjk
from dispatch.sms.segments import count_segments, is_gsm7
from dispatch.wages.services import LARGEST_CLAIM

RESULTS = ("recovered", "partly_recovered", "closed_unresolved")
# Job.code: 8 digits; amounts: at most the pay agreed for the job (recovered ≤ owed ≤ agreed)
LONGEST = {"code": "99999999", "case_amount": LARGEST_CLAIM, "case_owed": LARGEST_CLAIM}


@pytest.mark.parametrize("result", RESULTS)
def test_chinese_fits_two_ucs2_segments(runtime, result) -> None:
    signature = runtime.settings.SMS_SIGNATURE_ZH
    body = render("wage_case_closed", "zh", sig=signature, case_result=result, **LONGEST)
    count = count_segments(body)
    assert count.encoding == "UCS-2" and count.units <= 134 and count.segments <= 2, (count, body)
    assert "{" not in body and "%" not in body


@pytest.mark.parametrize("result", RESULTS)
def test_english_fits_one_gsm7_segment(runtime, result) -> None:
    signature = runtime.settings.SMS_SIGNATURE_EN
    body = render("wage_case_closed", "en", sig=signature, case_result=result, **LONGEST)
    assert is_gsm7(body) and not has_cjk(body), body
    count = count_segments(body)
    assert count.encoding == "GSM-7" and count.units <= 160 and count.segments == 1, (count, body)


def test_each_result_says_what_was_recovered() -> None:
    values = {"code": "123", "case_amount": 400, "case_owed": 600}
    texts = {
        (language, result): render("wage_case_closed", language, sig="S", case_result=result, **values)
        for language in ("zh", "en")
        for result in RESULTS
    }
    assert texts["zh", "recovered"] == (
        "【S】您反映的岗位123工钱问题已办结：已为您追回工钱400元。如有疑问请联系零工市场。"
    )
    assert texts["zh", "partly_recovered"] == (
        "【S】您反映的岗位123工钱问题已办结：追回400元（您反映欠600元）。如有疑问请联系零工市场。"
    )
    assert "暂未能追回" in texts["zh", "closed_unresolved"]
    assert texts["en", "recovered"] == (
        "S: Your wage case for job 123 is closed: 400 yuan recovered for you. Questions? Contact the market."
    )
    assert "400 of the 600 yuan owed recovered." in texts["en", "partly_recovered"]
    assert "nothing could be recovered" in texts["en", "closed_unresolved"]

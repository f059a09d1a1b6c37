"""What a worker's registration may say, for every channel that takes one (the SMS dialogue, the IVR
keypad, the console's counter form) and for `dispatch.workers.services`, which refuses anything else.

Channels call the functions below (or read the numbers when they run) rather than hold numbers of their
own, so that a change here reaches every one of them. The IVR's keypad step for the pay takes its bounds
when dispatch.ivr.enrol is loaded.
"""

from __future__ import annotations

# Chinese names are 2-4 characters; the confirmation SMS reads the name back within 2 segments.
NAME_MAX_LENGTH = 10
# A name an agent types from a worker's recording, or the full legal name an insurer asks for: the
# confirmation SMS does not read it back, so it may be longer.
TYPED_NAME_MAX_LENGTH = 2 * NAME_MAX_LENGTH
# Yuan a day: outside these a number is not a daily wage (also the bounds of a job's daily pay).
MIN_DAILY_PAY, MAX_DAILY_PAY = 30, 5000
MAX_TRADES = 3  # what the dialogue's summary SMS and the counter form's three rows hold
MAX_YEARS = 60  # of experience in a trade


def name_fits(name: str) -> bool:
    """A name a worker gives (or an agent takes down at the counter): not empty, not too long."""
    return 0 < len(name) <= NAME_MAX_LENGTH


def typed_name_fits(name: str) -> bool:
    return 0 < len(name) <= TYPED_NAME_MAX_LENGTH


def pay_fits(pay: int) -> bool:
    """A minimum daily pay the service takes."""
    return MIN_DAILY_PAY <= pay <= MAX_DAILY_PAY


def trade_count_fits(count: int) -> bool:
    return 1 <= count <= MAX_TRADES


def years_fit(years: int) -> bool:
    return 0 <= years <= MAX_YEARS

"""Reading TwiML: the verbs and attributes the IVR uses, as the simulator shows them or waits on them.

Nothing here knows the IVR's flows; it follows Twilio's documented defaults (a <Gather> ends on `#`
and times out after 5 s unless told otherwise; a <Record> ends on any key).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any


class SimError(ValueError):
    """The simulator was asked for something Twilio would not do (a URL outside the app, no such verb)."""


@dataclass
class Verb:
    name: str
    attrs: dict[str, str]
    text: str = ""
    children: list[Verb] = field(default_factory=list)


def parse(twiml: str) -> list[Verb]:
    """The top-level verbs of a TwiML document, in order."""
    try:
        root = ET.fromstring(twiml)
    except ET.ParseError as exc:
        raise SimError(f"not TwiML: {exc}") from exc
    if root.tag != "Response":
        raise SimError(f"not TwiML: the root is <{root.tag}>")
    return [_verb(element) for element in root]


def _verb(element: ET.Element) -> Verb:
    return Verb(
        element.tag,
        dict(element.attrib),
        (element.text or "").strip(),
        [_verb(child) for child in element],
    )


def flag(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def to_int(value: str | None, default: int | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def shown(verb: Verb) -> dict[str, Any]:
    """What a verb the caller only hears looks like on the simulator's screen."""
    if verb.name == "Say":
        language = verb.attrs.get("language", "en-US")
        return {"kind": "say", "text": verb.text, "language": language, "voice": verb.attrs.get("voice", "")}
    if verb.name == "Play":
        return {"kind": "play", "url": verb.text, "loop": to_int(verb.attrs.get("loop"), 1)}
    if verb.name == "Pause":
        return {"kind": "pause", "length": to_int(verb.attrs.get("length"), 1)}
    return {"kind": "unknown", "verb": verb.name}


def waiting_for(verb: Verb, index: int) -> dict[str, Any]:
    """The input a Gather, Record or Enqueue waits for, with the attributes the keypad needs."""
    if verb.name == "Gather":
        return {
            "kind": "gather",
            "index": index,
            "num_digits": to_int(verb.attrs.get("numDigits"), None),
            # Twilio's default ends input on #; an empty attribute means no key ends it.
            "finish_on_key": verb.attrs.get("finishOnKey", "#"),
            "timeout": to_int(verb.attrs.get("timeout"), 5),
            "action": verb.attrs.get("action", ""),
        }
    if verb.name == "Record":
        return {
            "kind": "record",
            "index": index,
            "max_length": to_int(verb.attrs.get("maxLength"), 3600),
            "finish_on_key": verb.attrs.get("finishOnKey", "1234567890*#"),
            "action": verb.attrs.get("action", ""),
        }
    return {"kind": "enqueue", "index": index, "queue": verb.text, "action": verb.attrs.get("action", "")}


def gathered(keys: str, num_digits: int | None, finish_on_key: str) -> tuple[str, str]:
    """The digits a <Gather> submits for the keys pressed, and the key that ended it ("" if none).

    Input ends at numDigits keys or at the finishOnKey; the finishOnKey ends input only after a
    digit (pressed first, it is ignored) and is not part of Digits."""
    digits = ""
    for key in keys:
        if finish_on_key and key == finish_on_key:
            if digits:
                return digits, key
            continue
        digits += key
        if num_digits and len(digits) >= num_digits:
            break
    return digits, ""

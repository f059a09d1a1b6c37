"""The one language layer: which languages there are and which one a person gets, the market's time
zone, the texts of pages (TOML catalogues), the names of stored values (enum labels, call steps), and
the SMS and voice templates.

Nothing here knows Flask or the database: the console and the simulator add the page's language
(dispatch/console/i18n.py); everything else passes the language it has.
"""

from dispatch.i18n.catalogue import catalogue, flatten, text_files, translate, translate_or
from dispatch.i18n.labels import (
    CALL_FLOW,
    CALL_STEP,
    flow_label,
    group_of,
    label,
    label_for,
    label_key,
    step_label,
)
from dispatch.i18n.languages import DEFAULT_LANGUAGE, LANGUAGES, pick_language
from dispatch.i18n.templates import (
    SMS,
    SMS_MAX_SEGMENTS,
    SMS_TEMPLATE_DIR,
    VOICE,
    VOICE_TEMPLATE_DIR,
    TextTemplates,
    prompt,
    prompt_names,
    render_sms,
    sms_template_names,
    spell,
)
from dispatch.i18n.zone import market_zone, zone

__all__ = [
    "CALL_FLOW",
    "CALL_STEP",
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "SMS",
    "SMS_MAX_SEGMENTS",
    "SMS_TEMPLATE_DIR",
    "VOICE",
    "VOICE_TEMPLATE_DIR",
    "TextTemplates",
    "catalogue",
    "flatten",
    "flow_label",
    "group_of",
    "label",
    "label_for",
    "label_key",
    "market_zone",
    "pick_language",
    "prompt",
    "prompt_names",
    "render_sms",
    "sms_template_names",
    "spell",
    "step_label",
    "text_files",
    "translate",
    "translate_or",
    "zone",
]

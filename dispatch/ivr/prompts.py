"""Voice prompts: the words are dispatch.i18n's (templates under ivr/templates/<language>/<name>.txt),
spoken with <Say>, or a recording a market dropped into PROMPTS_DIR, played with <Play>."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from twilio.twiml import TwiML

from dispatch.i18n import pick_language, prompt
from dispatch.phones import display

AUDIO_SUFFIXES = (".mp3", ".wav")
# Mandarin first; English on the `*` key.
VOICES = {
    "zh": {"language": "cmn-CN", "voice": "Polly.Zhiyu"},
    "en": {"language": "en-US", "voice": "Polly.Joanna"},
}
# Prompts that read back what this one call collected (a job code, a read-back): a recording made in
# advance cannot say them, so they are always spoken.
ALWAYS_SPOKEN = frozenset(
    {"known_employer", "job_review", "reg_review", "job_done", "jobs_list", "cancel_confirm", "cancelled"}
    | {"village_list", "followup_intro", "hold_place"}
    | {"worker_menu", "offer_read", "offer_outcome", "bookings_list", "notice_list", "worker_arrived"}
    | {"job_day", "no_show_list", "no_show_noted"}
    | {"policy_menu", "policy_text"}  # the topics are the supervisors' texts, changed in the console
)


def spoken(name: str, language: str) -> str:
    """`小工/力工` read as 小工、力工, `Porter / mover` as `Porter or mover`: engines say the slash."""
    return name.replace(" / ", " or ").replace("/", "、" if language == "zh" else " or ")


def spoken_phone(phone: str, language: str) -> str:
    """A number read slowly: digit by digit, a pause between its groups (`139 1234 0001`)."""
    groups = display(phone).replace("-", " ").split()
    return ("，" if language == "zh" else ", ").join(" ".join(group) for group in groups)


def recording_for(prompts_dir: str, name: str, language: str) -> str | None:
    """The recording replacing prompt `name`, as a path under `prompts_dir`, if the market made one:
    `<language>/<name>.mp3`, or for Chinese also `<name>.mp3` at the top."""
    if name in ALWAYS_SPOKEN or not prompts_dir:
        return None
    root = Path(prompts_dir)
    candidates = [f"{language}/{name}"] + ([name] if language == "zh" else [])
    for stem in candidates:
        for suffix in AUDIO_SUFFIXES:
            if (root / f"{stem}{suffix}").is_file():
                return f"{stem}{suffix}"
    return None


def add(
    parent: TwiML, name: str, language: str, prompts_url: str, prompts_dir: str, /, **context: Any
) -> None:
    """Append prompt `name` to `parent` (a response or a <Gather>): <Play> its recording, else <Say> it."""
    language = pick_language(language)
    recording = recording_for(prompts_dir, name, language)
    if recording is not None:
        parent.play(f"{prompts_url.rstrip('/')}/{recording}")
        return
    parent.say(prompt(name, language, **context), **VOICES[language])

"""A market's recorded prompts replace the spoken ones; the audio is served from PROMPTS_DIR."""

from __future__ import annotations

from pathlib import Path

import pytest

from dispatch.models import Employer
from tests.ivr.conftest import EMPLOYER_PHONE, PUBLIC_BASE, Caller


@pytest.fixture
def prompts_dir(tmp_path: Path) -> Path:
    (tmp_path / "zh").mkdir()
    (tmp_path / "zh" / "main_menu.mp3").write_bytes(b"ID3 menu")
    (tmp_path / "welcome.wav").write_bytes(b"RIFF welcome")
    (tmp_path / "zh" / "known_employer.mp3").write_bytes(b"ID3 never played")
    return tmp_path


@pytest.fixture
def settings_overrides(prompts_dir: Path) -> dict:
    return {"PUBLIC_BASE_URL": PUBLIC_BASE, "PROMPTS_DIR": str(prompts_dir)}


def test_a_recorded_prompt_is_played_instead_of_spoken(client, session, seeded, market_open) -> None:
    session.add(Employer(phone=EMPLOYER_PHONE, name="王师傅"))
    session.commit()
    caller = Caller(client)
    caller.dial()
    # What this call alone can say (the employer's name) is spoken, whatever file lies there.
    assert caller.said() == "王师傅，您好。"
    plays = [element.text for element in caller.root.iter("Play")]
    assert plays == [f"{PUBLIC_BASE}/ivr/prompts/welcome.wav", f"{PUBLIC_BASE}/ivr/prompts/zh/main_menu.mp3"]
    assert client.get("/ivr/prompts/zh/main_menu.mp3").data == b"ID3 menu"
    assert client.get("/ivr/prompts/welcome.wav").data == b"RIFF welcome"
    assert client.get("/ivr/prompts/zh/missing.mp3").status_code == 404
    assert client.get("/ivr/prompts/../settings.py").status_code == 404
    assert client.get("/ivr/prompts/%2e%2e/%2e%2e/pyproject.toml").status_code == 404
    caller.press("*")  # English has no recordings here: spoken
    assert not list(caller.root.iter("Play")) and "To post a job" in caller.said()

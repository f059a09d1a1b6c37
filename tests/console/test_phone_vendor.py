"""Twilio's Voice SDK at install: an exact version and integrity pinned, a tarball that does not match
refused, the bundle served as a static file when present, and the install scripts calling the step."""

from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path

import pytest

from dispatch.console.phone import vendor
from dispatch.settings import PROJECT_ROOT

BUNDLE = b"(function(root){ /* a stand-in for twilio.min.js */ })(this);"


def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_the_version_and_integrity_are_pinned_exactly():
    assert re.fullmatch(r"2\.\d+\.\d+", vendor.VOICE_SDK_VERSION)  # the 2.x Device API phone.js uses
    assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", vendor.VOICE_SDK_INTEGRITY)


def test_a_matching_tarball_puts_the_bundle_in_place(tmp_path: Path):
    data = tarball({vendor.BUNDLE_IN_TARBALL: BUNDLE, "package/package.json": b"{}"})
    target = vendor.install_tarball(data, tmp_path, integrity=vendor.integrity_of(data))
    assert target.read_bytes() == BUNDLE
    assert vendor.installed_version(tmp_path) == vendor.VOICE_SDK_VERSION
    assert sorted(path.name for path in tmp_path.iterdir()) == ["twilio.min.js", "twilio.version"]


def test_a_tarball_other_than_the_pinned_one_is_refused(tmp_path: Path):
    data = tarball({vendor.BUNDLE_IN_TARBALL: BUNDLE})
    with pytest.raises(vendor.VendorError, match="integrity"):
        vendor.install_tarball(data, tmp_path)  # the real pin: these bytes are not @twilio/voice-sdk's
    assert vendor.installed_version(tmp_path) == ""
    assert not (tmp_path / "twilio.min.js").exists()


def test_a_tarball_without_the_bundle_is_refused(tmp_path: Path):
    data = tarball({"package/README.md": b"no bundle"})
    with pytest.raises(vendor.VendorError, match="not in the tarball"):
        vendor.install_tarball(data, tmp_path, integrity=vendor.integrity_of(data))


def test_without_npm_the_install_goes_on_offline(monkeypatch, capsys):
    monkeypatch.setattr(vendor, "sdk_available", lambda: False)
    monkeypatch.setattr(vendor.shutil, "which", lambda name: None)
    assert vendor.main() == 0
    assert "offline mode only" in capsys.readouterr().err


def test_the_vendor_directory_is_not_committed():
    assert "dispatch/console/static/vendor/" in (PROJECT_ROOT / ".gitignore").read_text().splitlines()


@pytest.mark.parametrize("script", ["scripts/run", "scripts/test"])
def test_the_scripts_fetch_the_sdk(script: str):
    assert "from dispatch.console.phone.vendor import main; main()" in (PROJECT_ROOT / script).read_text()

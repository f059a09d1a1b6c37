"""Twilio's Voice JavaScript SDK, fetched at install and served as a static file, its version pinned.

The SDK comes from npm (@twilio/voice-sdk). scripts/run and scripts/test call
`python -m dispatch.console.phone.vendor`, which `npm pack`s the pinned version into a cache, checks the
tarball against the pinned integrity (the registry's sha512) and copies its browser bundle to
static/vendor/ (gitignored). Without npm or a network the copy is missing and the console's softphone
runs in offline mode only; nothing else depends on it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from dispatch.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

VOICE_SDK_PACKAGE = "@twilio/voice-sdk"
VOICE_SDK_VERSION = "2.18.5"
# `npm view @twilio/voice-sdk@2.18.5 dist.integrity`: a different tarball under that version is refused.
VOICE_SDK_INTEGRITY = (
    "sha512-2/tw1IDAIn7j6yFDOln8p93v3aHIxNIN93JwL98cHIlbkSNeU/Jt9zGM/0TvDpNjo+k88lvAew4jgOjKlc9/KA=="
)
BUNDLE_IN_TARBALL = "package/dist/twilio.min.js"

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
BUNDLE = VENDOR_DIR / "twilio.min.js"
STAMP = VENDOR_DIR / "twilio.version"  # the version the bundle is, so a new pin fetches again
CACHE_DIR = PROJECT_ROOT / "instance" / "npm-cache"


class VendorError(RuntimeError):
    pass


def installed_version(vendor_dir: Path = VENDOR_DIR) -> str:
    """The SDK version in static/vendor/, or "" when it is missing or incomplete."""
    bundle, stamp = vendor_dir / BUNDLE.name, vendor_dir / STAMP.name
    if not (bundle.is_file() and stamp.is_file()):
        return ""
    return stamp.read_text().strip()


def sdk_available() -> bool:
    """Whether the page can load Twilio.Device (the pinned bundle is in place)."""
    return installed_version() == VOICE_SDK_VERSION


def integrity_of(data: bytes) -> str:
    """npm's Subresource-Integrity form of a tarball: `sha512-<base64>`."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def install_tarball(data: bytes, vendor_dir: Path = VENDOR_DIR, integrity: str = VOICE_SDK_INTEGRITY) -> Path:
    """Check the tarball against the pin and put its browser bundle in `vendor_dir`."""
    if integrity_of(data) != integrity:
        raise VendorError(f"{VOICE_SDK_PACKAGE} tarball does not match the pinned integrity: refused")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        try:
            member = tar.getmember(BUNDLE_IN_TARBALL)
        except KeyError as exc:
            raise VendorError(f"{BUNDLE_IN_TARBALL} is not in the tarball") from exc
        source = tar.extractfile(member)
        if source is None:
            raise VendorError(f"{BUNDLE_IN_TARBALL} is not a file")
        bundle = source.read()
    vendor_dir.mkdir(parents=True, exist_ok=True)
    # Written beside and renamed: a server reading the directory never serves half a file.
    target = vendor_dir / BUNDLE.name
    partial = target.with_suffix(".partial")
    partial.write_bytes(bundle)
    partial.replace(target)
    (vendor_dir / STAMP.name).write_text(VOICE_SDK_VERSION + "\n")
    return target


def npm_pack(cache_dir: Path = CACHE_DIR) -> bytes:
    """The pinned tarball, from the npm cache when it was fetched before."""
    npm = shutil.which("npm")
    if npm is None:
        raise VendorError("npm is not installed (apt-get install npm)")
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        try:
            done = subprocess.run(
                [
                    npm,
                    "pack",
                    f"{VOICE_SDK_PACKAGE}@{VOICE_SDK_VERSION}",
                    "--silent",
                    "--cache",
                    str(cache_dir),
                ],
                cwd=work,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise VendorError("npm pack took more than 5 minutes") from exc
        tarballs = list(Path(work).glob("*.tgz"))
        if done.returncode != 0 or len(tarballs) != 1:
            raise VendorError(f"npm pack failed: {done.stderr.strip()[-500:]}")
        return tarballs[0].read_bytes()


def ensure_sdk() -> str:
    """Fetch the pinned SDK unless it is in place already; returns what was done."""
    if sdk_available():
        return f"{VOICE_SDK_PACKAGE} {VOICE_SDK_VERSION} in place"
    install_tarball(npm_pack())
    return f"{VOICE_SDK_PACKAGE} {VOICE_SDK_VERSION} fetched into {VENDOR_DIR}"


def main() -> int:
    """The install step: never fails the install (the console works offline without the SDK)."""
    try:
        print(f"==> {ensure_sdk()}")
    except VendorError as exc:
        print(
            f"==> no {VOICE_SDK_PACKAGE} ({exc}): the console's softphone works in offline mode only",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`dispatch insurance export --date D`: the insurer's CSV of one day's enrolments."""

from __future__ import annotations

import argparse

from dispatch.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="insurance_command", required=True)
    export = commands.add_parser("export", help="write the insurer's CSV of one day's enrolments")
    export.add_argument("--date", required=True, help="the working day, YYYY-MM-DD")
    export.add_argument("--output", default="-", help="a file path, or - for standard output")


def run(settings: Settings, args: argparse.Namespace) -> int:
    raise NotImplementedError("issue 7: insurance export")

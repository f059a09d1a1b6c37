"""`dispatch db upgrade|downgrade [REVISION]`: a downgrade asks first (or takes --yes), it drops data."""

from __future__ import annotations

import argparse
import sys

from dispatch.settings import Settings


def run(settings: Settings, args: argparse.Namespace) -> int:
    from dispatch import migrate

    if args.action == "upgrade":
        migrate.upgrade(settings.DATABASE_URL, revision=args.revision or "head")
    else:
        revision = args.revision or "-1"
        if not args.yes and not confirm_downgrade(settings, revision):
            print("not downgraded", file=sys.stderr)
            return 1
        migrate.downgrade(settings.DATABASE_URL, revision=revision)
    print(f"database {args.action} done")
    return 0


def confirm_downgrade(settings: Settings, revision: str) -> bool:
    """Ask on a terminal before dropping tables and columns; elsewhere, insist on --yes."""
    from dispatch.ops.errors import OperatorError, mask_url

    if not sys.stdin.isatty():
        raise OperatorError("db downgrade drops tables and columns with their data: add --yes to confirm")
    where = mask_url(settings.DATABASE_URL)
    print(f"Downgrading {where} to {revision} drops the tables and columns it undoes, with their data.")
    return input("Type yes to go on: ").strip().lower() == "yes"

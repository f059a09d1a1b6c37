"""`dispatch agents create|password|list|disable|enable`: console accounts (dispatch/console/agents.py)."""

from __future__ import annotations

import argparse
import sys

from dispatch.settings import Settings


def read_password(args: argparse.Namespace) -> str:
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def run(settings: Settings, args: argparse.Namespace) -> int:
    from dispatch.console.agents import AgentError, create_agent, set_password
    from dispatch.db import Database

    if args.agents_command in {"list", "disable", "enable"}:
        return list_disable_enable(settings, args)
    try:
        password = read_password(args)
        with Database(settings.DATABASE_URL).transaction() as session:
            if args.agents_command == "create":
                agent = create_agent(
                    session,
                    args.username,
                    password,
                    args.role,
                    args.site,
                    args.name,
                    args.language,
                    hash_method=settings.PASSWORD_HASH_METHOD,
                )
                print(f"agent {agent.username} created ({agent.role.value}, site {args.site})")
            else:
                set_password(session, args.username, password, settings.PASSWORD_HASH_METHOD)
                print(f"password of {args.username} changed")
    except (AgentError, ValueError) as exc:
        print(f"dispatch agents: {exc}", file=sys.stderr)
        return 2
    return 0


def list_disable_enable(settings: Settings, args: argparse.Namespace) -> int:
    """`agents list`, `agents disable USERNAME`, `agents enable USERNAME`."""
    from dispatch.console.agents import AgentError, describe_agent, list_agents, set_active
    from dispatch.db import Database

    try:
        with Database(settings.DATABASE_URL).transaction() as session:
            if args.agents_command == "list":
                agents = list_agents(session)
                for agent in agents:
                    print(describe_agent(agent, settings.MARKET_TIMEZONE))
                if not agents:
                    print("no agents yet: `dispatch agents create USERNAME --site CODE`", file=sys.stderr)
                return 0
            agent = set_active(session, args.username, args.agents_command == "enable")
            if agent.active:
                print(f"agent {agent.username} enabled: they can sign in again")
            else:
                print(f"agent {agent.username} disabled: signed out everywhere, and cannot sign in")
    except AgentError as exc:
        print(f"dispatch agents: {exc}", file=sys.stderr)
        return 2
    return 0

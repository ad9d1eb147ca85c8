"""``hub users``, ``hub moderation`` and ``hub briefs``: the community features from a terminal.

The first admin can only be made here (the web never hands out roles to itself). Passwords are
read from the terminal without echo, or from ``--password-stdin`` for scripts.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from hub.errors import HubError
from hub.forms import check_arguments, check_text
from hub.settings import Settings


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="accounts: create users, set roles, issue API tokens")
    usub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = usub.add_parser("add", help="create an account (the first admin is made this way)")
    q.add_argument("username")
    q.add_argument("--role", choices=("member", "moderator", "admin"), default="member")
    q.add_argument("--name", default="", help="display name")
    q.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    q = usub.add_parser("list", help="every account with its role")
    q.add_argument("--json", action="store_true")
    q = usub.add_parser("role", help="change a user's role")
    q.add_argument("username")
    q.add_argument("role", choices=("member", "moderator", "admin"))
    q = usub.add_parser("password", help="set a new password (ends the user's sessions)")
    q.add_argument("username")
    q.add_argument("--password-stdin", action="store_true")
    q = usub.add_parser("token", help="issue an API token for scripts (printed once)")
    q.add_argument("username")
    q.add_argument("--label", default="script")

    p = sub.add_parser("moderation", help="the queue of shared case studies")
    msub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = msub.add_parser("queue", help="submissions waiting for a decision")
    q.add_argument("--json", action="store_true")
    for name in ("approve", "reject"):
        q = msub.add_parser(name, help=f"{name} a submission")
        q.add_argument("submission", type=int)
        q.add_argument("--as", dest="moderator", required=True, metavar="USER", help="the deciding moderator")
        if name == "reject":
            q.add_argument("--reason", required=True, help="shown to the member")
    q = msub.add_parser("log", help="the decision log, newest first")
    q.add_argument("--json", action="store_true")

    p = sub.add_parser("briefs", help="advisors' briefs")
    bsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = bsub.add_parser("list", help="a user's briefs")
    q.add_argument("username")
    q = bsub.add_parser("export", help="write a brief as Markdown, HTML or PDF")
    q.add_argument("brief", type=int)
    q.add_argument("--as", dest="owner", required=True, metavar="USER")
    q.add_argument("--format", choices=("md", "html", "pdf"), default="md")
    q.add_argument("--output", "-o", help="file to write (default: standard output; required for pdf)")
    q.add_argument("--lang", choices=("en", "fr", "es"), default="en", help="language of the brief's own labels")


def _password(args: argparse.Namespace) -> str:
    try:
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("password: ")
            if getpass.getpass("again: ") != password:
                raise HubError("the two passwords differ")
    except UnicodeDecodeError:
        raise HubError("password: not valid text in the terminal's encoding") from None
    check_text(password, "password")
    return password


def _checked(command):  # type: ignore[no-untyped-def]
    """Every text argument is checked before the command runs (see :func:`check_arguments`)."""

    def run(settings: Settings, args: argparse.Namespace) -> int:
        check_arguments(vars(args))
        return command(settings, args)

    return run


def _hub(settings: Settings):  # type: ignore[no-untyped-def]
    from hub.core import Hub

    return Hub(settings)


def cmd_users(settings: Settings, args: argparse.Namespace) -> int:
    with _hub(settings) as hub:
        accounts = hub.accounts
        if args.action == "add":
            user = accounts.register(args.username, _password(args), role=args.role, display_name=args.name)
            print(f"created {user.username} ({user.role})")
        elif args.action == "list":
            users = accounts.users()
            if args.json:
                print(json.dumps([u.to_json() for u in users], indent=2))
            for u in [] if args.json else users:
                print(f"{u.username:<24} {u.role:<10} {u.display_name}")
        elif args.action == "role":
            user = accounts.set_role(args.username, args.role)
            print(f"{user.username} is now {user.role}")
        elif args.action == "password":
            user = accounts.by_name(args.username)
            revoked = accounts.set_password(user.id, _password(args))
            print(f"password of {user.username} changed; their sessions have ended and their API tokens "
                  f"were revoked ({revoked})")
        elif args.action == "token":
            user = accounts.by_name(args.username)
            print(accounts.create_token(user.id, args.label))
            print("keep it safe: it is shown only once (send it as 'Authorization: Bearer <token>')",
                  file=sys.stderr)
    return 0


def cmd_moderation(settings: Settings, args: argparse.Namespace) -> int:
    with _hub(settings) as hub:
        mod = hub.moderation
        if args.action == "queue":
            queue = mod.queue()
            if args.json:
                print(json.dumps([s.to_json() for s in queue], ensure_ascii=False, indent=2))
            for s in [] if args.json else queue:
                print(f"#{s.id:<5} {s.kind:<10} {s.username:<16} {s.language}  {s.title}")
            if not queue and not args.json:
                print("the queue is empty")
        elif args.action in ("approve", "reject"):
            moderator = hub.accounts.by_name(args.moderator)
            if args.action == "approve":
                sub = mod.approve(moderator, args.submission)
                print(f"approved #{sub.id}" + (f": indexed as {sub.doc_id}" if sub.doc_id else ""))
            else:
                mod.reject(moderator, args.submission, args.reason)
                print(f"rejected #{args.submission}")
        elif args.action == "log":
            log = mod.decisions()
            if args.json:
                print(json.dumps(log, ensure_ascii=False, indent=2))
            for d in [] if args.json else log:
                reason = f" ({d['reason']})" if d["reason"] else ""
                print(f"#{d['submission_id']:<5} {d['action']:<22} by {d['username']:<16} {d['title']}{reason}")
    return 0


def cmd_briefs(settings: Settings, args: argparse.Namespace) -> int:
    from hub.brief_export import render

    with _hub(settings) as hub:
        if args.action == "list":
            for b in hub.briefs.of(hub.accounts.by_name(args.username)):
                print(f"#{b.id:<5} {b.title}" + ("  (shared)" if b.share_token else ""))
            return 0
        brief = hub.briefs.get(hub.accounts.by_name(args.owner), args.brief)
        content = render(brief, args.format, args.lang)
        if args.output:
            data = content if isinstance(content, bytes) else content.encode("utf-8")
            Path(args.output).write_bytes(data)
            print(f"wrote {args.output}", file=sys.stderr)
        elif isinstance(content, bytes):
            raise HubError("a PDF needs --output FILE")
        else:
            sys.stdout.write(content)
    return 0


COMMANDS = {"users": _checked(cmd_users), "moderation": _checked(cmd_moderation), "briefs": _checked(cmd_briefs)}

"""``nms admin`` (serve the admin page alone) and ``nms admin create-user NAME --role ROLE``."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path

from nms.admin.interfaces import AdminDistrict
from nms.admin.users import Role, UserError, UserStore


def register(subparsers: argparse._SubParsersAction, load: Callable[[Path], AdminDistrict]) -> None:
    """Add ``admin``; ``load`` reads the configuration named by ``--config`` (given by the application)."""
    p = subparsers.add_parser("admin", help="serve the admin page (waitress), or manage its users",
                              description="Serve the admin page on its own (`nms run` includes it). Changes to "
                                          "the inventory and polling are applied by asking the running service "
                                          "to reload (POST /-/reload).")
    p.add_argument("--listen", default=None, help="host:port (default: admin.listen in nms.yaml, 127.0.0.1:8080)")
    p.add_argument("--state-dir", type=Path, default=None,
                   help="users, sessions, audit log, audio archive (default: admin.state_dir, /var/lib/nms/admin)")
    p.set_defaults(func=cmd_serve, load_district=load)
    sub = p.add_subparsers(dest="admin_action", metavar="ACTION")
    c = sub.add_parser("create-user", help="create a user (the first one must be an admin); asks for the password")
    c.add_argument("name")
    c.add_argument("--role", required=True, choices=[r.label for r in Role])
    c.add_argument("--password-env", metavar="VAR", help="read the password from this environment variable")
    c.add_argument("--state-dir", type=Path, default=None)
    c.set_defaults(func=cmd_create_user, load_district=load)
    u = sub.add_parser("unlock", help="lift the login lock of a user (from every address) after too many "
                                      "failed logins; run on the host, so an admin always has a way in")
    u.add_argument("name")
    u.add_argument("--state-dir", type=Path, default=None)
    u.set_defaults(func=cmd_unlock, load_district=load)


def _settings(args: argparse.Namespace):
    from nms.admin.workspace import admin_settings

    district = args.load_district(Path(args.config))
    settings = admin_settings(district)
    if getattr(args, "state_dir", None):
        state = args.state_dir.resolve()
        settings = settings.model_copy(update={"state_dir": state, "users_db": state / "users.sqlite3"})
    return district, settings


def cmd_create_user(args: argparse.Namespace) -> int:
    _district, settings = _settings(args)
    if args.password_env:
        password = os.environ.get(args.password_env, "")
        if not password:
            print(f"error: environment variable {args.password_env} is empty or not set", file=sys.stderr)
            return 2
    else:
        if not sys.stdin.isatty():
            print("error: no terminal to ask for the password: use --password-env VAR", file=sys.stderr)
            return 2
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            print("error: the passwords differ", file=sys.stderr)
            return 2
    store = UserStore(settings.users_db or settings.state_dir / "users.sqlite3")
    try:
        role = Role.parse(args.role)
        if store.count() == 0 and role is not Role.ADMIN:
            print("error: the first user must be an admin (--role admin)", file=sys.stderr)
            return 2
        store.create(args.name, role, password)
    except UserError as exc:
        hints = {"password_short": "the password needs at least 10 characters",
                 "password_weak": "the password is too simple (a common word, a sequence, a keyboard "
                                  "pattern or a repeat)",
                 "password_long": "the password may have at most 256 characters",
                 "user_exists": "that user exists already",
                 "user_name_invalid": "a name is 2-32 of a-z 0-9 . _ - starting with a letter"}
        print(f"error: {hints.get(exc.code, exc.code)}", file=sys.stderr)
        return 2
    finally:
        store.close()
    from nms.admin.audit import AuditLog

    audit = AuditLog(settings.state_dir / "audit.sqlite3")
    audit.record(user=f"{getpass.getuser()} (cli)", action="user.create", target=args.name,
                 summary=f"create user {args.name} ({role.label}) from the command line", result="applied",
                 applied=True)
    audit.close()
    print(f"user {args.name} ({role.label}) created in {store.path}")
    return 0


def cmd_unlock(args: argparse.Namespace) -> int:
    """Failures before now no longer count for this user, from any address; a running page sees it at once."""
    _district, settings = _settings(args)
    store = UserStore(settings.users_db or settings.state_dir / "users.sqlite3")
    try:
        if store.get(args.name) is None:
            print(f"error: no user {args.name!r}", file=sys.stderr)
            return 2
        store.unlock(args.name)
    finally:
        store.close()
    from nms.admin.audit import AuditLog

    audit = AuditLog(settings.state_dir / "audit.sqlite3")
    audit.record(user=f"{getpass.getuser()} (cli)", action="user.unlock", target=args.name,
                 summary=f"unlock logins of {args.name} from the command line", result="done")
    audit.close()
    print(f"logins of {args.name} unlocked")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from nms.admin.service import AdminService

    district, settings = _settings(args)
    service = AdminService(district, listen=args.listen, settings=settings)
    if service.workspace.users.count() == 0:
        print("no users yet: create the first with `nms admin create-user NAME --role admin`", file=sys.stderr)

    from nms.service import run_until_signalled

    run_until_signalled(service, f"nms admin: serving {service.url}/ (waitress); Ctrl-C stops")
    service.workspace.close()
    return 0

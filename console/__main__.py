"""``python -m console serve`` and ``python -m console create-user USERNAME [--admin] [--school UAI]``.

Owns the console's command line: serving (host and port from the options or
the settings, the database from ``ORIENTBOT_DATABASE_URL``; an address other
than loopback only with ``console.secure_cookies``, i.e. behind HTTPS, or
``--allow-insecure-remote``), the first admin account when there is none (its
random password written to ``console.admin_password_file``, mode 600, never
printed: the output ends up in var/log/; to be changed at the first log-in),
and creating accounts with a password read from stdin or a file, never from
the command line.  Everything it writes is its user's only (umask 077).
"""
from __future__ import annotations

import argparse
import getpass
import ipaddress
import os
import secrets
import sys
from pathlib import Path
from typing import Optional

from aiohttp import web

from console.app import create_app
from orientbot import accounts
from orientbot.db import create_schema, make_engine, session_scope
from orientbot.settings import load_settings


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    os.chmod(path, 0o600)


def ensure_first_admin(engine, *, password_file: Path) -> Optional[str]:
    """Create ``admin`` with a random password when no account exists, to be changed at its first log-in;
    returns the password, once (written to ``password_file``, never printed)."""
    with session_scope(engine) as session:
        if accounts.has_accounts(session):
            return None
        password = secrets.token_urlsafe(12)
        accounts.create_counsellor(session, username="admin", display_name="Administrateur", password=password,
                                   role="admin", must_change_password=True)
    _write_private(password_file, password)
    return password


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: it may resolve to anything
        return False


def _read_password(password_file: Optional[str]) -> str:
    if password_file:
        lines = Path(password_file).read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    if sys.stdin.isatty():
        first, second = getpass.getpass("Mot de passe : "), getpass.getpass("Encore une fois : ")
        if first != second:
            raise SystemExit("Les deux mots de passe diffèrent.")
        return first
    return sys.stdin.readline().rstrip("\n")


def serve(args: argparse.Namespace) -> None:
    os.umask(0o077)
    settings = load_settings()
    host, port = args.host or settings.console.host, args.port or settings.console.port
    if not (is_loopback(host) or settings.console.secure_cookies or settings.console.allow_insecure_remote
            or args.allow_insecure_remote):
        raise SystemExit(f"Console non démarrée : sur {host}, les mots de passe et les conversations passeraient "
                         "en clair. Servez-la derrière HTTPS avec console.secure_cookies (ORIENTBOT_CONSOLE_SECURE_"
                         "COOKIES=1), ou forcez avec --allow-insecure-remote si vous savez ce que vous faites.")
    engine = make_engine(settings.database_url)
    create_schema(engine)
    password_file = settings.console.admin_password_file
    if ensure_first_admin(engine, password_file=password_file):
        print(f"Premier compte créé : identifiant « admin », mot de passe dans {password_file} (lisible par vous "
              "seul) ; il faudra le changer à la première connexion.", flush=True)
    print(f"Console des conseillers : http://{host}:{port}/", flush=True)
    web.run_app(create_app(settings, engine), host=host, port=port, print=None, access_log=None)


def create_user(args: argparse.Namespace) -> None:
    settings = load_settings()
    engine = make_engine(settings.database_url)
    create_schema(engine)
    try:
        with session_scope(engine) as session:
            accounts.create_counsellor(session, username=args.username, display_name=args.display_name or "",
                                       password=_read_password(args.password_file),
                                       role="admin" if args.admin else "counsellor", school=args.school,
                                       known_schools=settings.schools.known)
    except accounts.AccountError as error:
        raise SystemExit(f"Compte non créé : {error}.") from None
    print(f"Compte « {args.username} » créé.")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m console", description="Console des conseillers")
    commands = parser.add_subparsers(dest="command", required=True)
    serving = commands.add_parser("serve", help="servir la console")
    serving.add_argument("--host")
    serving.add_argument("--port", type=int)
    serving.add_argument("--allow-insecure-remote", action="store_true",
                         help="servir sur une adresse autre que locale sans HTTPS (déconseillé)")
    serving.set_defaults(run=serve)
    user = commands.add_parser("create-user", help="créer un compte (mot de passe lu sur l'entrée standard)")
    user.add_argument("username")
    user.add_argument("--admin", action="store_true")
    user.add_argument("--display-name")
    user.add_argument("--school", help="code UAI de l'établissement dont le compte voit les tickets (sans : tous)")
    user.add_argument("--password-file")
    user.set_defaults(run=create_user)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()

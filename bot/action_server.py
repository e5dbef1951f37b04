"""``python -m bot.action_server``: the rasa_sdk action server, on loopback, answering only Rasa.

Owns what ``rasa run actions`` leaves open: it listens on 127.0.0.1 by default (``--host``), and every
call but ``/health`` must carry the shared secret (``ORIENTBOT_ACTION_SECRET``, sent by Rasa in the
``X-Orientbot-Action-Secret`` header, see ``endpoints.yml``); bodies above ``--max-body`` bytes get 413,
compressed bodies (which rasa_sdk would inflate without a limit) 415, and no error answer or log line
ever repeats the request (the conversation of a minor). The server refuses to start without a secret.
"""
from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
import threading
from typing import Optional

from sanic import Sanic, response
from sanic.request import Request

SECRET_ENV = "ORIENTBOT_ACTION_SECRET"
SECRET_HEADER = "X-Orientbot-Action-Secret"
MIN_SECRET_CHARS = 16
DEFAULT_MAX_BODY = 8 * 1024 * 1024  # a long conversation's tracker plus the domain stays well below
OPEN_PATHS = ("/health",)

logger = logging.getLogger(__name__)


def _refusal(status: int, message: str) -> response.HTTPResponse:
    return response.json({"error": message}, status=status)


def secure(app: Sanic, *, secret: str, max_body: int = DEFAULT_MAX_BODY) -> Sanic:
    """Adds the size limit, the secret check and an error handler that echoes nothing to a rasa_sdk app."""
    if len(secret) < MIN_SECRET_CHARS:
        raise ValueError(f"the action server's secret must have at least {MIN_SECRET_CHARS} characters")
    app.config.REQUEST_MAX_SIZE = max_body
    expected = secret.encode("utf-8")

    async def check(request: Request) -> Optional[response.HTTPResponse]:
        if request.path in OPEN_PATHS and request.method in ("GET", "HEAD"):
            return None
        sent = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(sent, expected):
            return _refusal(401, "unauthorised")
        if request.headers.get("Content-Encoding", "identity").strip().lower() != "identity":
            return _refusal(415, "compressed bodies are not accepted")
        return None

    app.register_middleware(check, "request")

    async def failed(request: Request, exception: Exception) -> response.HTTPResponse:
        status = getattr(exception, "status_code", 500) or 500
        if status >= 500:  # the type only: the message may quote the conversation
            logger.error("action call failed: %s", type(exception).__name__)
        return _refusal(status, "request failed" if status >= 500 else "bad request")

    app.error_handler.add(Exception, failed)  # replaces rasa_sdk's, which returns the request's body
    return app


def create_app(actions: str, *, secret: str, max_body: int = DEFAULT_MAX_BODY) -> Sanic:
    from rasa_sdk.endpoint import create_app as create_sdk_app

    return secure(create_sdk_app(actions, cors_origins=None), secret=secret, max_body=max_body)


async def _warm_up(app: Sanic, loop) -> None:
    """Loads the KB, fits its retriever and the detectors now rather than on the first person's message
    (about 3 s on 2 cores), in a thread: the server answers meanwhile."""
    def load() -> None:
        from bot.actions.services import default_services

        try:
            default_services().knowledge.entries()
        except Exception:  # the first action will try again and say what is wrong
            logger.exception("warm-up failed")

    threading.Thread(target=load, name="warm-up", daemon=True).start()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.action_server", description=__doc__.splitlines()[0])
    parser.add_argument("--actions", default="bot.actions")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--max-body", type=int, default=DEFAULT_MAX_BODY, help="bytes")
    args = parser.parse_args(argv)
    os.umask(0o077)  # the ticket spool and anything else it writes: its user's only
    secret = os.environ.get(SECRET_ENV, "")
    if len(secret) < MIN_SECRET_CHARS:
        sys.exit(f"Serveur d'actions non démarré : {SECRET_ENV} doit contenir un secret d'au moins "
                 f"{MIN_SECRET_CHARS} caractères (scripts/run.sh en crée un dans var/).")
    from rasa_sdk import utils

    utils.configure_colored_logging("INFO")
    utils.update_sanic_log_level()
    app = create_app(args.actions, secret=secret, max_body=args.max_body)
    app.register_listener(_warm_up, "after_server_start")
    logger.info("Action server on http://%s:%s", args.host, args.port)
    app.run(args.host, args.port, workers=utils.number_of_sanic_workers(), access_log=False)


if __name__ == "__main__":
    main()

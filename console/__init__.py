"""The counsellors' web console: an aiohttp app over the shared core.

Counsellors take escalated conversations from the queue, answer the person in
the same conversation, hand it back to the bot and turn good answers into
knowledge; admins also manage accounts, office hours and proposals.  The
console never imports Rasa: it reads and writes tickets, the chat log and the
KB through ``orientbot``.
"""
from console.app import create_app

__all__ = ["create_app"]

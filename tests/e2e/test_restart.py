"""Conversations survive a restart: the SQL tracker store and the chat log are read back by a new server."""
import json
import sqlite3
import urllib.request
import uuid

import pytest

from bot.channels.guard import TOKEN_HEADER, token_for
from scripts.servers import running_bot

pytestmark = pytest.mark.e2e


def chat(bot, sender, text):
    body = json.dumps({"sender": sender, "text": text, "client_id": uuid.uuid4().hex}).encode()
    request = urllib.request.Request(bot.url + "/webhooks/chat/message", data=body,
                                     headers={"Content-Type": "application/json", TOKEN_HEADER: token_for(sender)})
    with urllib.request.urlopen(request, timeout=90) as response:
        return json.loads(response.read())


def test_a_conversation_goes_on_after_the_servers_restart(tmp_path):
    sender = f"restart-{uuid.uuid4().hex}"
    with running_bot(tmp_path) as first:
        chat(first, sender, "bonjour")
        before = chat(first, sender, "c quoi la cvec")
    with running_bot(tmp_path, keep_database=True) as second:
        history_request = urllib.request.Request(f"{second.url}/webhooks/chat/history?sender={sender}",
                                                 headers={TOKEN_HEADER: token_for(sender)})
        with urllib.request.urlopen(history_request, timeout=30) as response:
            history = json.loads(response.read())
        assert [m["id"] for m in history["messages"]][-len(before["messages"]):] == [m["id"] for m in before["messages"]]
        chat(second, sender, "merci")
    with sqlite3.connect(tmp_path / "tracker.db") as db:
        texts = [json.loads(row[0]).get("text") for row in db.execute(
            "select data from events where sender_id = ? and type_name = 'user' order by id", (sender,))]
    assert texts == ["bonjour", "c quoi la cvec", "merci"]

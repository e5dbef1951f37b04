"""Faults, by stopping real processes: the action server goes down mid-conversation, then comes back."""
import json
import urllib.error
import urllib.request
import uuid

import pytest

from bot.channels.guard import TOKEN_HEADER, token_for
from scripts.servers import running_bot

pytestmark = pytest.mark.e2e


def chat(bot, sender, text):
    body = json.dumps({"sender": sender, "text": text, "client_id": uuid.uuid4().hex,
                       "metadata": {"audience": "eleve"}}).encode()
    request = urllib.request.Request(bot.url + "/webhooks/chat/message", data=body,
                                     headers={"Content-Type": "application/json", TOKEN_HEADER: token_for(sender)})
    try:
        with urllib.request.urlopen(request, timeout=90) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:  # 503 {"error", "stored", "messages"}: the bot failed
        return json.loads(error.read())


def said(reply) -> str:
    return " ".join([reply.get("error", "")] + [m["text"] for m in reply.get("messages", []) if m["author"] != "user"])


def history(bot, sender):
    request = urllib.request.Request(f"{bot.url}/webhooks/chat/history?sender={sender}",
                                     headers={TOKEN_HEADER: token_for(sender)})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["messages"]


def test_without_the_action_server_the_person_is_told_distress_gets_the_numbers_and_service_resumes(tmp_path):
    sender = f"faults-{uuid.uuid4().hex[:12]}"
    asked = ["bonjour", "quelle différence entre un BTS et un BUT ?", "j'ai envie d'en finir avec la vie",
             "quelle différence entre un BTS et un BUT ?"]
    with running_bot(tmp_path) as bot:
        assert said(chat(bot, sender, asked[0]))
        bot.stop_action_server()
        down = said(chat(bot, sender, asked[1]))
        assert "répondre pour le moment" in down and "enregistré" in down
        urgent = said(chat(bot, sender, asked[2]))
        for number in ("3114", "3018", "119", "112"):
            assert number in urgent, f"no {number} while the action server is down"
        bot.start_action_server()
        back = chat(bot, sender, asked[3])
        assert "répondre pour le moment" not in said(back) and said(back)
        written = [m["text"] for m in history(bot, sender) if m["author"] == "user"]
        assert written == asked  # nothing the person wrote is lost, in order

"""The chat window's API (``/webhooks/chat/…``) on the trained bot: stored, answered, paused during a handoff."""
import json
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone

import pytest

from orientbot import workflow
from orientbot.db import Counsellor, make_engine, session_scope

pytestmark = pytest.mark.e2e


def call(bot, path, body=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(bot.url + "/webhooks/chat" + path, data=data,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=90) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def send(bot, sender, text, audience="eleve"):
    status, reply = call(bot, "/message", {"sender": sender, "text": text, "client_id": uuid.uuid4().hex,
                                            "metadata": {"audience": audience}})
    assert status == 200, reply
    return reply


def test_an_answer_comes_with_its_sources_and_is_kept_in_the_history(bot):
    sender = f"chat-{uuid.uuid4().hex}"
    reply = send(bot, sender, "c'est quoi la cvec et combien ça coûte ?")
    [user, *answers] = reply["messages"]
    assert user["author"] == "user" and user["text"].startswith("c'est quoi la cvec")
    assert any(m["payload"].get("answer", {}).get("sources") for m in answers) or any(
        m["payload"].get("buttons") for m in answers)
    status, history = call(bot, f"/history?sender={sender}")
    assert status == 200 and [m["id"] for m in history["messages"]] == [m["id"] for m in reply["messages"]]


def test_during_a_live_handoff_the_counsellor_answers_instead_of_the_bot(bot):
    sender = f"chat-{uuid.uuid4().hex}"
    reply = send(bot, sender, "je voudrais parler à un conseiller s'il vous plaît", audience="parent")
    [handoff] = [m["payload"]["handoff"] for m in reply["messages"] if "handoff" in m["payload"]]
    assert reply["state"]["ticket_id"] == handoff["ticket_id"]
    engine = make_engine(bot.database_url)
    now = datetime.now(timezone.utc)
    with session_scope(engine) as session:
        workflow.get(session, ticket_id=handoff["ticket_id"]).mode = "live"  # whatever the hour of the test
        counsellor = Counsellor(username=f"c-{uuid.uuid4().hex[:8]}", display_name="Claire", password_hash="x")
        session.add(counsellor)
        session.flush()
        counsellor_id = counsellor.id
    paused = send(bot, sender, "combien de voeux sur parcoursup ?", audience="parent")
    assert [m["author"] for m in paused["messages"]] == ["user"]
    with session_scope(engine) as session:
        workflow.take(session, ticket_id=handoff["ticket_id"], counsellor_id=counsellor_id, now=now)
        workflow.reply(session, ticket_id=handoff["ticket_id"], counsellor_id=counsellor_id,
                       text="Bonjour, je suis Claire, conseillère.", now=now)
    status, events = call(bot, f"/events?sender={sender}&after={paused['messages'][0]['id']}&wait=5")
    assert status == 200 and [m["author"] for m in events["messages"]] == ["counsellor"]
    assert events["state"]["status"] == "answered"
    engine.dispose()


@pytest.mark.parametrize("raw", [b"{pas du json", b"[]", json.dumps({"sender": "court", "text": "x"}).encode(),
                                 json.dumps({"sender": "s" * 20, "text": ""}).encode(),
                                 json.dumps({"sender": "s" * 20, "text": "a" * 20000}).encode(),
                                 b"\xff\xfe\x00binaire"])
def test_bad_requests_get_a_french_4xx_and_the_server_keeps_serving(bot, raw):
    status, reply = call(bot, "/message", raw=raw)
    assert status == 400 and reply["error"]
    assert send(bot, f"chat-{uuid.uuid4().hex}", "bonjour")["messages"]


def test_the_widget_files_are_served_and_nothing_outside_them(bot):
    status, _ = call(bot, "/widget/../../orientbot.yml")
    assert status == 404

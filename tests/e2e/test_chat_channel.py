"""The chat window's API (``/webhooks/chat/…``) on the trained bot: stored, answered, paused during a handoff;
a conversation opened only with its token, erased for good, and rate-limited."""
import json
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timezone

import pytest

from orientbot import workflow
from orientbot.db import ChatMessage, Counsellor, make_engine, session_scope

pytestmark = pytest.mark.e2e


def call(bot, path, body=None, raw=None, token=None, method=None, with_headers=False):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    headers = {"Content-Type": "application/json", **({"X-Orientbot-Token": token} if token else {})}
    request = urllib.request.Request(bot.url + "/webhooks/chat" + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=90) as response:
            result = response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        result = error.code, json.loads(error.read() or b"{}"), dict(error.headers)
    return result if with_headers else result[:2]


def start(bot):
    """A new conversation: its sender id and its token, as the window gets them."""
    status, started = call(bot, "/start", {}, method="POST")
    assert status == 200 and started["sender"] and started["token"] and started["token"] not in started["sender"]
    return started["sender"], started["token"]


def send(bot, sender, token, text, audience="eleve"):
    status, reply = call(bot, "/message", {"sender": sender, "text": text, "client_id": uuid.uuid4().hex,
                                            "metadata": {"audience": audience}}, token=token)
    assert status == 200, reply
    return reply


def test_an_answer_comes_with_its_sources_and_is_kept_in_the_history(bot):
    sender, token = start(bot)
    reply = send(bot, sender, token, "c'est quoi la cvec et combien ça coûte ?")
    [user, *answers] = reply["messages"]
    assert user["author"] == "user" and user["text"].startswith("c'est quoi la cvec")
    assert any(m["payload"].get("answer", {}).get("sources") for m in answers) or any(
        m["payload"].get("buttons") for m in answers)
    status, history = call(bot, f"/history?sender={sender}", token=token)
    assert status == 200 and [m["id"] for m in history["messages"]] == [m["id"] for m in reply["messages"]]


def test_during_a_live_handoff_the_counsellor_answers_instead_of_the_bot(bot):
    sender, token = start(bot)
    reply = send(bot, sender, token, "je voudrais parler à un conseiller s'il vous plaît", audience="parent")
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
    paused = send(bot, sender, token, "combien de voeux sur parcoursup ?", audience="parent")
    assert [m["author"] for m in paused["messages"]] == ["user"]
    with session_scope(engine) as session:
        workflow.take(session, ticket_id=handoff["ticket_id"], counsellor_id=counsellor_id, now=now)
        workflow.reply(session, ticket_id=handoff["ticket_id"], counsellor_id=counsellor_id,
                       text="Bonjour, je suis Claire, conseillère.", now=now)
    status, events = call(bot, f"/events?sender={sender}&after={paused['messages'][0]['id']}&wait=5", token=token)
    assert status == 200 and [m["author"] for m in events["messages"]] == ["counsellor"]
    assert events["state"]["status"] == "answered"
    engine.dispose()


@pytest.mark.parametrize("body", [b"{pas du json", b"[]", {"sender": "court", "text": "x"}, {"text": ""},
                                  {"text": "a" * 20000}, b"\xff\xfe\x00binaire"])
def test_bad_requests_get_a_french_4xx_and_the_server_keeps_serving(bot, body):
    sender, token = start(bot)
    raw = body if isinstance(body, bytes) else json.dumps({"sender": sender, **body}).encode()
    status, reply = call(bot, "/message", raw=raw, token=token)
    assert status == 400 and reply["error"]
    assert send(bot, sender, token, "bonjour")["messages"]


def test_a_conversation_opens_only_with_its_own_token_sent_in_a_header(bot):
    sender, token = start(bot)
    send(bot, sender, token, "bonjour")
    other_sender, other_token = start(bot)
    for path, body in [(f"/history?sender={sender}", None), (f"/events?sender={sender}&wait=0", None),
                       ("/message", {"sender": sender, "text": "je lis ta conversation"}),
                       ("/feedback", {"sender": sender, "message_id": 1, "value": -1}),
                       ("/contact", {"sender": sender, "ticket_id": "x", "channel": "ent"}),
                       ("/erase", {"sender": sender})]:
        for wrong in (None, other_token, token[:-2]):
            status, reply = call(bot, path, body, token=wrong)
            assert status == 403 and reply["error"].startswith("Accès refusé"), (path, wrong, reply)
    # In the URL, the token is not read: only the header counts.
    status, _ = call(bot, f"/history?sender={sender}&token={token}")
    assert status == 403
    status, history = call(bot, f"/history?sender={sender}", token=token)
    assert status == 200 and history["messages"][0]["text"] == "bonjour"
    status, history = call(bot, f"/history?sender={other_sender}", token=other_token)
    assert status == 200 and history["messages"] == []


def _tracker_senders(bot):
    with sqlite3.connect(bot.env["TRACKER_DB"]) as connection:
        return {row[0] for row in connection.execute("SELECT DISTINCT sender_id FROM events")}


def test_erasing_deletes_the_conversation_and_rasas_copy_of_it(bot):
    sender, token = start(bot)
    send(bot, sender, token, "combien de voeux sur parcoursup ?")
    kept_sender, kept_token = start(bot)
    send(bot, kept_sender, kept_token, "combien de voeux sur parcoursup ?")
    assert {sender, kept_sender} <= _tracker_senders(bot)
    status, reply = call(bot, "/erase", {"sender": sender}, token=token)
    assert status == 200 and reply["erased"]["messages"] >= 2 and reply["erased"]["tracker_events"] >= 1
    assert sender not in _tracker_senders(bot) and kept_sender in _tracker_senders(bot)
    status, history = call(bot, f"/history?sender={sender}", token=token)
    assert status == 200 and history["messages"] == []
    engine = make_engine(bot.database_url)
    with session_scope(engine) as session:
        assert session.query(ChatMessage).filter(ChatMessage.sender_id == sender).count() == 0
        assert session.query(ChatMessage).filter(ChatMessage.sender_id == kept_sender).count() >= 2
    engine.dispose()


def test_too_many_requests_get_a_kind_french_429_and_other_people_are_not_slowed(bot):
    sender, token = start(bot)
    statuses = [call(bot, f"/events?sender={sender}&wait=0", token=token, with_headers=True) for _ in range(61)]
    assert [s for s, _, _ in statuses[:60]] == [200] * 60
    status, reply, headers = statuses[60]
    assert status == 429 and "merci de patienter" in reply["error"] and int(headers["Retry-After"]) >= 1
    # Messages: 20 a minute per conversation (here refused ones, which cost the bot nothing, count too).
    codes = [call(bot, "/message", {"sender": sender, "text": ""}, token=token)[0] for _ in range(21)]
    assert codes == [400] * 20 + [429]
    other, other_token = start(bot)
    assert send(bot, other, other_token, "bonjour")["messages"]


def test_the_widget_files_are_served_and_nothing_outside_them(bot):
    status, _ = call(bot, "/widget/../../orientbot.yml")
    assert status == 404


def test_the_served_chat_window_carries_the_current_emergency_numbers_only(bot):
    from orientbot.emergency import HOTLINES, RETIRED

    with urllib.request.urlopen(f"{bot.url}/webhooks/chat/widget/orientbot-widget.js", timeout=30) as reply:
        script = reply.read().decode("utf-8")
    assert "/*ORIENTBOT_EMERGENCY*/" not in script
    assert all(f'"number": "{hotline.number}"' in script for hotline in HOTLINES)
    assert not any(number in script for number in RETIRED)


def page_call(bot, code=None):
    """The retrieval page as a browser uses it: GET shows the form, POST (a form) checks a code."""
    data = urllib.parse.urlencode({"code": code}).encode() if code is not None else None
    request = urllib.request.Request(bot.url + "/webhooks/chat/reponse", data=data,
                                     headers={"Content-Type": "application/x-www-form-urlencoded"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode("utf-8"), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8"), dict(error.headers)


def test_in_the_evening_a_code_shows_the_counsellors_answer_and_nothing_else(bot):
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from orientbot.office_hours import OfficeHours

    engine = make_engine(bot.database_url)
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    with session_scope(engine) as session:
        previous = workflow.office_hours(session)
        workflow.save_office_hours(session, hours=OfficeHours(public_holidays=False,
                                                              closed_periods=((today, today + timedelta(days=1)),)))
    try:
        sender, token = start(bot)
        send(bot, sender, token, "combien de voeux sur parcoursup ?", audience="parent")
        reply = send(bot, sender, token, "je voudrais parler à un conseiller s'il vous plaît", audience="parent")
    finally:
        with session_scope(engine) as session:
            workflow.save_office_hours(session, hours=previous)
    [handoff] = [m["payload"]["handoff"] for m in reply["messages"] if "handoff" in m["payload"]]
    assert handoff["mode"] == "deferred" and handoff["pickup_path"] == "/webhooks/chat/reponse"
    code = handoff["pickup_code"]
    assert len(code) == 9 and code[4] == "-"

    status, form, headers = page_call(bot)
    assert status == 200 and 'name="code"' in form and '<html lang="fr">' in form
    assert headers["Cache-Control"] == "no-store" and "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    status, wrong, _ = page_call(bot, "ABCD-EFGH")
    assert status == 404 and "Code inconnu ou expiré" in wrong
    status, waiting, _ = page_call(bot, " " + code.lower().replace("-", " ") + " ")
    assert status == 200 and "pas encore prête" in waiting and "vous répondra" in waiting

    # A bad address is refused at once, with a French reason.
    status, refused = call(bot, "/contact", {"sender": sender, "ticket_id": handoff["ticket_id"], "channel": "email",
                                             "email": "parent@exemple", "consent": True}, token=token)
    assert status == 400 and "ne semble pas valide" in refused["error"]

    now = datetime.now(timezone.utc)
    with session_scope(engine) as session:
        counsellor = Counsellor(username=f"c-{uuid.uuid4().hex[:8]}", display_name="Claire", password_hash="x")
        session.add(counsellor)
        session.flush()
        workflow.reply(session, ticket_id=handoff["ticket_id"], counsellor_id=counsellor.id, now=now,
                       text="Bonjour, votre fille a droit à 10 vœux <b>et</b> 10 en apprentissage.")
    status, answered, _ = page_call(bot, code)
    assert status == 200 and "10 vœux &lt;b&gt;et&lt;/b&gt; 10 en apprentissage" in answered
    assert "je voudrais parler à un conseiller" in answered  # the question asked…
    assert "combien de voeux sur parcoursup" not in answered  # …and nothing else of the conversation

    status, erased = call(bot, "/erase", {"sender": sender}, token=token)
    assert status == 200
    status, gone, _ = page_call(bot, code)
    assert status == 404 and "Code inconnu ou expiré" in gone
    # Guesses are limited per address: 10 a minute, then a French 429 with Retry-After.
    statuses = [page_call(bot, "ABCD-EFGH") for _ in range(11)]
    status, limited, headers = statuses[-1]
    assert status == 429 and "Trop d&#x27;essais" in limited and int(headers["Retry-After"]) >= 1
    engine.dispose()

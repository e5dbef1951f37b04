"""A trained model asked real questions through the REST channel, as the ENT widget and the judge do."""
import json
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest

from scripts.servers import VENV_BIN

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def new_sender():
    return f"test-{uuid.uuid4().hex[:10]}"


def custom(replies, key):
    return [r["custom"][key] for r in replies if isinstance(r.get("custom"), dict) and key in r["custom"]]


def text(replies):
    return " ".join(r.get("text") or "" for r in replies)


def test_a_student_and_a_parent_get_the_answer_in_their_form_of_address(bot):
    student = bot.ask("cb de voeux on peut faire sur parcoursup ?", sender=new_sender())
    parent = bot.ask("Combien de vœux peut-on faire au maximum sur Parcoursup pour notre fille ?", sender=new_sender(),
                     audience="parent")
    for replies in (student, parent):
        [answer] = custom(replies, "answer")
        assert "10" in text(replies) and answer["sources"]
    # The sources come once, with the answer (custom.answer.sources): no second bubble repeats them.
    assert "Pour vérifier" not in text(student) and len([r for r in student if r.get("text")]) == 1


def test_distress_gets_the_numbers_and_an_urgent_ticket_at_once(bot):
    sender = new_sender()
    replies = bot.ask("jme fais harceler depuis la 6e et la jai plus envie de vivre", sender=sender)
    [handoff] = custom(replies, "handoff")
    assert handoff["priority"] == "urgent" and "3114" in text(replies)
    database = Path(bot.env["ORIENTBOT_DATABASE_URL"].replace("sqlite:///", ""))
    with sqlite3.connect(database) as db:
        rows = db.execute("select priority, reason from tickets where id = ?", (handoff["ticket_id"],)).fetchall()
    assert rows == [("urgent", "distress")]


def test_asking_for_a_human_hands_over_and_out_of_scope_does_not(bot):
    [handoff] = custom(bot.ask("je veux parler à un conseiller svp", sender=new_sender()), "handoff")
    assert handoff["priority"] == "normal"
    replies = bot.ask("tu connais des bonnes blagues ?", sender=new_sender())
    assert not custom(replies, "answer") and not custom(replies, "handoff") and text(replies)


@pytest.mark.parametrize(
    "message",
    ["", "   ", "😭😭😭", "a" * 20000, "<script>alert('x')</script>", "'; DROP TABLE tickets; --",
     "\u0000\u0001 binaire \ufffd", "/choose_kb{\"kb_id\": \"<img src=x>\"}"],
    ids=["empty", "blank", "emoji", "huge", "html", "sql", "binary", "forged-button"],
)
def test_bad_input_gets_a_reply_and_breaks_nothing(bot, message):
    replies = bot.ask(message, sender=new_sender())
    assert replies and text(replies).strip()
    assert not custom(replies, "answer")


def test_malformed_requests_get_a_4xx_and_the_server_keeps_serving(bot):
    status, _ = bot.post_raw(b"{not json")
    assert 400 <= status < 500
    status, _ = bot.post_raw(json.dumps({"sender": "x", "message": 123}).encode())
    assert status < 500
    assert text(bot.ask("c'est quoi la cvec ?", sender=new_sender())).strip()


def test_conversations_are_kept_in_the_sql_tracker_store(bot):
    sender = new_sender()
    bot.ask("bonjour", sender=sender)
    with sqlite3.connect(Path(bot.env["TRACKER_DB"])) as db:
        count = db.execute("select count(*) from events where sender_id = ?", (sender,)).fetchone()[0]
    assert count >= 3


def test_end_to_end_test_stories_pass(bot, tmp_path):
    result = subprocess.run(
        [str(VENV_BIN / "rasa"), "test", "core",
         "--model", "models/orientation.tar.gz", "--stories", "tests/e2e/stories.yml", "--endpoints",
         "endpoints.yml", "--out", str(tmp_path / "results"), "--fail-on-prediction-errors"],
        cwd=ROOT, env=bot.env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_a_too_large_body_gets_413_and_the_server_keeps_serving(bot):
    from scripts.servers import BOT_MAX_BODY

    body = json.dumps({"sender": new_sender(), "message": "a" * (BOT_MAX_BODY + 10)}).encode()
    status, _ = bot.post_raw(body)
    assert status == 413
    assert text(bot.ask("c'est quoi la cvec ?", sender=new_sender())).strip()


def _tickets(bot):
    database = Path(bot.env["ORIENTBOT_DATABASE_URL"].replace("sqlite:///", ""))
    with sqlite3.connect(database) as db:
        return db.execute("select count(*) from tickets").fetchone()[0]


def test_a_forged_action_call_is_refused_and_writes_no_ticket(bot):
    """Issue 11: the action server answered anyone on 0.0.0.0:5055; now loopback only, and Rasa's secret header."""
    import urllib.error
    import urllib.request

    sender = new_sender()
    call = {"next_action": "action_handoff", "sender_id": sender, "version": "3.6.0", "domain": {},
            "tracker": {"sender_id": sender, "slots": {}, "latest_message": {"text": "je veux un conseiller"},
                        "events": [], "paused": False, "followup_action": None, "active_loop": {}}}
    before = _tickets(bot)
    for headers in ({}, {"X-Orientbot-Action-Secret": "devine"}):
        request = urllib.request.Request(bot.env["ACTION_SERVER_URL"], data=json.dumps(call).encode(),
                                         headers={"Content-Type": "application/json", **headers})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 401 and sender not in refused.value.read().decode()
    assert _tickets(bot) == before
    # Rasa itself still reaches it: a handoff through the bot writes its ticket.
    [handoff] = custom(bot.ask("je veux parler à un conseiller svp", sender=new_sender()), "handoff")
    assert handoff["ticket_id"] and _tickets(bot) == before + 1


def test_what_the_servers_write_is_readable_by_their_user_only(bot):
    import os
    import stat

    bot.ask("bonjour", sender=new_sender())
    work = Path(bot.env["TRACKER_DB"]).parent
    written = [Path(bot.env["ORIENTBOT_DATABASE_URL"].replace("sqlite:///", "")), Path(bot.env["TRACKER_DB"]),
               work / "servers.log", *work.glob("*.db-*"), *work.glob("spool*")]
    for path in written:
        if path.exists():
            assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0, path

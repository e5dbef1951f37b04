import re
from pathlib import Path

import yaml

from orientbot.emergency import HOTLINES, IN_AN_ANSWER, RETIRED, as_payload

ROOT = Path(__file__).resolve().parents[2]
NUMBER = re.compile(r"\b(\d{3,4})\b")


def urgent_replies():
    responses = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
    return {name: [v["text"] for v in variants] for name, variants in responses.items() if name.startswith("utter_urgent")}


def test_every_number_the_urgent_replies_give_is_a_current_one():
    current = {h.number for h in HOTLINES}
    replies = urgent_replies()
    assert replies
    for name, texts in replies.items():
        for text in texts:
            quoted = set(NUMBER.findall(text))
            assert quoted and quoted <= current, f"{name}: {quoted - current}"
            assert not quoted & set(RETIRED)


def test_each_kind_of_distress_reply_gives_its_own_number_first():
    replies = urgent_replies()
    for hotline in HOTLINES:
        for kind in hotline.kinds:
            for text in replies[f"utter_urgent_{kind}"]:
                assert NUMBER.findall(text)[0] == hotline.number


def test_the_chat_window_gets_the_list_and_old_answers_are_still_recognised():
    numbers = [item["number"] for item in as_payload()]
    assert numbers[:3] == ["3114", "3018", "119"] and "3020" not in numbers
    assert IN_AN_ANSWER.search("appelle le 3020, c'est gratuit") and not IN_AN_ANSWER.search("en 2020")

import re
from pathlib import Path

import yaml

from orientbot.emergency import HOTLINES, IN_AN_ANSWER, NAMED_BY_REPLY, RETIRED, as_payload, hotline_summary, others_for

ROOT = Path(__file__).resolve().parents[2]
# A phone number as the replies write them: not an hour ("9h", "24h/24"), an age range ("12-25") nor a site (3018.fr).
NUMBER = re.compile(r"(?<!\d )(?<![\d/-])(0 800 235 236|\d{2,4})(?![\d/h-]|\.\w)")


def urgent_replies():
    """Each urgent reply as the person reads it: the list of the other numbers filled in as the action does."""
    responses = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
    return {name: [v["text"].format(other_numbers=others_for(name[len("utter_urgent_"):])) for v in variants]
            for name, variants in responses.items() if name.startswith("utter_urgent")}


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


def test_no_reply_gives_a_number_twice_and_every_reply_ends_with_the_lines_it_did_not_name():
    replies = urgent_replies()
    assert set(replies) == {f"utter_urgent_{kind}" for kind in NAMED_BY_REPLY}
    for name, texts in replies.items():
        for text in texts:
            quoted = NUMBER.findall(text)
            assert len(quoted) == len(set(quoted)), f"{name} repeats a number: {quoted}"
            assert {"114", "0 800 235 236"} <= set(quoted), f"{name} lacks the SMS line or Fil Santé Jeunes"
            assert "{" not in text


def test_the_replies_do_not_assume_the_persons_gender():
    gendered = re.compile(r"\b(tu es|vous êtes|tu n'es pas|vous n'êtes pas) (seule?|inquiète?|perdue?|désolée?)\b")
    for name, texts in urgent_replies().items():
        for text in texts:
            assert not gendered.search(text), name


def test_the_console_names_the_same_numbers_as_the_chat_window():
    assert hotline_summary().split(", ")[:3] == [item["number"] for item in as_payload()][:3]
    assert "3020" not in hotline_summary()

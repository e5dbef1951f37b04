"""Bad input, fuzzed (Hypothesis): the loaders and the anonymiser never crash, and name where a line is wrong."""
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge.anonymise import _EMAIL, Anonymiser, anonymise_text
from knowledge.load import InvalidConversation, conversation_from_dict, load_csv, load_jsonl
from knowledge.model import Conversation
from orientbot.normalise import normalise
from tests.knowledge.conftest import make_conversation

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
VALID = {
    "conversation_id": "ok-1", "kind": "one_to_one", "started_at": "2026-03-02T18:00:00+01:00",
    "participants": [{"id": "a", "role": "eleve"}, {"id": "c", "role": "conseiller"}],
    "messages": [{"id": "1", "at": "2026-03-02T18:00:00+01:00", "from": "a", "text": "c'est quoi un BTS ?"},
                 {"id": "2", "at": "2026-03-02T18:01:00+01:00", "from": "c", "text": "Un diplôme en deux ans.", "reply_to": "1"}],
}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
# Objects that look like conversations, with any field broken.
near_conversations = st.fixed_dictionaries(
    {key: st.one_of(st.just(value), json_values) for key, value in VALID.items()}
)


@FUZZ
@given(st.one_of(json_values, near_conversations))
def test_any_json_value_is_a_conversation_or_a_french_reason(value):
    try:
        assert isinstance(conversation_from_dict(value, source="f:1"), Conversation)
    except InvalidConversation as error:
        assert str(error)


@FUZZ
@given(st.lists(st.binary(max_size=200), max_size=6))
def test_a_jsonl_file_of_garbage_loads_the_good_lines_and_names_the_bad_ones(tmp_path_factory, garbage):
    path = tmp_path_factory.mktemp("jsonl") / "t.jsonl"
    lines = [g.replace(b"\n", b" ") for g in garbage] + [json.dumps(VALID).encode()]
    path.write_bytes(b"\n".join(lines) + b"\n")
    conversations, errors = load_jsonl(path)
    assert [c.id for c in conversations] == ["ok-1"]
    assert all(str(error).startswith(f"{path}:") for error in errors)


@FUZZ
@given(st.text(max_size=400))
def test_a_csv_file_of_garbage_never_crashes_the_load(tmp_path_factory, body):
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    path.write_text("conversation_id,message_id,at,author_id,author_role,text\n" + body, encoding="utf-8")
    conversations, errors = load_csv(path)
    assert all(isinstance(c, Conversation) for c in conversations)
    assert all(str(error).startswith(f"{path}:") for error in errors)


@FUZZ
@given(st.text(max_size=300), st.emails())
def test_the_anonymiser_takes_any_text_and_no_e_mail_comes_out(text, email):
    cleaned = anonymise_text(f"{text} {email} {text}")
    assert not _EMAIL.search(cleaned)
    [conversation], _ = Anonymiser().anonymise([make_conversation([{"from": "u", "text": text}])])
    assert isinstance(conversation.messages[0].text, str)


@FUZZ
@given(st.text(max_size=500))
def test_the_normaliser_takes_any_text(text):
    folded = normalise(text)
    assert isinstance(folded, str) and normalise(folded) == folded

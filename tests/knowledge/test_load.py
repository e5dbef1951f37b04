import json

from knowledge.load import load_corpus, load_csv, load_jsonl


def line(**overrides):
    conversation = {
        "conversation_id": "a", "kind": "one_to_one", "started_at": "2024-01-01T10:00:00+01:00",
        "participants": [{"id": "u", "role": "eleve", "display_name": "X"}],
        "messages": [{"id": "1", "at": "2024-01-01T10:00:00+01:00", "from": "u", "text": "bonjour"}],
    }
    conversation.update(overrides)
    return json.dumps(conversation, ensure_ascii=False)


def test_malformed_lines_are_reported_with_file_and_line_and_the_rest_loads(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(
        "\n".join([
            line(conversation_id="ok1"),
            "{pas du json",
            line(conversation_id="bad-kind", kind="visio"),
            line(conversation_id="bad-author", messages=[{"id": "1", "at": "2024-01-01T10:00:00", "from": "zz", "text": "x"}]),
            line(conversation_id="bad-date", started_at="hier"),
            json.dumps([1, 2]),
            line(conversation_id="ok2"),
        ]) + "\n",
        encoding="utf-8",
    )
    conversations, errors = load_jsonl(path)
    assert [c.id for c in conversations] == ["ok1", "ok2"]
    assert [e.where for e in errors] == [f"{path}:{n}" for n in (2, 3, 4, 5, 6)]
    assert "JSON invalide" in errors[0].message and "zz" in errors[2].message


def test_a_correction_must_point_to_an_earlier_message(tmp_path):
    path = tmp_path / "t.jsonl"
    messages = [{"id": "1", "at": "2024-01-01T10:00:00", "from": "u", "text": "x", "corrects": "9"}]
    path.write_text(line(messages=messages) + "\n", encoding="utf-8")
    conversations, errors = load_jsonl(path)
    assert not conversations and "corrige" in errors[0].message


def test_duplicate_conversation_ids_across_files_keep_the_first(tmp_path):
    (tmp_path / "a.jsonl").write_text(line(conversation_id="same") + "\n", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(line(conversation_id="same") + "\n", encoding="utf-8")
    conversations, errors = load_corpus([tmp_path / "a.jsonl", tmp_path / "b.jsonl"])
    assert len(conversations) == 1 and "déjà lu" in errors[0].message


def test_csv_export_becomes_conversations(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(
        "conversation_id,kind,started_at,message_id,at,author_id,author_role,author_name,text,reply_to,votes,moderation\n"
        "live1,live,2025-01-20T17:00:00+01:00,1,2025-01-20T16:00:00+01:00,e1,eleve,Nolan P.,\"les voeux, on les classe ?\",,17,published\n"
        "live1,live,2025-01-20T17:00:00+01:00,2,2025-01-20T17:01:00+01:00,k1,conseiller,Agnès,non ils ne sont pas classés,1,,\n"
        "live1,live,2025-01-20T17:00:00+01:00,3,pas-une-date,k1,conseiller,Agnès,x,,,\n"
        "live2,live,2025-01-20T17:00:00+01:00,1,2025-01-20T16:00:00+01:00,e1,eleve,Nolan P.,ok,,,\n",
        encoding="utf-8",
    )
    conversations, errors = load_csv(path)
    assert [c.id for c in conversations] == ["live2"]
    assert errors and errors[0].where == f"{path}:2" and "live1" in errors[0].message


def test_the_shipped_csv_sample_loads():
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "transcripts" / "imports" / "export-tchat-sample.csv"
    conversations, errors = load_csv(sample)
    assert not errors and len(conversations) == 2
    live = [c for c in conversations if c.kind == "live"][0]
    assert live.messages[1].votes == 17 and live.messages[2].rejected

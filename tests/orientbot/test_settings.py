from pathlib import Path

from orientbot.settings import PROJECT_ROOT, load_settings


def test_defaults_point_at_a_local_sqlite_file(tmp_path):
    settings = load_settings({"ORIENTBOT_CONFIG": str(tmp_path / "absent.yml")})
    assert settings.database_url.startswith("sqlite:///")
    assert settings.transcripts_dir == PROJECT_ROOT / "transcripts"


def test_file_then_environment_override(tmp_path):
    config = tmp_path / "orientbot.yml"
    config.write_text("gate:\n  clarify_similarity: 0.3\nticket_spool: var/x.jsonl\n", encoding="utf-8")
    settings = load_settings({"ORIENTBOT_CONFIG": str(config), "ORIENTBOT_DATABASE_URL": "postgresql://h/db"})
    assert settings.gate.clarify_similarity == 0.3
    assert settings.gate.max_candidates == load_settings({}).gate.max_candidates
    assert settings.ticket_spool == PROJECT_ROOT / "var" / "x.jsonl"
    assert settings.database_url == "postgresql://h/db"
    assert isinstance(settings.ticket_spool, Path)

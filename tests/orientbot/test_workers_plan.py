"""scripts/workers.py: several Rasa workers only with a lock store that answers, one process otherwise."""
from __future__ import annotations

import sqlite3

import yaml

from orientbot.settings import load_settings
from scripts import workers


def settings(tmp_path, **environ):
    return load_settings({"ORIENTBOT_CONFIG": str(tmp_path / "none.yml"),
                          "ORIENTBOT_PRIVACY_TOKEN_KEY_FILE": str(tmp_path / "chat-token-key"), **environ})


def test_without_redis_it_falls_back_to_one_process_on_endpoints_yml_and_says_so(tmp_path):
    plan = workers.plan(tmp_path / "endpoints.yml", tracker_db=tmp_path / "tracker.db", workers=2,
                        settings=settings(tmp_path, ORIENTBOT_SERVE_LOCK_STORE_URL="redis://127.0.0.1:1/1"))
    assert plan.workers == 1 and plan.endpoints == workers.BASE_ENDPOINTS
    assert plan.summary.startswith("Redis injoignable") and "un seul processus Rasa" in plan.summary
    assert not (tmp_path / "endpoints.yml").exists() and not (tmp_path / "tracker.db").exists()


def test_an_empty_lock_store_url_means_one_process(tmp_path):
    plan = workers.plan(tmp_path / "endpoints.yml", tracker_db=tmp_path / "tracker.db", workers=2,
                        settings=settings(tmp_path, ORIENTBOT_SERVE_LOCK_STORE_URL=""))
    assert plan.workers == 1 and "vide" in plan.summary


def test_the_endpoints_for_several_workers_add_redis_locks_and_a_patient_sqlite(tmp_path):
    written = workers.write_endpoints(tmp_path / "endpoints.yml", tracker_url="", lock_store=workers.lock_store_section(
        "redis://:secret@redis.lycee.local:6380/3", "orientbotabc"))
    endpoints = yaml.safe_load(written.read_text(encoding="utf-8"))
    assert endpoints["lock_store"] == {"type": "redis", "url": "redis.lycee.local", "port": 6380, "db": 3,
                                       "key_prefix": "orientbotabc", "password": "secret"}
    assert endpoints["tracker_store"]["db"] == "${TRACKER_DB}"
    assert int(endpoints["tracker_store"]["query"]["timeout"]) >= 15
    assert endpoints["action_endpoint"] == yaml.safe_load(workers.BASE_ENDPOINTS.read_text())["action_endpoint"]
    assert written.stat().st_mode & 0o077 == 0  # a password may be in it


def test_a_postgresql_tracker_url_replaces_sqlite(tmp_path):
    written = workers.write_endpoints(tmp_path / "endpoints.yml", tracker_url="postgresql://u@db/t", lock_store=None)
    endpoints = yaml.safe_load(written.read_text(encoding="utf-8"))
    assert endpoints["tracker_store"] == {"type": "SQL", "dialect": "postgresql", "url": "postgresql://u@db/t"}
    assert "lock_store" not in endpoints


def test_the_sqlite_tracker_is_made_once_in_wal_mode(tmp_path):
    workers.prepare_tracker("", tmp_path / "tracker.db")
    connection = sqlite3.connect(tmp_path / "tracker.db")
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("SELECT name FROM sqlite_master WHERE name = 'events'").fetchone()
    finally:
        connection.close()


def test_one_tracker_store_one_lock_prefix(tmp_path):
    assert workers.key_prefix("/a/tracker.db") == workers.key_prefix("/a/tracker.db")
    assert workers.key_prefix("/a/tracker.db") != workers.key_prefix("/b/tracker.db")
    assert workers.key_prefix("/a/tracker.db").isalnum()  # Rasa ignores any other prefix

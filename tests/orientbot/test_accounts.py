from datetime import timedelta

import pytest
from sqlalchemy import select

from orientbot import accounts
from orientbot.db import Counsellor, WebSession, session_scope
from tests.factories import MONDAY_10H, PASSWORD, add_account


def test_password_is_hashed_with_scrypt_and_verified(engine):
    with session_scope(engine) as session:
        add_account(session, "alice")
    with session_scope(engine) as session:
        stored = session.execute(select(Counsellor)).scalars().one()
        assert stored.password_hash.startswith("scrypt:") and PASSWORD not in stored.password_hash
        assert accounts.verify(session, username="Alice ", password=PASSWORD).username == "alice"
        assert accounts.verify(session, username="alice", password="mauvais-mot-de-passe") is None
        assert accounts.verify(session, username="personne", password=PASSWORD) is None


@pytest.mark.parametrize("username, password, role, message", [
    ("a", PASSWORD, "counsellor", "identifiant"),
    ("alice<script>", PASSWORD, "counsellor", "identifiant"),
    ("bruno", "court", "counsellor", "mot de passe"),
    ("bruno", PASSWORD, "chef", "rôle inconnu"),
    ("alice", PASSWORD, "counsellor", "existe déjà"),
])
def test_bad_accounts_are_refused_in_french(engine, username, password, role, message):
    with session_scope(engine) as session:
        add_account(session, "alice")
    with session_scope(engine) as session:
        with pytest.raises(accounts.AccountError, match=message):
            accounts.create_counsellor(session, username=username, password=password, role=role)


def test_session_token_is_stored_hashed_and_expires(engine):
    with session_scope(engine) as session:
        alice = add_account(session, "alice").id
        opened = accounts.open_session(session, counsellor_id=alice, now=MONDAY_10H, hours=10)
    with session_scope(engine) as session:
        row = session.execute(select(WebSession)).scalars().one()
        assert row.token_hash != opened.token and len(row.token_hash) == 64 and row.csrf_token == opened.csrf_token
        assert accounts.session_for(session, token=opened.token, now=MONDAY_10H + timedelta(hours=9)).counsellor_id == alice
        assert accounts.session_for(session, token=opened.token, now=MONDAY_10H + timedelta(hours=10)) is None
        assert accounts.session_for(session, token="forged", now=MONDAY_10H) is None
        accounts.close_session(session, token=opened.token)
        assert accounts.session_for(session, token=opened.token, now=MONDAY_10H) is None


def test_deactivated_account_cannot_log_in_and_loses_its_sessions(engine):
    with session_scope(engine) as session:
        add_account(session, "chef", role="admin")
        alice = add_account(session, "alice").id
        opened = accounts.open_session(session, counsellor_id=alice, now=MONDAY_10H, hours=10)
        accounts.update_account(session, counsellor_id=alice, role="counsellor", active=False)
    with session_scope(engine) as session:
        assert accounts.session_for(session, token=opened.token, now=MONDAY_10H) is None
        assert accounts.verify(session, username="alice", password=PASSWORD) is None
        assert session.get(Counsellor, alice) is not None  # deactivated, never deleted


def test_last_admin_cannot_be_demoted_or_deactivated(engine):
    with session_scope(engine) as session:
        chef = add_account(session, "chef", role="admin").id
        with pytest.raises(accounts.AccountError, match="au moins un administrateur"):
            accounts.update_account(session, counsellor_id=chef, role="counsellor", active=True)
        with pytest.raises(accounts.AccountError, match="au moins un administrateur"):
            accounts.update_account(session, counsellor_id=chef, role="admin", active=False)
        add_account(session, "adjoint", role="admin")
        assert accounts.update_account(session, counsellor_id=chef, role="counsellor", active=True).role == "counsellor"


def test_password_change_closes_sessions(engine):
    with session_scope(engine) as session:
        alice = add_account(session, "alice").id
        opened = accounts.open_session(session, counsellor_id=alice, now=MONDAY_10H, hours=10)
        accounts.set_password(session, counsellor_id=alice, password="un-autre-mot-de-passe")
        assert accounts.session_for(session, token=opened.token, now=MONDAY_10H) is None
        assert accounts.verify(session, username="alice", password="un-autre-mot-de-passe") is not None

from datetime import timedelta

import pytest
from sqlalchemy import select

from orientbot import accounts
from orientbot.db import Counsellor, LoginAttempt, WebSession, session_scope
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


def test_password_change_can_keep_the_session_in_use(engine):
    with session_scope(engine) as session:
        alice = add_account(session, "alice").id
        here, elsewhere = (accounts.open_session(session, counsellor_id=alice, now=MONDAY_10H, hours=10) for _ in "ab")
        accounts.set_password(session, counsellor_id=alice, password="un-autre-mot-de-passe", keep_token=here.token)
        assert accounts.session_for(session, token=here.token, now=MONDAY_10H) is not None
        assert accounts.session_for(session, token=elsewhere.token, now=MONDAY_10H) is None


def test_own_password_change_checks_the_current_one_and_counts_a_wrong_one(engine):
    with session_scope(engine) as session:
        alice = add_account(session, "alice").id
    for moment in range(accounts.MAX_LOGIN_FAILURES):
        with session_scope(engine) as session:
            with pytest.raises(accounts.AccountError, match="mot de passe actuel"):
                accounts.change_password(session, counsellor_id=alice, current_password="pas-le-bon", keep_token=None,
                                         new_password="un-autre-mot-de-passe", address="10.0.0.1",
                                         now=MONDAY_10H + timedelta(minutes=moment))
    with session_scope(engine) as session:
        with pytest.raises(accounts.TooManyAttempts):
            accounts.change_password(session, counsellor_id=alice, current_password=PASSWORD, keep_token=None,
                                     new_password="un-autre-mot-de-passe", address="10.0.0.1", now=MONDAY_10H)
        assert accounts.verify(session, username="alice", password=PASSWORD) is not None


def _log_in(engine, username, password, *, minutes=0.0, address="10.0.0.1"):
    """One attempt in its own transaction, as the console makes it: the account's name, None, or "locked"."""
    with session_scope(engine) as session:
        try:
            account = accounts.log_in(session, username=username, password=password, address=address,
                                      now=MONDAY_10H + timedelta(minutes=minutes))
        except accounts.TooManyAttempts as refused:
            return "locked", str(refused)
        return account.username if account else None, ""


@pytest.mark.parametrize("username", ["alice", "personne"])
def test_five_failures_lock_a_username_from_that_address_for_15_minutes_whether_it_exists_or_not(engine, username):
    with session_scope(engine) as session:
        add_account(session, "alice")
    for minute in range(5):  # one every two minutes, from one address
        assert _log_in(engine, username, "mauvais", minutes=minute * 2, address="10.0.0.1") == (None, "")
    refused = _log_in(engine, username, PASSWORD, minutes=8.5, address="10.0.0.1")
    assert refused == ("locked", "trop de tentatives de connexion : par sécurité, réessayez dans 15 minutes")
    assert "existe" not in refused[1] and "alice" not in refused[1]
    assert _log_in(engine, username, PASSWORD, minutes=22.5, address="10.0.0.1") == ("locked", refused[1][:-10] + "1 minute")
    # Refused attempts are not counted: the lock ends 15 minutes after the fifth failure.
    assert _log_in(engine, username, PASSWORD, minutes=23, address="10.0.0.1")[0] == ("alice" if username == "alice" else None)


def test_failures_against_a_known_name_from_elsewhere_do_not_lock_its_owner_out(engine):
    """Issue 11: guessing ``admin``'s password from other places must not lock the real admin out."""
    with session_scope(engine) as session:
        add_account(session, "admin", role="admin")
    for number in range(30):  # five from each of six addresses, all within 15 minutes
        _log_in(engine, "admin", "mauvais", minutes=number * 0.4, address=f"203.0.113.{number // 5}")
    assert _log_in(engine, "admin", PASSWORD, minutes=12, address="203.0.113.0")[0] == "locked"
    assert _log_in(engine, "admin", PASSWORD, minutes=12, address="198.51.100.4")[0] == "admin"


def test_failures_spread_over_more_than_15_minutes_do_not_lock(engine):
    with session_scope(engine) as session:
        add_account(session, "alice")
    for minute in (0, 4, 8, 12, 15.5, 20, 24):
        assert _log_in(engine, "alice", "mauvais", minutes=minute) == (None, "")
    assert _log_in(engine, "alice", PASSWORD, minutes=25)[0] == "alice"


def test_a_success_resets_the_count_for_its_username_from_that_address(engine):
    with session_scope(engine) as session:
        add_account(session, "alice")
    for minute in range(4):
        _log_in(engine, "alice", "mauvais", minutes=minute, address="10.0.0.1")
    assert _log_in(engine, "Alice", PASSWORD, minutes=4, address="10.0.0.1")[0] == "alice"
    for minute in range(4):
        assert _log_in(engine, "alice", "mauvais", minutes=5 + minute, address="10.0.0.1") == (None, "")
    assert _log_in(engine, "alice", PASSWORD, minutes=9, address="10.0.0.1")[0] == "alice"


def test_twenty_failures_from_one_address_lock_every_username_from_there(engine):
    with session_scope(engine) as session:
        add_account(session, "alice")
    assert accounts.MAX_ADDRESS_FAILURES == 20
    for number in range(20):
        assert _log_in(engine, f"essai{number}", "mauvais", minutes=number * 0.5, address="192.0.2.7") == (None, "")
    assert _log_in(engine, "alice", PASSWORD, minutes=10, address="192.0.2.7")[0] == "locked"
    assert _log_in(engine, "alice", PASSWORD, minutes=10, address="192.0.2.8")[0] == "alice"
    assert _log_in(engine, "alice", PASSWORD, minutes=24.5, address="192.0.2.7")[0] == "alice"


def test_old_failures_are_tidied_away(engine):
    for minute in range(3):
        _log_in(engine, "personne", "mauvais", minutes=minute)
    _log_in(engine, "quelquun", "mauvais", minutes=33)
    with session_scope(engine) as session:
        assert [row.username for row in session.execute(select(LoginAttempt)).scalars()] == ["quelquun"]


def test_a_password_chosen_by_someone_else_must_be_changed_by_its_owner(engine):
    with session_scope(engine) as session:
        alice = add_account(session, "alice").id
        first = accounts.create_counsellor(session, username="admin", password=PASSWORD, role="admin",
                                           must_change_password=True).id
        assert accounts.must_change_password(session, counsellor_id=first)
        assert not accounts.must_change_password(session, counsellor_id=alice)
        accounts.set_password(session, counsellor_id=alice, password="choisi-par-l-admin", must_change=True)
        assert accounts.must_change_password(session, counsellor_id=alice)
        with pytest.raises(accounts.AccountError, match="différent"):
            accounts.change_password(session, counsellor_id=first, current_password=PASSWORD, new_password=PASSWORD,
                                     keep_token=None, address="10.0.0.1", now=MONDAY_10H)
        accounts.change_password(session, counsellor_id=first, current_password=PASSWORD,
                                 new_password="mon-propre-mot-de-passe", keep_token=None, address="10.0.0.1",
                                 now=MONDAY_10H)
        assert not accounts.must_change_password(session, counsellor_id=first)


def test_a_session_ends_when_idle_and_at_the_latest_after_its_hours(engine):
    with session_scope(engine) as session:
        alice = add_account(session, "alice").id
        token = accounts.open_session(session, counsellor_id=alice, now=MONDAY_10H, hours=2, idle_minutes=30).token

    def use(minutes, *, active=True):
        with session_scope(engine) as session:
            found = accounts.session_for(session, token=token, now=MONDAY_10H + timedelta(minutes=minutes),
                                         hours=2 if active else None, idle_minutes=30 if active else None)
            return found is not None

    assert use(25) and use(50) and use(75, active=False)  # 50 + 30 > 75: a refresh does not extend it
    assert not use(81)  # 30 minutes after the last use
    with session_scope(engine) as session:
        token = accounts.open_session(session, counsellor_id=alice, now=MONDAY_10H, hours=2, idle_minutes=30).token
    assert all(use(minutes) for minutes in range(20, 120, 20))
    assert not use(121)  # busy all along, but 2 hours are up

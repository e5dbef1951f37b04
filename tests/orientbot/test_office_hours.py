from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from orientbot.office_hours import (
    OfficeHours,
    easter_sunday,
    french_public_holidays,
    periods_from_text,
    say_when,
    zone_name,
)

PARIS = ZoneInfo("Europe/Paris")
HOURS = OfficeHours()


def paris(*args):
    return datetime(*args, tzinfo=PARIS)


def test_open_during_weekly_hours_only():
    assert HOURS.is_open(paris(2026, 12, 7, 9, 0))  # Monday at opening
    assert HOURS.is_open(paris(2026, 12, 7, 17, 59))
    assert not HOURS.is_open(paris(2026, 12, 7, 18, 0))  # closing time is closed
    assert not HOURS.is_open(paris(2026, 12, 7, 8, 59))


def test_weekends_are_closed():
    assert not HOURS.is_open(paris(2026, 12, 12, 11, 0))  # Saturday
    assert not HOURS.is_open(paris(2026, 12, 13, 11, 0))  # Sunday
    assert HOURS.next_opening(paris(2026, 12, 12, 11, 0)) == paris(2026, 12, 14, 9, 0)


def test_easter_and_the_holidays_computed_from_it():
    assert easter_sunday(2026) == date(2026, 4, 5)
    assert easter_sunday(2027) == date(2027, 3, 28)
    holidays = french_public_holidays(2027)
    assert holidays[date(2027, 3, 29)] == "Lundi de Pâques"
    assert holidays[date(2027, 5, 6)] == "Ascension"
    assert holidays[date(2027, 5, 17)] == "Lundi de Pentecôte"
    assert not HOURS.is_open(paris(2027, 5, 6, 10, 0))  # Ascension Thursday
    assert HOURS.closed_reason(date(2026, 11, 11)) == "Armistice 1918"


def test_fixed_public_holidays_on_a_weekday_are_closed():
    assert not HOURS.is_open(paris(2027, 5, 7 + 1, 10, 0))  # 8 May 2027 is a Saturday anyway
    assert not HOURS.is_open(paris(2026, 5, 1, 10, 0))  # Friday 1 May
    assert HOURS.is_open(paris(2026, 5, 4, 10, 0))


def test_school_holidays_are_closed_periods():
    assert HOURS.closed_reason(date(2026, 12, 21)) == "vacances scolaires"
    assert HOURS.next_opening(paris(2026, 12, 18, 18, 30)) == paris(2027, 1, 4, 9, 0)


def test_holidays_can_be_switched_off():
    hours = OfficeHours(public_holidays=False, closed_periods=())
    assert hours.is_open(paris(2026, 11, 11, 10, 0))
    assert hours.is_open(paris(2026, 12, 21, 10, 0))


@pytest.mark.parametrize("created, priority, live, due", [
    (paris(2026, 12, 7, 10, 0), "normal", True, paris(2026, 12, 7, 10, 30)),  # during hours
    (paris(2026, 12, 7, 10, 0), "urgent", True, paris(2026, 12, 7, 10, 15)),
    (paris(2026, 12, 7, 17, 45), "normal", True, paris(2026, 12, 8, 9, 15)),  # 15 min on Monday, 15 on Tuesday
    (paris(2026, 12, 7, 21, 30), "normal", False, paris(2026, 12, 8, 13, 0)),  # evening: next working morning
    (paris(2026, 12, 11, 20, 0), "normal", False, paris(2026, 12, 14, 13, 0)),  # Friday night: Monday
    (paris(2026, 11, 10, 19, 0), "normal", False, paris(2026, 11, 12, 13, 0)),  # the eve of 11 November
    (paris(2026, 12, 18, 19, 0), "normal", False, paris(2027, 1, 4, 13, 0)),  # before the Christmas holidays
])
def test_due_times(created, priority, live, due):
    assert HOURS.due_at(created, priority=priority, live=live) == due


def test_say_when_in_french():
    now = paris(2026, 12, 7, 21, 0)
    assert say_when(paris(2026, 12, 8, 13, 0), HOURS, now=now) == "demain avant 13 h"
    assert say_when(paris(2026, 12, 7, 22, 30), HOURS, now=now) == "aujourd'hui avant 22 h 30"
    assert say_when(paris(2026, 12, 14, 13, 0), HOURS, now=now) == "lundi 14 décembre avant 13 h"


def test_json_round_trip():
    hours = OfficeHours(weekly={0: (datetime.min.time().replace(hour=8), datetime.min.time().replace(hour=12))},
                        closed_periods=((date(2027, 1, 2), date(2027, 1, 3)),), deferred_answer_hours=2.5)
    assert OfficeHours.from_json(hours.to_json()) == hours


@pytest.mark.parametrize("change, message", [
    ({"weekly": {"0": ["18:00", "09:00"]}}, "horaire invalide pour le lundi"),
    ({"weekly": {"0": ["9h", "18:00"]}}, "horaires invalides"),
    ({"weekly": {}}, "au moins un jour d'ouverture"),
    ({"closed_periods": [["2027-01-10", "2027-01-02"]]}, "période fermée invalide"),
    ({"closed_periods": [["hier", "demain"]]}, "horaires invalides"),
    ({"timezone": "Europe/Atlantide"}, "horaires invalides"),
    ({"live_answer_minutes": 0}, "délais promis doivent être positifs"),
    ({"deferred_answer_hours": "beaucoup"}, "horaires invalides"),
])
def test_from_json_refuses_bad_values_in_french(change, message):
    with pytest.raises(ValueError, match=message):
        OfficeHours.from_json({**OfficeHours().to_json(), **change})


def test_periods_typed_one_per_line():
    assert periods_from_text(["2027-02-20 2027-03-07", "", "2027-05-14"]) == [
        ("2027-02-20", "2027-03-07"), ("2027-05-14", "2027-05-14")]
    with pytest.raises(ValueError, match="ligne 2 : date invalide"):
        periods_from_text(["2027-02-20", "20/02/2027"])
    with pytest.raises(ValueError, match="ligne 1 : une date de début et une date de fin au plus"):
        periods_from_text(["2027-02-20 2027-02-21 2027-02-22"])


def test_add_working_time_spans_several_days():
    assert HOURS.add_working_time(paris(2026, 12, 7, 9, 0), timedelta(hours=20)) == paris(2026, 12, 9, 11, 0)


def test_a_time_is_labelled_with_the_services_own_zone():
    assert zone_name("Europe/Paris") == "heure de Paris"
    assert zone_name("Indian/Reunion") == "heure de La Réunion"
    assert zone_name("Pacific/Noumea") == "heure de Nouvelle-Calédonie"
    assert zone_name("Asia/Tokyo") == "heure locale (Asia/Tokyo)"  # any zone the console accepts still reads

"""When counsellors are at work, and what a promised delay means in working time.

Owns the calendar of the counsellors' service: weekly opening hours in one
time zone, French public holidays (computed, Easter included), school holidays
and other closed days (configured), and the due time of a ticket.  Pure
functions of a datetime: tests and the console pass the moment they mean.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple
from zoneinfo import ZoneInfo

DAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTH_NAMES = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)

# Zone C (Paris, Créteil, Versailles, Toulouse, Montpellier), school year 2026-2027: the first and
# last closed day of each break (classes stop on the Saturday, resume on the Monday after).  Not
# read from an official feed: an admin checks them against the ministry's calendar each year and
# edits them in the console (Horaires), where the zone of the school is also chosen this way.
DEFAULT_SCHOOL_HOLIDAYS: Tuple[Tuple[str, str], ...] = (
    ("2026-10-17", "2026-11-01"),
    ("2026-12-19", "2027-01-03"),
    ("2027-02-20", "2027-03-07"),
    ("2027-04-17", "2027-05-02"),
    ("2027-07-03", "2027-08-31"),
)


def easter_sunday(year: int) -> date:
    """Gregorian Easter (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 (the names of the Meeus algorithm)
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


def french_public_holidays(year: int) -> Dict[date, str]:
    easter = easter_sunday(year)
    return {
        date(year, 1, 1): "Jour de l'an",
        easter + timedelta(days=1): "Lundi de Pâques",
        date(year, 5, 1): "Fête du Travail",
        date(year, 5, 8): "Victoire 1945",
        easter + timedelta(days=39): "Ascension",
        easter + timedelta(days=50): "Lundi de Pentecôte",
        date(year, 7, 14): "Fête nationale",
        date(year, 8, 15): "Assomption",
        date(year, 11, 1): "Toussaint",
        date(year, 11, 11): "Armistice 1918",
        date(year, 12, 25): "Noël",
    }


class OfficeHoursError(ValueError):
    """A refused setting; the message is French and can be shown to an admin as is."""


@dataclass(frozen=True)
class OfficeHours:
    """Opening hours: ``weekly[weekday] = (opens, closes)`` with Monday = 0; missing days are closed."""

    timezone: str = "Europe/Paris"
    weekly: Mapping[int, Tuple[time, time]] = field(
        default_factory=lambda: {day: (time(9, 0), time(18, 0)) for day in range(5)}
    )
    public_holidays: bool = True
    closed_periods: Tuple[Tuple[date, date], ...] = tuple(
        (date.fromisoformat(start), date.fromisoformat(end)) for start, end in DEFAULT_SCHOOL_HOLIDAYS
    )
    # The promise made in the evening: an answer within this many working hours of the next opening.
    deferred_answer_hours: float = 4.0
    live_answer_minutes: int = 30
    urgent_answer_minutes: int = 15
    # How long a counsellor takes per waiting ticket, to tell the person roughly when their turn comes.
    minutes_per_waiting_ticket: int = 10

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def closed_reason(self, day: date) -> Optional[str]:
        """Why ``day`` is closed as a whole (holiday, school break, weekend), or None."""
        if self.public_holidays and day in french_public_holidays(day.year):
            return french_public_holidays(day.year)[day]
        for start, end in self.closed_periods:
            if start <= day <= end:
                return "vacances scolaires"
        if day.weekday() not in self.weekly:
            return "fermé ce jour-là"
        return None

    def _window(self, day: date) -> Optional[Tuple[datetime, datetime]]:
        if self.closed_reason(day) is not None:
            return None
        opens, closes = self.weekly[day.weekday()]
        return datetime.combine(day, opens, self.zone), datetime.combine(day, closes, self.zone)

    def is_open(self, at: datetime) -> bool:
        local = _aware(at).astimezone(self.zone)
        window = self._window(local.date())
        return window is not None and window[0] <= local < window[1]

    def next_opening(self, at: datetime, *, horizon_days: int = 400) -> datetime:
        """``at`` itself when open, else the next moment the service opens."""
        local = _aware(at).astimezone(self.zone)
        for offset in range(horizon_days):
            window = self._window(local.date() + timedelta(days=offset))
            if window is None:
                continue
            opens, closes = window
            if local < closes:
                return max(local, opens)
        raise ValueError("aucune ouverture dans l'année : vérifiez les horaires")

    def add_working_time(self, at: datetime, delta: timedelta) -> datetime:
        """The moment ``delta`` of open time has passed after ``at``."""
        moment, left = self.next_opening(at), delta
        while True:
            closes = self._window(moment.date())[1]
            if moment + left <= closes:
                return moment + left
            left -= closes - moment
            moment = self.next_opening(closes)

    def due_at(self, created: datetime, *, priority: str, live: bool, waiting_ahead: int = 0) -> datetime:
        """When the answer is promised; a live one also waits for the ``waiting_ahead`` tickets before it."""
        if priority == "urgent":
            return self.add_working_time(created, timedelta(minutes=self.urgent_answer_minutes))
        if live:
            minutes = max(self.live_answer_minutes, (waiting_ahead + 1) * self.minutes_per_waiting_ticket)
            return self.add_working_time(created, timedelta(minutes=minutes))
        return self.add_working_time(created, timedelta(hours=self.deferred_answer_hours))

    def to_json(self) -> Dict[str, Any]:
        return {
            "timezone": self.timezone,
            "weekly": {str(day): [opens.strftime("%H:%M"), closes.strftime("%H:%M")] for day, (opens, closes) in sorted(self.weekly.items())},
            "public_holidays": self.public_holidays,
            "closed_periods": [[start.isoformat(), end.isoformat()] for start, end in self.closed_periods],
            "deferred_answer_hours": self.deferred_answer_hours,
            "live_answer_minutes": self.live_answer_minutes,
            "urgent_answer_minutes": self.urgent_answer_minutes,
            "minutes_per_waiting_ticket": self.minutes_per_waiting_ticket,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> "OfficeHours":
        """Inverse of ``to_json``; raises ValueError with a French message on a bad value."""
        try:
            weekly = {}
            for day, (opens, closes) in (value.get("weekly") or {}).items():
                opening, closing = time.fromisoformat(opens), time.fromisoformat(closes)
                if not 0 <= int(day) <= 6 or opening >= closing:
                    raise OfficeHoursError(f"horaire invalide pour le {DAY_NAMES[int(day) % 7]}")
                weekly[int(day)] = (opening, closing)
            periods = []
            for start, end in value.get("closed_periods") or []:
                first, last = date.fromisoformat(start), date.fromisoformat(end)
                if first > last:
                    raise OfficeHoursError(f"période fermée invalide : {start} après {end}")
                periods.append((first, last))
            hours = cls(
                timezone=str(value.get("timezone") or "Europe/Paris"),
                weekly=weekly,
                public_holidays=bool(value.get("public_holidays", True)),
                closed_periods=tuple(periods),
                deferred_answer_hours=float(value.get("deferred_answer_hours", 4.0)),
                live_answer_minutes=int(value.get("live_answer_minutes", 30)),
                urgent_answer_minutes=int(value.get("urgent_answer_minutes", 15)),
                minutes_per_waiting_ticket=int(value.get("minutes_per_waiting_ticket", 10)),
            )
            hours.zone  # unknown time zones fail here
        except OfficeHoursError:
            raise
        except Exception as error:  # Python's own (English) messages: wrong formats or types, unknown zone
            raise OfficeHoursError(
                "horaires invalides : heures au format HH:MM, dates au format AAAA-MM-JJ, délais en nombres, "
                "fuseau horaire connu (par exemple Europe/Paris)") from error
        if not weekly:
            raise OfficeHoursError("il faut au moins un jour d'ouverture")
        if min(hours.deferred_answer_hours, hours.live_answer_minutes, hours.urgent_answer_minutes,
               hours.minutes_per_waiting_ticket) <= 0:
            raise OfficeHoursError("les délais promis doivent être positifs")
        return hours


# The zones of French schools outside the métropole, as a counsellor names their local time. A zone not listed
# is named by its identifier (``Europe/Paris`` and the others are valid choices in the console all the same).
ZONE_NAMES = {
    "Europe/Paris": "heure de Paris",
    "America/Guadeloupe": "heure de la Guadeloupe",
    "America/Martinique": "heure de la Martinique",
    "America/Cayenne": "heure de la Guyane",
    "Indian/Reunion": "heure de La Réunion",
    "Indian/Mayotte": "heure de Mayotte",
    "America/Miquelon": "heure de Saint-Pierre-et-Miquelon",
    "Pacific/Noumea": "heure de Nouvelle-Calédonie",
    "Pacific/Tahiti": "heure de Tahiti",
    "Pacific/Wallis": "heure de Wallis-et-Futuna",
}


def zone_name(timezone_name: str) -> str:
    """How a time in ``timezone_name`` is labelled for a French reader: "heure de La Réunion"."""
    return ZONE_NAMES.get(timezone_name, f"heure locale ({timezone_name})")


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)


def say_when(moment: datetime, hours: OfficeHours, *, now: datetime) -> str:
    """A French phrase for a due time, as the person reads it: "aujourd'hui avant 14 h 30", "lundi 7 décembre avant 13 h"."""
    local, today = _aware(moment).astimezone(hours.zone), _aware(now).astimezone(hours.zone).date()
    clock = f"{local.hour} h" + (f" {local.minute:02d}" if local.minute else "")
    if local.date() == today:
        return f"aujourd'hui avant {clock}"
    if local.date() == today + timedelta(days=1):
        return f"demain avant {clock}"
    return f"{DAY_NAMES[local.weekday()]} {local.day} {MONTH_NAMES[local.month - 1]} avant {clock}"


def periods_from_text(lines: Sequence[str]) -> List[Tuple[str, str]]:
    """Closed periods typed by an admin, one ``AAAA-MM-JJ AAAA-MM-JJ`` (or a single date) per line."""
    periods = []
    for number, line in enumerate(lines, start=1):
        parts = line.replace(",", " ").replace(";", " ").split()
        if not parts:
            continue
        if len(parts) > 2:
            raise ValueError(f"ligne {number} : une date de début et une date de fin au plus")
        try:
            start = date.fromisoformat(parts[0])
            end = date.fromisoformat(parts[-1])
        except ValueError as error:
            raise ValueError(f"ligne {number} : date invalide (format AAAA-MM-JJ attendu)") from error
        periods.append((start.isoformat(), end.isoformat()))
    return periods

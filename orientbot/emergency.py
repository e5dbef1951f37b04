"""The emergency numbers, in one place.

Owns which numbers a person in distress is given, what each is for and when it answers (checked
against ``../shared/eval/topics.md``, corrected 2026-12: the 3018 is the single number for harassment
and cyberharassment; the 3020 no longer exists and is never shown). The chat window receives this list
from the server that serves it, the domain's urgent replies are checked against it
(``tests/orientbot/test_emergency.py``), and the knowledge pipeline recognises a counsellor's
emergency answer by these numbers, retired ones included (old transcripts still quote them).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Dict, List, Tuple


@dataclass(frozen=True)
class Hotline:
    number: str
    label: str
    hours: str = ""
    # The distress kinds (``orientbot.safety``) this number is first for.
    kinds: Tuple[str, ...] = ()


HOTLINES: Tuple[Hotline, ...] = (
    Hotline("3114", "prévention du suicide, aussi pour les proches", "24 h/24, 7 j/7", ("suicide",)),
    Hotline("3018", "harcèlement et cyberharcèlement", "7 j/7 de 9 h à 23 h, tchat sur 3018.fr",
            ("harcelement", "cyberharcelement")),
    Hotline("119", "Allô enfance en danger", "24 h/24, 7 j/7", ("enfance-en-danger",)),
    Hotline("0 800 235 236", "Fil Santé Jeunes, pour les 12-25 ans", "tous les jours de 9 h à 23 h"),
    Hotline("114", "urgence par SMS, appli ou visio, quand on ne peut pas parler", "24 h/24"),
    Hotline("15", "SAMU"),
    Hotline("17", "police"),
    Hotline("112", "urgences"),
)
RETIRED: Tuple[str, ...] = ("3020",)  # merged into the 3018 in 2023

# The numbers each urgent reply of domain.yml (``utter_urgent_<kind>``) names in its own words, first the
# kind's own line; the reply ends with the others (``others_for``), so that no number is given twice.
NAMED_BY_REPLY: Dict[str, Tuple[str, ...]] = {
    "general": ("3114", "3018", "119", "15", "17", "112"),
    "suicide": ("3114", "15", "112"),
    "harcelement": ("3018", "17", "112"),
    "cyberharcelement": ("3018", "17", "112"),
    "enfance-en-danger": ("119", "17", "112"),
}
# The emergency services are named in the reply itself when they help; the list at its end gives the lines.
_SERVICES = ("15", "17", "112")

# A counsellor's answer that quotes one of these is an emergency answer (retired numbers included).
IN_AN_ANSWER = re.compile(r"\b(" + "|".join(h.number for h in HOTLINES[:3]) + "|" + "|".join(RETIRED) + r")\b")


def as_payload() -> List[Dict[str, object]]:
    """What the chat window shows while a conversation is urgent, in this order."""
    return [asdict(hotline) for hotline in HOTLINES]


def others_for(kind: str) -> str:
    """The numbers an urgent reply of ``kind`` has not named yet, as the end of its last sentence."""
    named = set(NAMED_BY_REPLY.get(kind, NAMED_BY_REPLY["general"]))
    return ", ".join(f"{h.number} ({h.label})" for h in HOTLINES if h.number not in named and h.number not in _SERVICES)


def hotline_summary() -> str:
    """The numbers a counsellor sees the person is shown, in the chat window's order."""
    lines = [h.number for h in HOTLINES if h.number not in _SERVICES]
    return ", ".join(lines) + ", " + "/".join(_SERVICES)


def numbers_sentence() -> str:
    """Every line and the emergency services, for a reply written without the domain (the bot is down)."""
    lines = ", ".join(f"{h.number} ({h.label}, {h.hours})" if h.hours else f"{h.number} ({h.label})"
                      for h in HOTLINES if h.number not in _SERVICES)
    return f"{lines} ; en cas de danger immédiat : {', '.join(_SERVICES[:-1])} ou {_SERVICES[-1]}"

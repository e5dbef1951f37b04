"""The coarse orientation topics a counsellor filters tickets and reads the dashboard by.

Owns the mapping from a message (normalised with the one normaliser) to one of a
few topics; keywords, first match wins, so the order below goes from the most
to the least specific.
"""
from __future__ import annotations

import re
from typing import Optional, Tuple

from orientbot.normalise import normalise

TOPICS: Tuple[Tuple[str, str], ...] = (
    ("Mal-être et danger", r"harcel|suicid|frapp|violen|menac|me tuer|en finir|danger|maltrait|moqu|insult"),
    ("Parcoursup", r"parcoursup|psup|voeu|phase complementaire|liste d attente|en attente|\badmis|projet motive"),
    ("Apprentissage et alternance", r"apprenti|alternance|contrat|cfa|employeur|patron"),
    ("Stages (PFMP)", r"stage|pfmp|gratification|tuteur"),
    ("Bourses et vie étudiante", r"bourse|crous|cvec|logement|echelon|argent|aide"),
    ("Études de santé", r"pass\b|las\b|medecin|sante|infirm"),
    ("BTS, BUT, licence, prépa", r"bts|but\b|iut|licence|fac|universite|prepa|cpge|ecole|master"),
    ("CAP et bac pro", r"cap\b|bac pro|professionnel|chef d oeuvre|famille de metiers"),
    ("Réorientation et décrochage", r"reorient|decroch|redoubl|changer de|arreter|abandon"),
    ("Affelnet et lycée", r"affelnet|seconde|lycee|3e|troisieme|college|derogation|conseil de classe|appel"),
    ("Accompagnement et mentorat", r"psy|cio|conseiller|mentor|cordee|internat|cned"),
)
_COMPILED = tuple((name, re.compile(pattern)) for name, pattern in TOPICS)
TOPIC_NAMES = tuple(name for name, _ in TOPICS)


def topic_of(text: str) -> Optional[str]:
    folded = normalise(text or "")
    for name, pattern in _COMPILED:
        if pattern.search(folded):
            return name
    return None

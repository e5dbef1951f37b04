"""The marks the anonymiser leaves where personal data was, and text without them for the models.

Owns the one list of those marks.  The knowledge pipeline writes them (``knowledge.anonymise``); every
model reads text without them (``orientbot.normalise``, the exported training examples), because a live
message carries the real name, school or number instead — a word the models mostly never saw, so
weighing nothing.  A model that learnt "[NOM]" or "[ÉTABLISSEMENT]" as a sign of a personal story would
find it in the transcripts and never in what people send: its cross-validated recall would be a promise
the served model does not keep.
"""
from __future__ import annotations

import re

PLACEHOLDERS = {
    "email": "[E-MAIL]", "url": "[LIEN PERSONNEL]", "phone": "[TÉLÉPHONE]", "ine": "[INE]",
    "address": "[ADRESSE]", "school": "[ÉTABLISSEMENT]", "name": "[NOM]", "place": "[LIEU]",
    "number": "[NUMÉRO]", "birth_date": "[DATE DE NAISSANCE]",
}

_MARKS = re.compile("|".join(re.escape(mark) for mark in PLACEHOLDERS.values()))


def without_placeholders(text: str) -> str:
    """``text`` as a live message would reach the models: the anonymiser's marks taken out."""
    return _MARKS.sub(" ", text)

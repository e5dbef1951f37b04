"""The text cues the answer policy reads beside the classifiers, in one place.

Owns every hand-written pattern about what a message asks or tells: a request for a person, a
complaint, homework, a first-person story, and the focus of a question (an amount, a date, an age...).
Each cue is a list of alternatives matched on normalised text (``orientbot.normalise``), and each
alternative is traceable: ``tests/orientbot/test_cues.py`` fails when one matches no message of the
transcripts or of the hand-written training data, or cannot match normalised text at all.
Distress patterns live in ``orientbot.safety``, which owns that decision.
"""
from __future__ import annotations

import re
from typing import Dict, FrozenSet, List, Pattern

from orientbot.normalise import normalise

CUES: Dict[str, List[str]] = {
    # A person is asked for, whatever NLU said ("je voudrais parler à un conseiller").
    "asks_for_a_human": [
        r"\b(?:veux|voudrais|voudrions|aimerais|aimerions|souhaite\w*|pourriez|pouvez|peux|possible|besoin|prendre"
        r"|organiser|mettez|mettre|passez|transferez)\b.{0,30}"
        r"\b(?:parler|echanger|discuter|rendez vous|rdv|entretien|relation|contact|recontacte|rappele|rappeler|moi|recus?)\b"
        r".{0,40}\b(?:conseill\w*|humain|vraie? personne|quelqu un|psy\w*|cio)\b",
        r"\bun humain\b",
        r"\bvraie? personne\b",
    ],
    # Someone questioning what happens to them: "c'est normal ?", "c'est injuste", "je conteste".
    "complaint": [
        r"\bnormal\b", r"\binjuste\b", r"\bpas juste\b", r"\bcomprends? pas pourquoi\b", r"\binadmissible\b",
        r"\bpourquoi (?:suis je|ai je|je ai|je suis|je ne ai|mon|ma|mes|notre|nos)\b",
        r"\bpas logique\b", r"\bcontest\w*", r"\breclam\w*", r"\baidez (?:moi|nous)\b", r"\berreur\b",
    ],
    # Asking the bot to do schoolwork ("résous-moi", "fais mon exercice"): a verb alone is orientation
    # ("rédiger son projet motivé"), it must ask for the work to be done.
    "homework": [
        r"\b(?:resous|traduis|corrige|redige|calcule) (?:moi|nous)\b",
        r"\b(?:mon|mes|ce|cet|cette|son|ses|le|un|une)\s+(?:exercice|exo|devoir|dm|dissertation|redaction)s?\b",
    ],
    # Words of a message about oneself or one's child.
    "first_person": [r"\b(?:je|me|moi|mon|ma|mes|notre|nos|fils|fille|enfant)\b"],
}

# What a question asks about: an entry whose questions never ask that is a neighbour, not the answer.
FOCUS: Dict[str, List[str]] = {
    "amount": [
        r"\bcombien (?:on|je|il|elle|ils|elles)? ?(?:est|sont|serai|sera|seront|touche\w*|gagne\w*|paye\w*|coute\w*)\b",
        r"\b(?:montant|salaire|remuneration|paye|payee|payes|gratification|prix|tarif|cout|coute|coutent|euros?)\b",
        r"\bgratuit\w*\b", r"\b(?:touche|toucher|touchent|gagner|gagne) combien\b",
    ],
    "date": [
        r"\bquand\b", r"\bdates?\b", r"\bdelais?\b", r"\bcalendrier\b", r"\bjusque a quand\b",
        r"\ba partir de quand\b", r"\bquelle heure\b", r"\bavant le\b",
    ],
    "age": [r"\bages?\b", r"\bagemaximum\b", r"\bageminimum\b", r"\b\d{2} ans\b"],
    "count": [r"\bcombien de (?!temps)\w+", r"\bnombre de\b", r"\bmaximum de\b"],
    "duration": [r"\bcombien de temps\b", r"\bduree\b", r"\bdure\b", r"\bcombien de (?:semaines|mois|jours|ans|annees)\b"],
    "procedure": [
        r"\bcomment (?:on|je|faire|fait|se|il|elle|ca|inscrire|demander|postuler)\b", r"\bdemarches?\b",
        r"\bque faire\b", r"\bquoi faire\b", r"\bfaut il faire\b",
    ],
    "definition": [r"\bce est quoi\b", r"\bque est ce que\b", r"\bque est ce\b", r"\bdifference\b", r"\bca veut dire\b"],
}

_COMPILED: Dict[str, Pattern] = {name: re.compile("|".join(f"(?:{p})" for p in alternatives))
                                 for name, alternatives in {**CUES, **{f"focus:{k}": v for k, v in FOCUS.items()}}.items()}

PERSONAL_SITUATION_WORDS = 10  # a story, not a question: 10 words or more with a first-person word


def matches(cue: str, text: str, *, already_normalised: bool = False) -> bool:
    return bool(_COMPILED[cue].search(text if already_normalised else normalise(text)))


def asks_for_a_human(text: str) -> bool:
    return matches("asks_for_a_human", text)


def sounds_like_a_complaint(text: str) -> bool:
    return matches("complaint", text)


_EQUATION = re.compile(r"\d*\s*[a-z]?\s*[-+*/×]\s*\d+\s*=")  # an equation; not a year range ("2026-2027")


def looks_like_homework(text: str) -> bool:
    """Schoolwork is not the bot's field (nor a counsellor's), even when it shares words with a KB entry."""
    # The normaliser drops "=" and "*": equations are looked for in the raw text.
    return bool(_EQUATION.search(text.lower())) or matches("homework", text)


def tells_a_personal_situation(text: str) -> bool:
    """A long message about oneself or one's child: when nothing in the KB fits, a counsellor should read it."""
    folded = normalise(text)
    return len(folded.split()) >= PERSONAL_SITUATION_WORDS and matches("first_person", folded, already_normalised=True)


def focus_of(text: str, *, already_normalised: bool = False) -> FrozenSet[str]:
    """What a question asks about: "amount", "date", "age", "count", "duration", "procedure", "definition"."""
    folded = text if already_normalised else normalise(text)
    found = {name for name in FOCUS if _COMPILED[f"focus:{name}"].search(folded)}
    if "duration" in found:
        found.discard("count")
    return frozenset(found)

"""How long a dated answer holds: the campaigns its dates belong to, and the general rule without them.

Owns the reading of years in an answer (a campaign's "2025", a school year's "2024-2025", but not
the year a rule was created: "depuis la rentrée 2021"), the topic each dated sentence is about, the
campaign calendar (``knowledge/data/campaigns.yml``: when each topic's campaign N opens) and from it
``valid_until``: the day before the next campaign opens.  ``without_dated_sentences`` is what is left
to say once the dates are out of date (the sentences that carry no date), and ``general_rule`` says
whether that is still worth saying.

Pure functions; the pipeline (``knowledge.cluster``) sets each entry's ``valid_until`` with them and
the actions (``bot.actions.answers``) serve the general rule past it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

CALENDAR_FILE = Path(__file__).resolve().parent.parent / "knowledge" / "data" / "campaigns.yml"
DEFAULT_TOPIC = "default"

_YEAR = re.compile(r"\b(20[12]\d)(?:\s*[-–/]\s*(20[12]\d|[2-4]\d)\b)?")
# "depuis la rentrée 2021", "la loi de 2018", "supprimé en 2020": when a rule began, not a campaign's date.
_RULE_ORIGIN = re.compile(
    r"(depuis|loi|arr[êe]t[ée]|d[ée]cret|cr[ée]ation|supprim\w*|r[ée]forme|jusqu'en)\W+(?:\w+\W+){0,5}$", re.I
)
# Words that date a sentence without a year: "cette année", "pour cette campagne".
_RELATIVE_DATE = re.compile(
    r"\b(cette (ann[ée]e|campagne|rentr[ée]e|date)|l'an (dernier|prochain)|l'ann[ée]e (derni[èe]re|prochaine)|"
    r"pour le moment|en ce moment|actuellement|ce jour-l[àa]|à cette date)\b", re.I)
_MONTH = r"(?:janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|d[ée]cembre)"
# "le 13 mars", "du 11 juin au 11 septembre": a campaign's own day.  Not the cut-offs rules are stated by
# ("16 ans au 31 décembre", "moins de 28 ans au 1er septembre").
_PRECISE_DAY = re.compile(rf"(?<!\bau )\b\d{{1,2}}(?:er)? {_MONTH}\b", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_DATED_ASIDE = re.compile(r"\s*\([^()]*\b20[12]\d\b[^()]*\)")


@dataclass(frozen=True)
class Opening:
    """Campaign N of a topic opens on ``month``/``day`` of year N + ``year_offset``."""

    month: int
    day: int
    year_offset: int = 0
    school_year: str = "first"  # which year of "2024-2025" names the campaign

    def of(self, campaign: int) -> date:
        return date(campaign + self.year_offset, self.month, self.day)


@dataclass(frozen=True)
class Calendar:
    openings: Dict[str, Opening]
    words: Tuple[Tuple[str, Tuple[str, ...]], ...]  # (topic, words), in the file's order

    def topic_of(self, text: str) -> Optional[str]:
        folded = text.lower()
        for topic, words in self.words:
            if any(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", folded) for word in words):
                return topic
        return None

    def opening(self, topic: Optional[str]) -> Opening:
        return self.openings.get(topic or DEFAULT_TOPIC, self.openings[DEFAULT_TOPIC])


@dataclass(frozen=True)
class DatedFact:
    sentence: str
    topic: str
    campaign: int
    valid_until: date


@lru_cache(maxsize=4)
def load_calendar(path: Path = CALENDAR_FILE) -> Calendar:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))

    def opening(spec: dict) -> Opening:
        opens = spec["opens"]
        return Opening(int(opens["month"]), int(opens["day"]), int(opens.get("year_offset", 0)),
                       str(spec.get("school_year", "first")))

    openings = {topic: opening(spec) for topic, spec in data["topics"].items()}
    openings[DEFAULT_TOPIC] = opening(data["default"])
    words = tuple((topic, tuple(w.lower() for w in spec.get("words", ()))) for topic, spec in data["topics"].items())
    return Calendar(openings, words)


def _sentences(text: str) -> List[str]:
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


def years_in(text: str) -> List[Tuple[int, Optional[int]]]:
    """The campaign years a text states: (year, None) or a school year (first, last); rules' origins left out."""
    found = []
    for match in _YEAR.finditer(text):
        if _RULE_ORIGIN.search(text[max(0, match.start() - 40): match.start()]):
            continue
        first, second = int(match.group(1)), match.group(2)
        if second is None:
            found.append((first, None))
        else:
            last = int(second) if len(second) == 4 else 2000 + int(second)
            found.append((first, last) if last == first + 1 else (first, None))
    return found


def campaign_year(text: str) -> Optional[int]:
    """The latest year a dated fact of the text refers to (the year shown in the warning)."""
    years = [last or first for first, last in years_in(text)]
    return max(years) if years else None


def dated_facts(text: str, calendar: Optional[Calendar] = None) -> List[DatedFact]:
    """Each sentence that states a campaign year, with its topic, its campaign and how long it holds."""
    calendar = calendar or load_calendar()
    whole_topic = calendar.topic_of(text)
    facts = []
    for sentence in _sentences(text):
        years = years_in(sentence)
        if not years:
            continue
        topic = calendar.topic_of(sentence) or whole_topic or DEFAULT_TOPIC
        opening = calendar.opening(topic)
        campaign = max(first if last is None or opening.school_year == "first" else last for first, last in years)
        facts.append(DatedFact(sentence, topic, campaign, opening.of(campaign + 1) - timedelta(days=1)))
    return facts


def valid_until(text: str, calendar: Optional[Calendar] = None) -> Optional[date]:
    """The day before the next campaign of the newest dated fact opens; None for an answer with no dated fact.

    Older years in the same answer are context ("100 € en 2023-2024, 103 € en 2024-2025"): the newest decides.
    """
    facts = dated_facts(text, calendar)
    return max(f.valid_until for f in facts) if facts else None


# A general rule worth saying has at least this many words besides its links ("Calendrier officiel : <lien>" is not one).
MIN_GENERAL_RULE_WORDS = 8
_LINK = re.compile(r"https?://\S+")


def general_rule(text: str) -> Optional[str]:
    """What may still be said of an out-of-date answer: its undated sentences, if they say something."""
    undated = without_dated_sentences(text)
    return undated if len(_LINK.sub("", undated).split()) >= MIN_GENERAL_RULE_WORDS else None


def without_dated_sentences(text: str) -> str:
    """The general rule: the answer without its dated asides, nor the sentences that carry a year, a campaign's
    own day ("le 13 mars") or a time relative to it ("cette année", "pour le moment")."""
    undated = _DATED_ASIDE.sub("", text)
    kept = [s for s in _sentences(undated)
            if not years_in(s) and not _RELATIVE_DATE.search(s) and not _PRECISE_DAY.search(s)]
    return " ".join(kept).strip()

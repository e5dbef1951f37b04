"""Stage 2, anonymise: remove personal data before anything is learnt or stored.

Regexes catch what has a shape (e-mails, phone numbers, INE, postal addresses,
school names, links carrying personal tokens); the participants' own names are
removed wherever they appear; spaCy's French NER (``fr_core_news_md``) catches
the remaining person and place names.  Domain words the NER is known to
mislabel (Parcoursup, Affelnet, Toussaint...) are kept.  Display names become
role labels.  The report counts what was removed, never what it was.
"""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable, List, Sequence, Tuple

from knowledge.model import AnonymisationReport, Conversation, Participant
from orientbot.normalise import fold_accents
from orientbot.placeholders import PLACEHOLDERS

# An NER function: texts in, for each text the (start, end, label) of its entities.
NerFunction = Callable[[Sequence[str]], List[List[Tuple[int, int, str]]]]


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"https?://[^\s<>\"')\]]+|www\.[^\s<>\"')\]]+")
_PERSONAL_URL_HINTS = re.compile(
    r"profil|profile|user|eleve|candidat|dossier|compte|account|ine=|id=|token|session|mailto|@|\d{5,}", re.I
)
# Official sites, whose pages are public whatever their path says ("…/Parents-eleves-…", "F32709",
# "…/constituer-son-dossier/…"): on them only a query string can carry someone's identity.
_PUBLIC_SITES = re.compile(
    r"(?:^|\.)(?:gouv\.fr|onisep\.fr|parcoursup\.fr|service-public\.fr|monorientationenligne\.fr|"
    r"ac-[a-z-]+\.fr|crous-[a-z-]+\.fr|etudiant\.gouv\.fr|education\.fr|cidj\.com|letudiant\.fr|"
    r"apprentissage\.gouv\.fr|1jeune1solution\.gouv\.fr|francecompetences\.fr|legifrance\.gouv\.fr)$"
)
_PERSONAL_QUERY = re.compile(
    r"(?:^|[&;])(?:ine|id|uid|user|login|token|session|sid|key|code|email|mail|nom|name|dossier)=|@|\d{5,}", re.I
)


def is_personal_link(url: str, names: Sequence[str] = ()) -> bool:
    """A link that points at someone (a profile, a file, a token), rather than at a public page."""
    host, _, rest = url.split("//", 1)[-1].partition("/")
    if "@" in host or any(name.lower() in url.lower() for name in names):
        return True
    path, _, query = rest.partition("?")
    if _PUBLIC_SITES.search(host.split(":")[0].lower()):
        return bool(_PERSONAL_QUERY.search(query))
    return bool(_PERSONAL_URL_HINTS.search(rest))
_PHONE = re.compile(r"(?<![\d\w])(?:(?:\+|00)33[\s.-]?[1-9]|0[1-79])(?:[\s.-]?\d{2}){4}(?![\d\w])")
# A Parcoursup file, student or candidate number: six digits or more standing alone (not inside a link).
_ID_NUMBER = re.compile(r"(?<![\w/.-])\d{6,}(?![\w/-])")
_DATE = r"\d{1,2}(?:er)?(?:[/.-]\d{1,2}[/.-]|\s+(?:janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|d[ée]cembre)\s+)(?:19|20)?\d{2}"
# "née le 12/03/2009", "date de naissance : 3 mars 2010": when someone was born identifies them.
_BIRTH_DATE = re.compile(rf"(?P<kept>\b(?:n[ée]e?s?\s+le|naissance\s*(?::|est|le)?)\s*){_DATE}", re.I)
_INE = re.compile(r"\b(?:\d{10}[A-Za-z]|\d{9}[A-Za-z]{2})\b")
_STREET = (
    r"rue|avenue|av\.|boulevard|bd|allée|allee|impasse|chemin|place|route|quai|cours|square|"
    r"résidence|residence|lotissement|cité|cite|hameau|faubourg"
)
_ADDRESS = re.compile(
    rf"\b\d{{1,4}}(?:\s?(?:bis|ter))?,?\s+(?:{_STREET})\b[^,.;:!?\n]{{0,50}}(?:,?\s*(?:F-)?\d{{5}}\s+[A-ZÀ-Ý][\w'’-]+(?:[ -][A-ZÀ-Ý][\w'’-]+)*)?",
    re.I,
)
_POSTCODE_CITY = re.compile(r"\b(?:F-)?\d{5}\s+[A-ZÀ-Ý][\w'’-]+(?:[ -][A-ZÀ-Ý][\w'’-]+)*")
_PROPER = r"[A-ZÀ-Ý][\w’'-]*"
_SCHOOL = re.compile(
    r"\b(?:(?i:lycée|lycee|collège|college|école|ecole|institution|ensemble scolaire|groupe scolaire|cité scolaire)|"
    r"LP|LGT|LEGT|CFA)"
    r"(?:\s+(?i:professionnel|pro|polyvalent|général|general|technologique|agricole|privé|prive|public|des métiers))*"
    rf"\s+(?:{_PROPER}|Saint[- ]{_PROPER}|Sainte[- ]{_PROPER})"
    rf"(?:(?:\s+|-)(?:de|du|des|la|le|et|sur|en)(?=\s+{_PROPER}|\s+d')|\s*d['’](?={_PROPER})|(?:\s+|-){_PROPER})*"
)

# Words the French NER model mislabels as people or places in this domain.
_KEEP = {
    "parcoursup", "affelnet", "crous", "cio", "onisep", "cned", "bts", "but", "iut", "dut", "cpge", "pass",
    "las", "l.as", "cvec", "dse", "caes", "dasen", "folios", "ent", "educonnect", "master", "smic", "cfa",
    "asp", "psy-en", "psyen", "france", "toussaint", "noel", "paques", "samu", "insa", "geipi", "polytech",
    "puissance", "alpha", "avenir", "advance", "mmopk", "p-tech", "ptech", "mission", "locale", "pole",
    "emploi", "travail", "service", "civique", "parcours", "education", "nationale", "recteur", "rectorat",
    "academie", "cordees", "reussite", "jeune", "mentor", "allo", "enfance", "danger", "scolarite",
    "services", "cap", "bac", "pro", "mdph", "pap", "pps", "agefiph", "caf", "msa", "mon", "orientation",
    "ligne", "internat", "stmg", "sti2d", "st2s", "stl", "stav", "std2a", "sthr", "s2tmd", "l1", "l2", "l3",
    "licence", "europe", "erasmus", "lycee", "college", "terminale", "seconde", "premiere", "mme", "m.",
    "madame", "monsieur", "bonjour", "bonsoir", "merci", "salut", "coucou", "ok", "oui", "non", "moderation",
    "conseiller", "conseillere", "dreets", "region", "etat", "ministere", "jpo", "salon", "etudiant",
    "studyrama", "letudiant", "instagram", "insta", "snapchat", "snap", "tiktok", "whatsapp", "discord",
    "facebook", "pix", "3018", "3114", "119", "dasen.", "reviensteformer", "1jeune1solution", "monmaster",
}
_TITLES = {"m", "m.", "mme", "mlle", "madame", "monsieur", "dr", "prof", "psy-en", "psy", "en", "cpe"}


_PARTICLES = {"de", "du", "des", "la", "le", "les", "van", "von", "d", "et"}
_GLUED_TO_NAME = re.compile(r"\[NOM\]-[A-ZÀ-Ý][\w'’-]*")  # "[NOM]-Perrin": the rest of a compound name
_MENTION = re.compile(r"@[\w.-]+|\b[A-Za-z]+_\w+\b")  # @mentions and pseudo_handles


def _first_names() -> List[str]:
    path = Path(__file__).parent / "data" / "prenoms.txt"
    words = path.read_text(encoding="utf-8").split("\n", 1)[1].split()
    return sorted(set(words), key=len, reverse=True)


_FIRST_NAMES = re.compile(r"(?<![\w\[])(?:" + "|".join(re.escape(n) for n in _first_names()) + r")(?![\w\]])")


def _name_tokens(participants: Iterable[Participant]) -> List[str]:
    tokens = set()
    for participant in participants:
        # "Claire Fournier, psy-EN (CIO de Versailles)": the name is before the role.
        name = re.split(r"[,(]", participant.display_name, maxsplit=1)[0]
        for token in re.split(r"[\s/]+", name):
            token = token.strip(".-'’")
            folded = fold_accents(token)
            # Domain words are kept elsewhere, but not when they are this person's name ("M. Noël").
            if len(token) >= 2 and token[0].isupper() and folded not in _TITLES | _PARTICLES:
                tokens.add(token)
    return sorted(tokens, key=len, reverse=True)


def _entity_is_kept(text: str) -> bool:
    words = [w.strip(".,;:!?«»\"'’()") for w in fold_accents(text).split()]
    return not words or any(w in _KEEP for w in words) or text.isupper() or not text[:1].isupper()


# "Renseignez-vous auprès…", "Prévenez le CFA…": the NER takes a capitalised imperative for a name or a place.
_ENCLITIC = re.compile(r"-(?:vous|toi|nous|moi|le|la|les|lui|leur|en|y)\b", re.I)
_SENTENCE_START = re.compile(r"(?:^|[.!?:;(«\n]\s*)$")
# After a name or a town the verb comes ("Rodez est loin", "Martinez a son bac"); after an imperative, its object.
_VERB_AFTER_A_SUBJECT = re.compile(r"^\s+(?:est|a|sera|serait|était|va|ira|fait|peut|doit|habite|vit|part)\b", re.I)


def _is_an_imperative(text: str, start: int, end: int) -> bool:
    """A one-word entity that is a verb in the imperative: a hyphenated pronoun follows it, or it opens a sentence
    in "-ez" and no verb follows it."""
    word = text[start:end]
    if " " in word or not word.isalpha():
        return False
    if _ENCLITIC.match(text, end):
        return True
    return word.lower().endswith("ez") and bool(_SENTENCE_START.search(text[:start])) \
        and not _VERB_AFTER_A_SUBJECT.match(text[end:])


class Anonymiser:
    """Removes personal data from conversations; ``ner`` is optional (tests may pass a fake)."""

    def __init__(self, ner: NerFunction | None = None) -> None:
        self._ner = ner

    def _patterns(self, text: str, names: Sequence[str], report: AnonymisationReport) -> str:
        def sub(kind: str, pattern: re.Pattern, value: str, keep=None) -> str:
            def repl(match: re.Match) -> str:
                if keep and keep(match.group(0)):
                    return match.group(0)
                report.count(kind)
                # A pattern may name the words around the data it needs to see ("née le"): they stay.
                return (match.groupdict().get("kept") or "") + PLACEHOLDERS[kind]
            return pattern.sub(repl, value)

        text = sub("email", _EMAIL, text)
        text = sub("url", _URL, text, keep=lambda url: not is_personal_link(url, names))
        text = sub("ine", _INE, text)
        text = sub("phone", _PHONE, text)
        text = sub("birth_date", _BIRTH_DATE, text)
        text = sub("number", _ID_NUMBER, text)
        text = sub("address", _ADDRESS, text)
        text = sub("address", _POSTCODE_CITY, text)
        text = sub("school", _SCHOOL, text)
        text = sub("name", _MENTION, text)
        text = sub("name", _FIRST_NAMES, text)
        text = sub("name", _GLUED_TO_NAME, text)
        if names:
            name_pattern = re.compile(r"(?<![\w\[])(?:" + "|".join(re.escape(n) for n in names) + r")(?![\w\]])", re.I)
            text = sub("name", name_pattern, text)
        return text

    def anonymise(self, conversations: Sequence[Conversation], progress: Callable = lambda it, **_: it) -> Tuple[List[Conversation], AnonymisationReport]:
        report = AnonymisationReport()
        cleaned: List[Conversation] = []
        for conversation in progress(conversations, desc="anonymise", unit="conv"):
            names = _name_tokens(conversation.participants)
            texts = [self._patterns(m.text, names, report) for m in conversation.messages]
            if self._ner is not None:
                texts = [self._apply_ner(text, entities, report) for text, entities in zip(texts, self._ner(texts))]
                texts = [_GLUED_TO_NAME.sub(PLACEHOLDERS["name"], text) for text in texts]
            messages = []
            for message, text in zip(conversation.messages, texts):
                if text != message.text:
                    report.messages_changed += 1
                messages.append(replace(message, text=text))
            labels = {}
            participants = []
            for participant in conversation.participants:
                labels[participant.role] = labels.get(participant.role, 0) + 1
                participants.append(replace(participant, display_name=f"{participant.role} {labels[participant.role]}"))
            cleaned.append(replace(conversation, messages=tuple(messages), participants=tuple(participants)))
        return cleaned, report

    @staticmethod
    def _apply_ner(text: str, entities: List[Tuple[int, int, str]], report: AnonymisationReport) -> str:
        for start, end, label in sorted(entities, reverse=True):
            span = text[start:end]
            if label not in ("PER", "LOC") or "[" in span or _entity_is_kept(span) or _is_an_imperative(text, start, end):
                continue
            kind = "name" if label == "PER" else "place"
            report.count(kind)
            text = text[:start] + PLACEHOLDERS[kind] + text[end:]
        return text


def anonymise_text(text: str, *, names: Sequence[str] = ()) -> str:
    """The regex part of the anonymiser on one plain string (text typed in the console, say)."""
    return Anonymiser()._patterns(text, list(names), AnonymisationReport())


def spacy_ner(model_name: str) -> NerFunction:
    """NER from an installed spaCy model package (never downloaded at run time)."""
    import spacy

    nlp = spacy.load(model_name, exclude=["parser", "lemmatizer", "morphologizer", "attribute_ruler", "senter"])

    def run(texts: Sequence[str]) -> List[List[Tuple[int, int, str]]]:
        return [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in nlp.pipe(texts, batch_size=64)]

    return run

"""The one text normaliser.

Owns how raw French text (SMS spelling, typos, apostrophes, accents, domain
synonyms) becomes what the models see.  The knowledge pipeline uses it when it
clusters questions; the Rasa pipeline runs it first on every training example
and every incoming message (``bot.components.normaliser``).  Training and
serving must normalise identically, so nothing else may reimplement this.
"""
from __future__ import annotations

import functools
import re
import unicodedata

from orientbot.placeholders import without_placeholders

MAX_CHARS = 2000

# Elided forms are expanded so that "j'ai", "jai" and "j ai" become the same tokens.
_ELISIONS = {
    "j": "je", "l": "le", "d": "de", "c": "ce", "qu": "que", "n": "ne",
    "s": "se", "m": "me", "t": "te", "jusqu": "jusque", "lorsqu": "lorsque",
    "puisqu": "puisque",
}

# SMS and informal spellings seen in students' messages, mapped word for word (folded like the rest;
# ``knowledge.cluster`` writes them out for the did-you-mean buttons).
TEXTING = {
    "jsp": "je ne sais pas", "jsais": "je sais", "chais": "je sais",
    "cb": "combien", "cmb": "combien", "combi1": "combien",
    "koi": "quoi", "kwa": "quoi", "quoa": "quoi",
    "pk": "pourquoi", "pq": "pourquoi", "pkoi": "pourquoi", "pourkoi": "pourquoi",
    "bcp": "beaucoup", "bcq": "beaucoup", "tkt": "ne t inquiete pas",
    "ya": "il y a", "yaura": "il y aura", "yen": "il y en",
    "jpeux": "je peux", "jpx": "je peux", "jpe": "je peux", "jsuis": "je suis",
    "chui": "je suis", "chuis": "je suis", "jss": "je suis", "jveux": "je veux",
    "jvx": "je veux", "jvais": "je vais", "jdois": "je dois", "jme": "je me",
    "jai": "je ai", "jfais": "je fais", "jpense": "je pense", "jcrois": "je crois",
    "jcomprend": "je comprends", "jcomprends": "je comprends", "jarrive": "je arrive",
    "jen": "je en", "jy": "je y", "jte": "je te", "jle": "je le", "jla": "je la",
    "jsavais": "je savais", "javais": "je avais", "jetais": "je etais", "jaurai": "je aurai",
    "jaurais": "je aurais", "jusqua": "jusque a", "psup": "parcoursup",
    "g": "je ai", "ct": "ce etait", "cest": "ce est", "c": "ce est",
    "stp": "s il te plait", "svp": "s il vous plait", "slt": "salut", "bjr": "bonjour",
    "bsr": "bonsoir", "dc": "donc", "pr": "pour", "ds": "dans", "tt": "tout",
    "tte": "toute", "tts": "tous", "qd": "quand", "qand": "quand", "kan": "quand",
    "qqn": "quelqu un", "qq1": "quelqu un", "qqch": "quelque chose",
    "mtn": "maintenant", "mnt": "maintenant", "ke": "que", "ki": "qui",
    "kel": "quel", "kelle": "quelle", "kels": "quels", "koment": "comment",
    "cmt": "comment", "cmnt": "comment", "comen": "comment", "ocp": "occupe",
    "bac+2": "bac 2", "apre": "apres", "aprs": "apres", "avan": "avant",
    "fo": "faut", "fau": "faut", "vx": "veux", "pa": "pas", "ms": "mais", "mm": "meme",
    "oci": "aussi", "ossi": "aussi", "bi1": "bien", "rien2": "rien",
    "vrmt": "vraiment", "vrm": "vraiment", "mrc": "merci",
    "mci": "merci", "dsl": "desole", "pb": "probleme", "prbl": "probleme",
    "prof": "professeur", "profs": "professeurs", "pp": "professeur principal",
    "etab": "etablissement", "rdv": "rendez vous",
    "oqp": "occupe", "jamai": "jamais", "tjr": "toujours", "tjrs": "toujours",
    "toujour": "toujours", "ptet": "peut etre", "ptetre": "peut etre",
    "infos": "informations", "info": "information",
}

# Domain synonyms: each phrase becomes the same canonical words, so that a question
# worded with one name matches variants worded with another.
_SYNONYMS = [
    (r"conseill\w* (de |d )?orientation( psychologue)?|\bcop\b|\bpsy ?en\b|\bpsyen\b|psychologue(s)? (de le |de l |de )?education nationale",
     "psyen"),
    (r"centre(s)? (de |d )?information et (de |d )?orientation", "cio"),
    (r"periode(s)? de formation en milieu professionnel", "pfmp"),
    (r"\bpfmp\b", "pfmp stage"),
    (r"\bparcour ?sup\w*|\bpsup\b|\bparcoursupe\b|\bparcourssup\b", "parcoursup"),
    (r"\bafel+net\b|\baffel net\b|\baffelnet\b", "affelnet"),
    (r"\bfac\b|\bfacs\b|\bfaculte\b", "universite"),
    (r"\bprepas?\b|\bclasses? preparatoires?( aux grandes ecoles)?", "cpge prepa"),
    (r"\bsts\b|\bsection(s)? de technicien(s)? superieur(s)?", "bts"),
    (r"\bdut\b", "but iut"),
    (r"\bbacs\b", "bac"),
    (r"\bbac ?pro\b", "bac professionnel"),
    (r"\bbac technos?\b|\bbac technologiques?\b", "bac technologique"),
    # The series before the 2021 reform: parents still say "terminale S".
    (r"\bbac (s|es|l)\b", "bac general"),
    (r"\b(terminale|premiere|1ere|1re|tle) (s|es|l)\b", r"\1 generale"),
    # A series name says the bac is a technological one, as "bac techno" would.
    (r"\b(stmg|sti2d|st2s|stl|std2a|sthr|stav|s2tmd)\b(?! technologique)", r"\1 technologique"),
    (r"\bseconde pro\b|\b2nde pro\b|\b2nd pro\b", "seconde professionnelle"),
    (r"\b2nde\b|\b2nd\b", "seconde"),
    (r"\b1ere\b|\b1re\b|\bpremiere\b", "premiere"),
    (r"\btle\b|\bterm\b|\btermi\b", "terminale"),
    (r"\b3eme\b|\b3e\b|\b3 eme\b|\btroisieme\b", "troisieme"),
    (r"\bcrous\b|\bc r o u s\b", "crous"),
    (r"\bdse\b|\bdossier social etudiant\b", "dossier social etudiant dse"),
    (r"\balternant(e)?s?\b", "apprenti alternance"),
    (r"\bapprentie?s?\b", "apprenti"),
    (r"\bvoeu\b|\bvoeux\b|\bveu\b|\bveux de parcoursup\b", "voeux"),
    (r"\bsous voeux\b|\bsous voeu\b", "sousvoeux"),
    (r"\bmdph\b", "mdph handicap"),
    (r"\blas\b|\bl as\b", "las licence acces sante"),
    (r"\bpass\b", "pass parcours acces sante"),
    # An age bound asked about is the point of the question: "jusqu'à quel âge" and "à partir de
    # quel âge" share every other word, so each bound gets one token of its own.
    (r"\bjusque? ?a quel age\b|\bjusqua quel age\b|\bage (max|maxi|maximum|maximal|limite)\b|\blimite (de )?age\b",
     "agemaximum"),
    (r"\ba partir de quel age\b|\bdes quel age\b|\bage (min|mini|minimum|minimal)\b", "ageminimum"),
    # A student's bourse is the Crous one, whoever says "fac" or "étudiant".
    (r"\bbourses? (pour |de |a |en )?(la |le |l )?(universite|etudiant\w*|etudes superieures|superieur)\b",
     "bourse crous etudiant"),
]
_SYNONYM_PATTERNS = [(re.compile(pattern), canonical) for pattern, canonical in _SYNONYMS]

_ELISION_RE = re.compile(r"\b(" + "|".join(sorted(_ELISIONS, key=len, reverse=True)) + r")'")
_NON_WORD_RE = re.compile(r"[^a-z0-9+]+")
_REPEATS_RE = re.compile(r"([a-z])\1{2,}")
_SPACES_RE = re.compile(r"\s+")


def fold_accents(text: str) -> str:
    """Lower-case, strip accents and unify apostrophes and ligatures."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    return text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").lower()


def normalise(text: str) -> str:
    """Return the canonical form the models see (may be an empty string)."""
    if not isinstance(text, str):
        return ""
    return _normalised(text)


def forget_normalised() -> None:
    """Empty the cache below: a benchmark's messages must each be new to it, as live messages are."""
    _normalised.cache_clear()


# The answer policy normalises one message about ten times (cues, detectors, retriever, topics): 1.1 ms of a
# message's ~5 ms in the action server (cProfile over the dev questions, 2026-12-05). Pure, so remembered.
@functools.lru_cache(maxsize=4096)
def _normalised(text: str) -> str:
    text = fold_accents(without_placeholders(text[:MAX_CHARS]))
    text = _ELISION_RE.sub(lambda match: _ELISIONS[match.group(1)] + " ", text)
    text = _REPEATS_RE.sub(r"\1", text)
    text = _NON_WORD_RE.sub(" ", text)
    words = [TEXTING.get(word, word) for word in text.split()]
    text = " ".join(words)
    for pattern, canonical in _SYNONYM_PATTERNS:
        text = pattern.sub(canonical, text)
    return _SPACES_RE.sub(" ", text).strip()


# Words that say nothing of what a question is about (normalised forms), for weighing content words.
STOPWORDS = set(
    """a au aux avec ce ces dans de des du elle en et eux il je la le les leur lui ma mais me meme mes moi mon ne
    nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre vous c d j l
    m n s t y est sont suis es etre ai as avons avez ont faire fait peut peux veux quoi comment combien est ce
    bonjour bonsoir merci svp stp madame monsieur oui non si quel quelle quels quelles ca cela il y a t il faut
    alors donc aussi tres bien plus moins tout tous toute toutes deja encore apres avant quand pourquoi""".split()
)

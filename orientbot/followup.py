"""Follow-ups that lean on the question before them ("et si je rate ?", "et pour un BTS ?").

Owns what a person's previous question is (``is_a_question``, ``context_of``: small talk is not a
question) and how a message that cannot stand alone is given the subject of that question
(``standalone_question``). The knowledge pipeline folds mined follow-ups with them, and the answer policy
does the same with the person's earlier messages at serving time: one set of functions for both, so that a
follow-up reads the same when it is mined and when it is asked.
"""
from __future__ import annotations

import re
from typing import List, Optional, Sequence, Tuple

from orientbot.normalise import normalise
from orientbot.topics import topic_of

FOLLOW_UP_MAX_WORDS = 12
MIN_QUESTION_WORDS = 3
_COURTESY = (r"bonjour|bonsoir|salut|slt|coucou|hello|merci|mrc|ok|d'accord|daccord|top|super|au revoir|"
             r"bonne (?:soir[ée]e|journ[ée]e)|a\+|à\+|bye|oui|non")
SMALL_TALK = re.compile(rf"^\W*({_COURTESY})\b[\w\s!.,'’]{{0,40}}$", re.I)
_COURTESY_OPENING = re.compile(rf"^(?:\W*(?:{_COURTESY}|madame|monsieur|beaucoup|bcp)\b)+\W*", re.I)
# After its greeting or thanks, a message asks something when it names an orientation topic or says this much:
# "salut ça va ?" (2 words) is a greeting, "Merci. Doit-elle ensuite indiquer lesquels elle préfère ?" a question.
COURTESY_QUESTION_WORDS = 4
_THANKS = re.compile(r"\b(merci|remercie|remercions|bonne (soiree|journee))\b", re.I)
_COURTESY_SENTENCE = re.compile(r"^\s*(?:[^\s.!?]+\s+){0,4}[^\s.!?]+\s*[.!]+\s+")  # "Merci pour la rectification."
_FOLLOW_UP_LEAD_IN = re.compile(
    r"^(?:(?:ok|okay|oki|ah|oh|ha|bon|dac+|de accord|daccord|super|top|cool|parfait|tres bien|trop bien|genial|"
    r"entendu|merci|merci beaucoup|je vous remercie|je comprends|oui|ouais|yes|non|bien)\s+)+"
)
# At most four words after "et pour", "et en", "et si"...: only a subject is swapped.
_SUBJECT_SWAP = re.compile(r"^(?:et|mais|sinon) (?:pour|en|avec|dans|si|apres|a|au|aux|le|la|les|un|une)\b(?: \S+){1,4}$")
_FOLLOW_UP_START = re.compile(r"^(?:et|donc|du coup|alors|mais|sinon|ce est|ca|sa|son|ses|il|elle|ils|elles|lui|leur)\b")


def without_lead_in(text: str) -> str:
    """A follow-up without its "ok, merci. Et" opening: "ok et la convention ?" -> "La convention ?"."""
    stripped = text.strip()
    while True:
        shorter = re.sub(
            r"(?i)^(?:ok|okay|oki|ah|oh|bon|dac+|d'accord|super|top|cool|parfait|tr[èe]s bien|trop bien|g[ée]nial|"
            r"entendu|merci|oui|ouais|non|et|donc|du coup|alors|mais|sinon)\b[\s,.!]*",
            "",
            _COURTESY_SENTENCE.sub("", stripped, count=1),
        )
        if shorter == stripped or not shorter:
            break
        stripped = shorter
    return stripped[:1].upper() + stripped[1:]


def is_elliptic(text: str) -> bool:
    """Whether a question only makes sense after the one before it.

    "et si je rate ?", "c'est définitif ?", "sa bourse est-elle maintenue ?": short, opening (after
    "ok", "merci"...) on a connective or a pronoun, and naming no orientation topic, or only swapping
    one in ("et pour un BTS ?", "et en apprentissage ?").  Out of its chat
    such a question is ambiguous: it reads badly as a button and clusters by its few words only.
    """
    stripped = text.strip()
    while True:  # "Merci pour la rectification. Et si..." -> "Et si..."
        shorter = _COURTESY_SENTENCE.sub("", stripped, count=1)
        if shorter == stripped:
            break
        stripped = shorter
    words = _FOLLOW_UP_LEAD_IN.sub("", normalise(stripped) + " ").strip()
    if not words or len(words.split()) > FOLLOW_UP_MAX_WORDS or not _FOLLOW_UP_START.match(words):
        return False
    # "et pour un BTS ?", "et en apprentissage ?": a new subject, the rest of the question is the one before.
    return topic_of(text) is None or bool(_SUBJECT_SWAP.match(words))


SUBJECT_MAX_WORDS = 4
SUBJECT_MAX_PHRASES = 2
_WORD = re.compile(r"[\w'’+-]+")
# "l'université", "d'apprentissage": the noun is the subject, not its article.
_ARTICLE = re.compile(r"(?i)^[ld]['’]")
# "t'aide", "m'inscrire", "s'inscrire": a pronoun before a verb, never the subject of a question.
_PRONOUN = re.compile(r"(?i)^(?:[tmsjn]|qu)['’]")


def _same_word(phrase: str) -> str:
    """"masters" and "master", "École" and "école": one subject said twice."""
    return " ".join(word.rstrip("sx") for word in normalise(phrase).split())


def subject_of(question: str) -> str:
    """The orientation subject a question names, in its own words ("stage 3e", "alternance BTS").

    The words (or two- and three-word phrases: "bac pro", "conseil de classe") that, normalised,
    ``orientbot.topics`` recognises, in the order asked: the first two, at most four words.
    """
    words = [_ARTICLE.sub("", w) for w in _WORD.findall(question)
             if (not w.isupper() or len(w) <= 5) and not _PRONOUN.match(w)]  # not "[ÉTABLISSEMENT]"

    def named(start: int, end: int) -> bool:
        return start < end <= len(words) and topic_of(" ".join(words[start:end])) is not None

    picked: List[str] = []
    index = 0
    while index < len(words) and len(picked) < SUBJECT_MAX_PHRASES:
        # the shortest phrase from this word on that names a topic, and needs this word to
        size = next((n for n in (1, 2, 3) if named(index, index + n) and not named(index + 1, index + n)), 0)
        phrase = " ".join(words[index : index + size])
        if size and _same_word(phrase) not in (_same_word(w) for w in picked):
            picked.append(phrase)
        index += max(size, 1)
    return " ".join(" ".join(picked).split()[:SUBJECT_MAX_WORDS])


def standalone_question(question: str, previous: Optional[str]) -> Tuple[str, str]:
    """The question as it reads out of its conversation, and the context folded into it ("" if none).

    A follow-up that cannot stand alone (``is_elliptic``) is prefixed with the subject of the asker's
    previous question ("stage troisieme : et la convention ?"), the way a counsellor's clarification
    is folded into the question it clarifies.  Only the subject, not the whole previous question: the
    follow-up asks something else, and must not look like a paraphrase of the question before it.
    Any other question, or one with nothing before it (or no subject there), is kept as asked.
    """
    if not previous or not is_elliptic(question):
        return question, ""
    subject = subject_of(previous)
    if not subject:
        return question, ""
    return f"{subject} : {question}", f"{subject} :"


def is_a_question(text: str) -> bool:
    """Whether a message asks something: not small talk ("ok merci", "bonjour"), and a "?" or a few words."""
    stripped = text.strip()
    if not stripped or SMALL_TALK.match(stripped):
        return False
    if "?" in stripped:
        return True
    return len(stripped.split()) >= MIN_QUESTION_WORDS and not _THANKS.search(stripped)


def context_of(earlier: Sequence[str]) -> str:
    """The person's previous question, read as the pipeline reads a mined one ("" if none).

    ``earlier``: the person's messages before the latest, oldest first.  Small talk ("ok merci") is skipped,
    and a follow-up among them is itself given the subject of the question before it, so that
    "alternance ?" / "et pour un BTS ?" / "et si j'ai 21 ans ?" keeps "alternance BTS" for the third.
    """
    folded = ""
    for text in earlier:
        if is_a_question(text):
            folded = standalone_question(text, folded or None)[0]
    return folded


def asks_beyond_courtesy(text: str) -> bool:
    """Whether a message that opens with a greeting or thanks also asks something ("Merci ! Et pour un BTS ?")."""
    rest = _COURTESY_OPENING.sub("", text.strip())
    return is_a_question(text) and (topic_of(rest) is not None or len(_WORD.findall(rest)) >= COURTESY_QUESTION_WORDS)

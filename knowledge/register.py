"""The register of an answer (tutoiement for students, vouvoiement for parents) and the change from one to the other.

Owns ``register_of`` (which register a text addresses its reader in), ``convert`` (tu -> vous and
vous -> tu: pronouns, possessives, verb agreement, imperatives such as "inscris-toi" <->
"inscrivez-vous"), ``for_parents`` (a student answer told to a parent, about "votre enfant") and
``without_the_askers_child`` ("votre fils" -> "votre enfant").

The conversions are deliberately conservative: they return None whenever they meet a verb they cannot
conjugate, or a text whose people do not map one to one (a parent answer about "votre enfant" is not a
student answer with "tu"; a student answer about "ta mère" is not a parent answer).  What they return
is marked for review by ``knowledge.cluster`` but served.  spaCy's French model gives the lemmas and
parts of speech; its person features on "tu" verbs are unreliable, so the verb that agrees with
"tu"/"vous" is found by its place (after the subject, before "-tu"/"-toi", or an imperative opening a
clause) and conjugated from tables.

For parents (``for_parents``).  The pupil the student answer speaks to is the parent's child, not the
parent: "Tu pourras faire ta première ailleurs" -> "Votre enfant pourra faire sa première ailleurs",
never "Vous pourrez faire votre première".  The rules, in order:

- "tu" -> "votre enfant", every time it comes back (the child's gender is unknown: no "il"/"elle"); its
  verb goes to the third person singular ("peux" -> "peut", "pourras" -> "pourra", "t'inscris" ->
  "s'inscrit").
- "ton/ta/tes X" -> "son/sa/ses X" once "votre enfant" has been said in the answer; before that,
  "le/la/les X de votre enfant" ("à tes vœux" -> "aux vœux de votre enfant").
- "te/t'": reflexive (subject "tu", or a pronominal verb such as "s'inscrire" whose subject is the
  pupil) -> "se/s'"; an indirect object -> "lui" ("il te dira" -> "il lui dira", "te la donne" -> "la lui
  donne"); a direct object -> "l'" before a vowel ("t'aider" -> "l'aider").
- Imperatives: in a clause (up to . ! ? ; :) whose imperatives all ask, contact or look something up
  ("contacte", "demande", "renseigne-toi", "n'hésite pas", "va voir", "prends rendez-vous"), the parent
  can act in the child's place: said in "vous" ("Contactez le CIO").  Any other imperative is something
  the pupil does: "Inscris-toi, puis envoie ton dossier" -> "Votre enfant doit s'inscrire, puis envoyer
  son dossier"; "Ne rate pas…" -> "Votre enfant ne doit pas rater…".
- "tes parents" -> "vous" (they are the reader); "ta famille" -> "votre famille"; "chez toi" -> "chez vous";
  "toi" -> "votre enfant" ("c'est toi qui décides" -> "c'est votre enfant qui décide").
- An imperative with no pronoun ("Prends rendez-vous au CIO") is converted too, though ``register_of`` reads
  it as in no register.

Refused (None), as the "vous" conversion refuses what it is unsure of: an attribute or participle that
would agree with the child ("tu es inscrit", "tu n'es pas obligé", "une fois admis", "pour être
accepté", "sois prêt", "tu te sens fort", "que tu mènes seule", "la plus à l'aise"); a question with "-tu"
("peut-il ?"), "toi-même" ("lui-même"), "le tien" ("le sien": whose?), "ton tuteur et toi formez…" (a verb
agreeing with two people); "te" as a direct object before a consonant ("le" or "la"?), "te l'…", or a
"lui"/"l'" before the child is named; "te" before a
pronominal verb whose subject is not the pupil (reflexive or not?); an imperative with two pronouns or
whose infinitive is not known; "ton père"/"ta mère"; a text already mixing "tu" and "vous"; a "tu"
imperative the conversion did not find ("Dans ton cas, préviens le CFA"); and whatever the "vous"
conversion itself refuses.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Dict, List, Optional, Tuple

TU, VOUS, NEUTRAL, MIXED = "tu", "vous", "neutral", "mixed"
MODEL = "fr_core_news_md"

# Present indicative, second person singular -> plural, for the verbs rules cannot conjugate.
_PRESENT = {
    "es": "êtes", "as": "avez", "vas": "allez", "fais": "faites", "dis": "dites", "peux": "pouvez", "veux": "voulez",
    "dois": "devez", "sais": "savez", "vois": "voyez", "revois": "revoyez", "crois": "croyez", "reçois": "recevez",
    "mets": "mettez", "remets": "remettez", "permets": "permettez", "prends": "prenez", "apprends": "apprenez",
    "comprends": "comprenez", "reprends": "reprenez", "viens": "venez", "deviens": "devenez", "reviens": "revenez",
    "obtiens": "obtenez", "tiens": "tenez", "retiens": "retenez", "souviens": "souvenez", "préviens": "prévenez", "inscris": "inscrivez", "réinscris": "réinscrivez",
    "écris": "écrivez", "décris": "décrivez", "pars": "partez", "repars": "repartez", "sors": "sortez", "sens": "sentez",
    "connais": "connaissez", "reconnais": "reconnaissez", "suis": "suivez", "poursuis": "poursuivez", "vis": "vivez",
    "lis": "lisez", "perds": "perdez", "attends": "attendez", "réponds": "répondez", "rends": "rendez",
    "entends": "entendez", "dépends": "dépendez", "choisis": "choisissez", "finis": "finissez", "réussis": "réussissez",
    "remplis": "remplissez", "fournis": "fournissez", "établis": "établissez", "bénéficies": "bénéficiez",
    "conviens": "convenez", "ouvres": "ouvrez", "offres": "offrez", "cours": "courez", "conduis": "conduisez",
    "produis": "produisez", "construis": "construisez",
    # subjunctive forms that the rules below would not find
    "sois": "soyez", "aies": "ayez", "ailles": "alliez", "viennes": "veniez", "prennes": "preniez",
    "doives": "deviez", "reçoives": "receviez", "voies": "voyiez",
}
# Imperative, second person singular -> plural, where it differs from the present.
_IMPERATIVE = {"va": "allez", "vas": "allez", "aie": "ayez", "sois": "soyez", "sache": "sachez", "veuille": "veuillez"}
_PRESENT_TU = {vous: tu for tu, vous in _PRESENT.items() if not tu.endswith(("es", "ies")) or tu == "es"}
_PRESENT_TU.update({"êtes": "es", "ouvrez": "ouvres", "offrez": "offres", "bénéficiez": "bénéficies"})
_IMPERATIVE_TU = {"allez": "va", "ayez": "aie", "soyez": "sois", "sachez": "sache", "veuillez": "veuille",
                  "faites": "fais", "dites": "dis"}
_SUBJUNCTIVE_TU = {"soyez": "sois", "ayez": "aies", "alliez": "ailles", "veniez": "viennes", "preniez": "prennes",
                   "deviez": "doives", "puissiez": "puisses", "fassiez": "fasses", "sachiez": "saches"}
# -er verbs whose stem changes before a silent ending: "appelez" -> "appelles", "achetez" -> "achètes".
_DOUBLING = ("appel", "rappel", "jet", "renouvel", "épel")

_CLITICS = {"ne", "n'", "le", "la", "les", "l'", "lui", "leur", "y", "en", "me", "m'", "se", "s'", "nous"}
# What may come right before an imperative that opens a clause ("Regarde…", ": inscris-toi", "N'hésite pas").
_CLAUSE_OPENERS = {".", "!", "?", ":", ";", "(", "«", "—", "–", "n'", "ne"}
_PREPOSITIONS = {"pour", "avec", "chez", "à", "de", "sans", "par", "entre", "selon", "après", "avant", "vers",
                 "contre", "sur", "sous", "comme", "envers", "près", "auprès"}
_HYPHENATED_CLITICS = {"tu", "toi", "vous", "le", "la", "les", "moi", "lui", "en", "y", "nous", "leur", "t", "il", "elle", "on"}
_NOT_VERBS = {"chez", "assez", "nez", "rez"}
# Hyphenated words that are not a verb and its pronoun.
_COMPOUNDS = {"rendez-vous", "peut-être", "vous-même", "toi-même", "c'est-à-dire", "est-ce", "qu'est-ce"}
_VOWEL_START = re.compile(r"^[aeiouyhàâäéèêëîïôöûùü]", re.I)
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*['’]?|\S", re.U)

# People who do not map one to one between the two registers.
_STUDENTS_FAMILY = re.compile(r"\b(?:ton p[èe]re|ta m[èe]re|tes repr[ée]sentants|ton repr[ée]sentant)\b", re.I)
# "tes parents ont trois jours" -> "vous avez trois jours": the parents are the reader.
_THIRD_PLURAL_TO_VOUS = {"ont": "avez", "sont": "êtes", "doivent": "devez", "peuvent": "pouvez", "vont": "allez",
                         "font": "faites", "reçoivent": "recevez", "disent": "dites", "savent": "savez",
                         "veulent": "voulez", "prennent": "prenez", "viennent": "venez", "remplissent": "remplissez",
                         "choisissent": "choisissez", "mettent": "mettez"}
_PARENTS_CHILD = re.compile(r"\b(?:votre (?:enfant|fils|fille|ado|adolescente?)|vos enfants)\b", re.I)
_TU_MARKS = re.compile(r"\b(?:tu|te|toi|ton|ta|tes)\b|\bt['’](?=\w)", re.I)
# Imperatives in "tu" that a conversion to "vous" must not leave behind ("…, va voir ton collège").
_LEFT_TU_IMPERATIVE = re.compile(
    r"(?:^|[.!?:;,]\s*)(?:n'|ne )?(?:va|vas-y|fais|sois|aie|prends|viens|mets|dis|inscris|choisis|regarde|demande|pense|contacte|renseigne|"
    r"n'h[ée]site|note|envoie|attends|\w+es-en)\b(?!-(?:vous|il|elle|on|t))", re.I
)
_VOUS_MARKS = re.compile(r"\b(?:vous|votre|vos)\b", re.I)


@lru_cache(maxsize=1)
def french_model():
    """spaCy's French model, loaded once (lemmas, parts of speech, morphology, vocabulary)."""
    import spacy

    return spacy.load(MODEL, disable=["ner"])


@lru_cache(maxsize=1)
def _verb_lemmas() -> frozenset:
    """Every verb the French model's lemmatizer knows (its lookup tables, no parse needed)."""
    return frozenset(french_model().get_pipe("lemmatizer").lookups.get_table("lemma_index").get("verb", ()))


@lru_cache(maxsize=8192)
def parse(text: str):
    """A text read by the French model, once (titles and answers are read several times while choosing)."""
    return french_model()(text)


def register_of(text: str) -> str:
    """TU, VOUS, NEUTRAL (no second person) or MIXED.

    Counted on the pronouns and possessives (tu/te/toi/ton/ta/tes vs vous/votre/vos) and on the verbs spaCy
    reads in the second person plural.
    """
    text = re.sub(r"(?i)rendez-vous", "rendez", text)
    tu = len(_TU_MARKS.findall(text))
    vous = len(_VOUS_MARKS.findall(text))
    if not tu and not vous:
        vous += sum(1 for t in parse(text) if t.pos_ in ("VERB", "AUX") and t.morph.get("Person") == ["2"]
                    and t.morph.get("Number") == ["Plur"])
    if tu and vous:
        return MIXED
    return TU if tu else VOUS if vous else NEUTRAL


def without_the_askers_child(text: str) -> str:
    """"votre fils" / "votre fille" -> "votre enfant", where nothing else ("elle") agrees with the daughter."""
    text = re.sub(r"\b([Vv])otre fils\b", r"\1otre enfant", text)
    if not re.search(r"\b[Ee]lle\b|\b[Ll]a\b(?= (?:rassurer|recevoir|voir|aider|conseiller))", text):
        text = re.sub(r"\b([Vv])otre fille\b", r"\1otre enfant", text)
    return text


def convert(text: str, target: str) -> Optional[str]:
    """The same answer addressed in ``target`` (TU or VOUS), or None when it cannot be done safely."""
    if register_of(text) in (target, NEUTRAL):
        return text
    if target == VOUS:
        if _STUDENTS_FAMILY.search(text):
            return None
        converted = _Converter(text).to_vous()
    else:
        if _PARENTS_CHILD.search(text):
            return None
        converted = _Converter(text).to_tu()
    if converted is None or register_of(converted) != target or _left_behind(converted, target):
        return None
    return converted


# Where an imperative may open a clause in a finished answer (a comma, "et", "puis"... included).
_IMPERATIVE_OPENERS = {".", "!", "?", ":", ";", ",", "et", "puis", "ou", "mais", "sinon", "alors"}
# Words that open a clause before an imperative ("Donc commence…", "Surtout n'attends pas").
_ADVERB_OPENERS = {"donc", "surtout", "alors", "aussi", "bien", "vite", "puis", "ensuite", "oui"}
# What follows an imperative that the tagger may take for a noun ("Contacte le CIO", "Continue à…").
_AFTER_IMPERATIVE = {"à", "au", "aux", "le", "la", "les", "l'", "un", "une", "des", "du", "ton", "ta",
                     "tes", "son", "sa", "ses", "bien", "vite", "aussi", "tout", "pas", "plus", "jamais", "-"}
_NOT_IMPERATIVE_TAGS = ("ADP", "DET", "CCONJ", "SCONJ", "PRON", "NUM")
# Clause openers spelled like an imperative: "Faute de…", "Grâce à…", "Suite à…".
_NOT_IMPERATIVES = {"faute", "grâce", "face", "suite", "entre", "voire", "outre", "comme", "contre", "rapport"}


def _left_behind(text: str, target: str) -> bool:
    """A form of the other register the conversion missed: a reader would see two ways of addressing them.

    In "vous": an imperative in "tu" opening a clause ("Continue à démarcher…", "… et demande au CFA").
    In "tu": "toi" before a verb, a reflexive "vous" turned into the stressed pronoun ("de toi rapprocher").
    """
    if target == VOUS and _LEFT_TU_IMPERATIVE.search(text):
        return True
    tokens = list(parse(text))
    for i, token in enumerate(tokens):
        opens_clause = i == 0 or tokens[i - 1].text.lower() in _IMPERATIVE_OPENERS
        low = token.text.lower()
        # The tagger reads a clause-opening "Continue…" as a noun as often as a verb: the verb list decides.
        if target == VOUS and opens_clause and low.endswith("e") and f"{low}r" in _verb_lemmas() and low not in _NOT_IMPERATIVES \
                and not (i + 1 < len(tokens) and tokens[i + 1].text.startswith("-")):
            return True
        if target == TU and low == "toi" and i + 1 < len(tokens) and tokens[i + 1].pos_ in ("VERB", "AUX"):
            return True
    return False


def _keep_case(original: str, new: str) -> str:
    return new[:1].upper() + new[1:] if original[:1].isupper() else new


class _Converter:
    """One text's words, the lemmas spaCy gives them, and the replacements made so far."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.words: List[Tuple[int, int, str]] = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
        doc = parse(text)
        by_start = {t.idx: t for t in doc}
        self.lemma: Dict[int, str] = {}
        self.pos: Dict[int, str] = {}
        self.mood: Dict[int, str] = {}
        self.gender: Dict[int, str] = {}
        for i, (start, _, _) in enumerate(self.words):
            token = by_start.get(start)
            if token is not None:
                self.lemma[i], self.pos[i] = token.lemma_.lower(), token.pos_
                self.mood[i] = "".join(token.morph.get("Mood"))
                self.gender[i] = "".join(token.morph.get("Gender"))
        self.out: Dict[int, str] = {}
        self.imperatives: Dict[int, str] = {}  # the imperatives ``to_vous`` converted: index -> their "vous" form

    def low(self, i: int) -> str:
        return self.words[i][2].lower().replace("’", "'") if 0 <= i < len(self.words) else ""

    def render(self) -> str:
        pieces, last = [], 0
        for i, (start, end, word) in enumerate(self.words):
            pieces.append(self.text[last:start])
            new = self.out.get(i, word)
            if new.endswith(" ") and end < len(self.text) and self.text[end] == " ":
                new = new.rstrip()
            pieces.append(new)
            last = end
        pieces.append(self.text[last:])
        return re.sub(r" {2,}", " ", "".join(pieces))

    def clause_start(self, i: int) -> bool:
        if i == 0:
            return True
        before = self.low(i - 1)
        return before in _CLAUSE_OPENERS and (before not in ("n'", "ne") or self.clause_start(i - 1))

    def is_verb(self, i: int) -> bool:
        return self.pos.get(i) in ("VERB", "AUX")

    # --- tu -> vous ------------------------------------------------------------------------------------------

    def to_vous(self) -> Optional[str]:
        subject_pending = False
        imperative_sentence = False  # "Envoie ton dossier, puis attends…": imperatives come in series
        for i, (_, _, word) in enumerate(self.words):
            low = self.low(i)
            base, _, suffix = low.partition("-")
            if low in (".", "!", "?"):
                imperative_sentence = False
            if self.clause_start(i) and low in ("si", "s'", "sinon", "quand", "dès"):
                imperative_sentence = True  # "Si tu hésites, demande…": the main clause may well be an imperative
            if i in self.out:
                continue
            if low == "tu":
                self.out[i] = _keep_case(word, "vous")
                subject_pending = True
            elif low == "ta" and self.low(i + 1) == "famille" and self.low(i + 2) not in ("de", "d'"):
                self.out[i] = _keep_case(word, "votre")  # the child's family is the reader's
            elif low == "tes" and self.low(i + 1) == "parents":
                if self.low(i - 1) in _PREPOSITIONS:
                    return None  # "parles-en à tes parents" has no parent version
                self.out[i], self.out[i + 1] = _keep_case(word, "vous"), ""
                verb = i + 2
                while self.low(verb) in _CLITICS:  # "tes parents la demandent"
                    verb += 1
                plural = self._vous_from_third_plural(verb)
                if plural is None and (self.is_verb(verb) or verb > i + 2):
                    return None
                if plural is not None:
                    self.out[verb] = plural
            elif low in ("te", "toi"):
                self.out[i] = _keep_case(word, "vous")
            elif low == "t'":
                self.out[i] = _keep_case(word, "vous ")
            elif low in ("ton", "ta"):
                self.out[i] = _keep_case(word, "votre")
            elif low == "tes":
                self.out[i] = _keep_case(word, "vos")
            elif low == "toi-même":
                self.out[i] = _keep_case(word, "vous-même")
            elif subject_pending and low in _CLITICS:
                continue
            elif subject_pending:
                subject_pending = False
                plural = self._vous_finite(i, low)
                if plural is None:
                    return None
                self.out[i] = _keep_case(word, plural)
            elif suffix and suffix.split("-")[0] in _HYPHENATED_CLITICS and (
                    suffix.split("-")[0] in ("tu", "toi") or self.is_verb(i) or self.clause_start(i)
                    or base in _PRESENT or base in _IMPERATIVE) and low not in _COMPOUNDS:
                if suffix == "tu":  # "peux-tu"
                    plural = self._vous_finite(i, base)
                    new_suffix = "vous"
                else:  # "inscris-toi", "fais-le", "parles-en"
                    plural = self._vous_imperative(i, base)
                    new_suffix = "-".join("vous" if part == "toi" else part for part in suffix.split("-"))
                if plural is None:
                    return None
                self.out[i] = _keep_case(word, f"{plural}-{new_suffix}")
                imperative_sentence = imperative_sentence or suffix != "tu"
                if suffix != "tu":
                    self.imperatives[i] = plural
            elif (self.clause_start(i) or (imperative_sentence or low in _IMPERATIVE) and self.low(i - 1) in (",", "et", "puis", "ou")) \
                    and self._looks_imperative(i, low):
                plural = self._vous_imperative(i, low)
                if plural is None:
                    return None
                self.out[i] = _keep_case(word, plural)
                self.imperatives[i] = plural
                imperative_sentence = True
        return self.render()

    def _vous_from_third_plural(self, i: int) -> Optional[str]:
        low, lemma = self.low(i), self.lemma.get(i, "")
        if low in _THIRD_PLURAL_TO_VOUS:
            return _THIRD_PLURAL_TO_VOUS[low]
        if low.endswith("ront"):
            return low[:-3] + "ez"
        if low.endswith("ent") and lemma.endswith("er") and self.is_verb(i):
            return lemma[:-2] + "ez"
        return None

    def _looks_imperative(self, i: int, low: str) -> bool:
        lemma = self.lemma.get(i, "")
        if low in _IMPERATIVE or (low in _PRESENT and low.endswith(("s", "x")) and low not in ("es", "as", "tes")):
            return True
        if low.endswith("e") and f"{low}r" in _verb_lemmas() and self.pos.get(i) not in _NOT_IMPERATIVE_TAGS \
                and low not in _NOT_IMPERATIVES and (
                not self.clause_start(i) or self.low(i - 1) not in ("(", "«")
                and (self.low(i + 1) in _AFTER_IMPERATIVE or self.pos.get(i + 1) in ("DET", "ADP"))):
            return True  # the tagger reads "Contacte le CIO" as a noun as often as a verb; "(médecine," is one
        if not self.is_verb(i) or self.mood.get(i) not in ("Imp", "Ind", ""):
            return False
        return (lemma.endswith("er") and low in (lemma[:-1], _er_present_tu(lemma[:-2])[:-1])) or (
            low in _PRESENT and low.endswith(("s", "x")))

    def _vous_finite(self, i: int, low: str) -> Optional[str]:
        if low in _PRESENT:
            return _PRESENT[low]
        if low.endswith("ras"):
            return low[:-2] + "ez"  # future: "pourras" -> "pourrez"
        if low.endswith("ais"):  # imperfect, conditional: "pourrais" -> "pourriez", "changeais" -> "changiez"
            stem = low[:-3]
            return (stem[:-1] if stem.endswith("ge") else stem.replace("ç", "c") if stem.endswith("ç") else stem) + "iez"
        lemma = self.lemma.get(i, "")
        if low.endswith("es"):
            if lemma.endswith("er"):
                return lemma[:-2] + "ez"
            if self.mood.get(i) == "Sub":
                return low[:-2] + "iez"
            return _er_present_vous(low[:-2])
        if lemma.endswith("ir") and low == lemma[:-1] + "s":
            return lemma[:-2] + "issez"
        if lemma.endswith("dre") and low == lemma[:-2] + "s":
            return lemma[:-2] + "ez"
        return None

    def _vous_imperative(self, i: int, low: str) -> Optional[str]:
        if low in _IMPERATIVE:
            return _IMPERATIVE[low]
        lemma = self.lemma.get(i, "")
        if lemma.endswith("er") and low in (lemma[:-1], lemma[:-1] + "s"):
            return lemma[:-2] + "ez"
        if low.endswith("e"):
            return _er_present_vous(low[:-1])
        if low.endswith("es"):  # "parles-en"
            return _er_present_vous(low[:-2])
        return self._vous_finite(i, low)

    # --- vous -> tu ------------------------------------------------------------------------------------------

    def to_tu(self) -> Optional[str]:
        subject_seen = False  # a subject "vous" waits for its verb
        for i, (_, _, word) in enumerate(self.words):
            low = self.low(i)
            base, _, suffix = low.partition("-")
            if low in (".", "!", "?", ";", ":"):
                subject_seen = False
            if low == "vous":
                if self.low(i - 1) in _PREPOSITIONS and not subject_seen or not self._verb_follows(i):
                    self.out[i] = _keep_case(word, "toi")
                elif subject_seen:  # "vous vous inscrivez": the reflexive one
                    self.out[i] = _keep_case(word, "t'" if _VOWEL_START.match(self._next_word(i)) else "te")
                elif self._is_subject(i):
                    self.out[i] = _keep_case(word, "tu")
                    subject_seen = True
                else:
                    self.out[i] = _keep_case(word, "t'" if _VOWEL_START.match(self._next_word(i)) else "te")
            elif low == "votre":
                self.out[i] = _keep_case(word, self._ton_or_ta(i))
            elif low == "vos":
                self.out[i] = _keep_case(word, "tes")
            elif low == "vous-même":
                self.out[i] = _keep_case(word, "toi-même")
            elif subject_seen and (low in _CLITICS or low in ("t'", "te")):
                continue
            elif subject_seen:
                subject_seen = False
                singular = self._tu_finite(i, low)
                if singular is None:
                    return None
                self.out[i] = _keep_case(word, singular)
            elif suffix and suffix.split("-")[0] in _HYPHENATED_CLITICS and self._vous_form(base) and low not in _COMPOUNDS:
                parts = suffix.split("-")
                if parts[0] == "vous" and self._in_question(i):  # "pouvez-vous"
                    singular, new_suffix = self._tu_finite(i, base), "tu"
                else:  # "inscrivez-vous", "faites-le"
                    singular = self._tu_imperative(i, base, before_en_or_y=parts[0] in ("en", "y"))
                    new_suffix = "-".join("toi" if part == "vous" else part for part in parts)
                if singular is None:
                    return None
                self.out[i] = _keep_case(word, f"{singular}-{new_suffix}")
            elif self._vous_form(low) and (self.clause_start(i) or self.is_verb(i)) and low not in ("faites", "dites"):
                singular = self._tu_imperative(i, low)
                if singular is None:
                    return None
                self.out[i] = _keep_case(word, singular)
            elif low in ("faites", "dites") and (self.clause_start(i) or self.low(i - 1) in (",", "et", "puis", "ou")):
                self.out[i] = _keep_case(word, _IMPERATIVE_TU[low])
        # "vous êtes reçus" spoke to the parents and their child: one person now.
        rendered = re.sub(r"\b([Tt]u (?:es|seras|étais|sois|as été|restes) )(\w+(?:é|u|t))s\b", r"\1\2", self.render())
        return re.sub(r"\b([Tt])['’] ", r"\1'", re.sub(r"\b([Tt])e (?=[aeiouyhàâéèêîôû])", r"\1'", rendered))

    def _in_question(self, i: int) -> bool:
        ends = [self.low(j) for j in range(i, len(self.words)) if self.low(j) in (".", "!", "?")]
        return bool(ends) and ends[0] == "?"

    def _next_word(self, i: int) -> str:
        return self.low(i + 1)

    def _verb_follows(self, i: int) -> bool:
        j = i + 1
        while self.low(j) in _CLITICS or self.low(j) == "vous":
            j += 1
        return j < len(self.words) and (self._vous_form(self.low(j)) or self.is_verb(j))

    def _is_subject(self, i: int) -> bool:
        j = i + 1
        while self.low(j) in _CLITICS or self.low(j) == "vous":
            j += 1
        return self._vous_form(self.low(j))

    @staticmethod
    def _vous_form(low: str) -> bool:
        return low not in _NOT_VERBS and (low.endswith("ez") or low in ("êtes", "faites", "dites"))

    def _ton_or_ta(self, i: int) -> str:
        following = self._next_word(i)
        if _VOWEL_START.match(following):
            return "ton"
        j = i + 1
        while j < len(self.words) and self.pos.get(j) not in ("NOUN", "PROPN") and j < i + 4:
            j += 1
        return "ta" if self.gender.get(j) == "Fem" else "ton"

    def _tu_finite(self, i: int, low: str) -> Optional[str]:
        subjunctive = self.low(i - 2) in ("que", "qu'") or self.low(i - 3) in ("que", "qu'")
        if subjunctive and low in _SUBJUNCTIVE_TU:
            return _SUBJUNCTIVE_TU[low]
        if low in _PRESENT_TU:
            return _PRESENT_TU[low]
        if low.endswith("rez"):
            return low[:-2] + "as"  # future
        if low.endswith("iez"):
            return low[:-3] + ("es" if subjunctive and not low.endswith("riez") else "ais")
        if low.endswith("issez"):
            return low[:-5] + "is"
        if low.endswith("aissez"):
            return low[:-4] + "s"
        lemma = self.lemma.get(i, "")
        if low.endswith("ez") and lemma.endswith("er"):
            return _er_present_tu(low[:-2])
        return None

    def _tu_imperative(self, i: int, low: str, before_en_or_y: bool = False) -> Optional[str]:
        if low in _IMPERATIVE_TU:
            singular = _IMPERATIVE_TU[low]
            return "vas" if singular == "va" and before_en_or_y else singular
        lemma = self.lemma.get(i, "")
        if low.endswith("ez") and lemma.endswith("er") and low not in _PRESENT_TU:
            singular = _er_present_tu(low[:-2])[:-1]
            return singular + "s" if before_en_or_y else singular
        return self._tu_finite(i, low)


def _er_present_vous(stem: str) -> Optional[str]:
    """"pass" -> "passez", "envoi" -> "envoyez", "appell" -> "appelez"; None where the stem is unsure ("achèt")."""
    if "è" in stem[-3:]:
        return None
    if stem.endswith("i") and stem[-2:-1] in ("o", "u", "a"):
        return stem[:-1] + "yez"
    if re.search(r"(ll|tt)$", stem) and stem[:-1] in _DOUBLING:
        stem = stem[:-1]
    return stem + "ez"


def _er_present_tu(stem: str) -> str:
    """"pass" -> "passes", "envoy" -> "envoies", "appel" -> "appelles", "complét" -> "complètes"."""
    if stem in _DOUBLING:
        return stem + stem[-1] + "es"
    if stem.endswith("y") and not stem.endswith(("ay",)):
        return stem[:-1] + "ies"
    match = re.search(r"[ée]([^aeiouyéèêàâîôû][rl]?)$", stem)
    if match and len(stem) > len(match.group(1)) + 1:
        stem = stem[: match.start()] + "è" + match.group(1)
    return stem + "es"


# --- a student answer told to a parent ---------------------------------------------------------------------

CHILD = "votre enfant"
# Imperatives a parent can act on in the child's place (asking, contacting, looking up): said to the parent.
_ASKING_VERBS = frozenset({
    "contacter", "demander", "appeler", "rappeler", "écrire", "renseigner", "adresser", "consulter", "regarder",
    "parler", "hésiter", "poser", "téléphoner", "solliciter", "vérifier", "lire", "visiter", "informer",
    "rapprocher", "joindre",
})
# Verbs that ask only with certain words after them: "va voir le CPE", "prends rendez-vous".
_ASKING_WHEN = {"aller": ("voir", "consulter", "sur"), "prendre": ("rendez-vous", "contact")}
# "te" before these, the pupil being their subject, is the reflexive "se" ("tu peux t'inscrire" -> "s'inscrire").
_PRONOMINAL = frozenset({
    "inscrire", "réinscrire", "renseigner", "adresser", "présenter", "inquiéter", "engager", "orienter",
    "réorienter", "préparer", "désister", "occuper", "connecter", "décider", "décourager", "tromper", "sentir",
    "rapprocher", "informer", "organiser", "entraîner", "lancer", "mettre", "faire", "trouver", "retrouver",
    "positionner", "porter", "rendre", "reposer", "habituer",
})
# "te" as an indirect object becomes "lui" ("il te suffit" -> "il lui suffit"); as a direct one, "l'" before a
# vowel ("il peut t'aider" -> "il peut l'aider") and nothing otherwise ("le" or "la" would tell the gender).
_INDIRECT = frozenset({
    "suffire", "falloir", "rester", "manquer", "donner", "proposer", "envoyer", "dire", "expliquer", "montrer",
    "indiquer", "transmettre", "remettre", "répondre", "écrire", "permettre", "demander", "parler", "téléphoner",
    "sembler", "plaire", "revenir", "appartenir", "convenir", "arriver", "accorder", "communiquer", "fournir",
    "recommander", "offrir", "attribuer", "faut",
})
_DIRECT = frozenset({
    "aider", "accompagner", "orienter", "informer", "accueillir", "inscrire", "affecter", "admettre", "accepter",
    "attendre", "appeler", "encadrer", "écouter", "évaluer", "interroger", "entendre", "intéresser",
})
# Present, future, subjunctive: second person singular -> third, where dropping or changing the "s" is wrong.
_THIRD = {"es": "est", "as": "a", "vas": "va", "peux": "peut", "veux": "veut", "vaux": "vaut", "connais": "connaît",
          "reconnais": "reconnaît", "parais": "paraît", "apparais": "apparaît", "sois": "soit", "aies": "ait"}
# Imperatives whose infinitive the "vous" form does not give ("prends" -> "prenez" -> "prendre").
_INFINITIVE = {
    "va": "aller", "vas": "aller", "fais": "faire", "dis": "dire", "sois": "être", "aie": "avoir", "sache": "savoir",
    "prends": "prendre", "apprends": "apprendre", "comprends": "comprendre", "reprends": "reprendre",
    "mets": "mettre", "remets": "remettre", "permets": "permettre", "viens": "venir", "deviens": "devenir",
    "reviens": "revenir", "obtiens": "obtenir", "tiens": "tenir", "retiens": "retenir", "souviens": "souvenir",
    "préviens": "prévenir", "inscris": "inscrire",
    "réinscris": "réinscrire", "écris": "écrire", "décris": "décrire", "pars": "partir", "repars": "repartir",
    "sors": "sortir", "suis": "suivre", "poursuis": "poursuivre", "lis": "lire", "vois": "voir", "revois": "revoir",
    "reçois": "recevoir", "connais": "connaître", "attends": "attendre", "réponds": "répondre", "rends": "rendre",
    "perds": "perdre", "entends": "entendre", "ouvre": "ouvrir", "offre": "offrir", "cours": "courir",
    "conduis": "conduire", "produis": "produire", "construis": "construire", "crois": "croire", "vis": "vivre",
}
# Verbs whose attribute agrees with the pupil: "tu es inscrit" has no gender-neutral third person.
_COPULAS = frozenset({"être", "devenir", "rester", "sembler", "paraître", "demeurer", "sentir"})
_BEFORE_ATTRIBUTE = {"pas", "plus", "jamais", "bien", "déjà", "encore", "toujours", "vraiment", "très", "forcément",
                     "automatiquement", "alors", "aussi", "ensuite", "peut-être", "sûrement", "normalement", "donc",
                     "tout", "trop", "assez", "été", "ne", "n'"}
# Attributes with one form for both genders ("capable", "prioritaire", "élève").
_EPICENE = re.compile(r"(?:ble|aire|iste|ique|libre|apte|élève)$")
_SUBJECTS = {"il", "elle", "on", "je", "j'", "nous", "ils", "elles", "qui", "c'", "ce", "ça", "cela", "ceci"}
# Words that agree with the pupil wherever they stand ("que tu mènes seule").
_GENDERED_ABOUT_THE_PUPIL = {"seul", "seule", "prêt", "prête", "sûr", "sûre", "tout seul", "toute seule"}
# Attributes the tagger reads as adverbs.
_READ_AS_ADVERBS = {"fort", "forte", "nul", "nulle", "bon", "bonne", "mauvais", "mauvaise", "seul", "seule", "prêt", "prête"}
# "le tien", "la tienne": the possessive pronoun of the second person.
_YOURS = {"tien", "tienne", "tiennes"}
_YOURS_PATTERN = re.compile(r"(?i)\b(?:tien|tiennes?|les tiens)\b")
_SEGMENT_ENDS = {".", "!", "?", ";", ":"}


def for_parents(text: str) -> Optional[str]:
    """A student answer ("tu") told to a parent: the pupil becomes "votre enfant", the parent "vous".

    None when it cannot be done safely (see ``_ParentConverter``); a text in "vous" or in no register is kept.
    """
    if _YOURS_PATTERN.search(text):
        return None  # "le tien" -> "le sien": whose?
    register = register_of(text)
    if register == VOUS or register == NEUTRAL and not (_left_behind(text, VOUS) or _tu_imperative_left(text)):
        return text  # no "tu", nor an imperative in "tu" ("Prends rendez-vous…" has no pronoun)
    if register == MIXED or _STUDENTS_FAMILY.search(text):
        return None
    converted = _ParentConverter(text).to_parents()
    if converted is None or register_of(converted) != VOUS or _left_behind(converted, VOUS) \
            or _tu_imperative_left(converted):
        return None
    return converted


def _tu_imperative_left(text: str) -> bool:
    """An imperative in "tu" the conversion did not find ("Dans ton cas, préviens le CFA", "Donc commence à…")."""
    tokens = list(parse(text))
    words = [t.text.lower().replace("’", "'") for t in tokens]
    for i, word in enumerate(words):
        j = i - 2 if i >= 1 and words[i - 1] in ("n'", "ne") else i - 1
        if word in ("es", "as", "suis") or not (j < 0 or words[j] in _IMPERATIVE_OPENERS or words[j] in _ADVERB_OPENERS):
            continue
        following = words[i + 1] if i + 1 < len(words) else ""
        if word in _PRESENT or word in _IMPERATIVE or word.endswith("iens") or (
                word.endswith("e") and word not in _NOT_IMPERATIVES
                and (f"{word}r" in _verb_lemmas() or f"{word}r" == tokens[i].lemma_.lower())
                and tokens[i].pos_ not in _NOT_IMPERATIVE_TAGS
                and (following in _AFTER_IMPERATIVE or tokens[i].pos_ == "VERB" and words[j] in _ADVERB_OPENERS)):
            return True
    return False


class _ParentConverter(_Converter):
    """Student -> parent: the rules and refusals are those of the module docstring ("For parents")."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        by_start = {t.idx: t for t in parse(text)}
        self.verb_form: Dict[int, str] = {
            i: "".join(by_start[start].morph.get("VerbForm")) for i, (start, _, _) in enumerate(self.words)
            if start in by_start
        }

    def to_parents(self) -> Optional[str]:
        plain = _Converter(self.text)  # the "vous" reading: which words are imperatives, and their "vous" form
        if plain.to_vous() is None:
            return None
        segment, segments = [], 0
        for i, (_, end, _) in enumerate(self.words):
            segment.append(segments)
            segments += self.low(i) in _SEGMENT_ENDS and self.text[end:end + 1] in ("", " ", "\n")
        infinitives = {i: self._infinitive(i, plural) for i, plural in plain.imperatives.items()}
        if None in infinitives.values():
            return None
        asking: Dict[int, bool] = {}
        for i, infinitive in infinitives.items():
            asking[segment[i]] = asking.get(segment[i], True) and self._asks(i, infinitive)
        named = subject_pending = pupil_clause = False
        must_said = set()
        for i, (_, _, word) in enumerate(self.words):
            low = self.low(i)
            _, _, suffix = low.partition("-")
            if low in _SEGMENT_ENDS:
                subject_pending = pupil_clause = False
            if i in self.out:
                continue
            to_parent = asking.get(segment[i], False)
            if i in plain.imperatives:
                if to_parent:
                    self.out[i] = plain.out[i]
                    continue
                if not self._child_must(i, suffix, infinitives[i], segment[i] not in must_said):
                    return None
                must_said.add(segment[i])
                named = pupil_clause = True
            elif low == "tu":
                self.out[i] = _keep_case(word, CHILD)
                named = subject_pending = pupil_clause = True
            elif suffix == "tu" or low == "toi-même" or low in _YOURS or low == "tiens" and self.low(i - 1) == "les":
                return None  # "peux-tu" -> "peut-il", "toi-même" -> "lui-même": gendered; "le tien" -> "le sien"?
            elif pupil_clause and low in _GENDERED_ABOUT_THE_PUPIL:
                return None
            elif low == "ta" and self.low(i + 1) == "famille" and self.low(i + 2) not in ("de", "d'"):
                self.out[i] = _keep_case(word, "votre")  # the child's family is the reader's
            elif low == "tes" and self.low(i + 1) == "parents":
                for j in range(i, i + 6):
                    if j in plain.out and (j < i + 2 or plain.out[j].endswith("ez")):
                        self.out[j] = plain.out[j]
            elif low in ("te", "t'"):
                new = self._te(i, subject_pending, pupil_clause, named, to_parent)
                if new is None:
                    return None
                self.out[i] = _keep_case(word, new)
            elif low in ("ton", "ta", "tes"):
                if named:
                    self.out[i] = _keep_case(word, {"ton": "son", "ta": "sa", "tes": "ses"}[low])
                elif not self._genitive(i):
                    return None
                named = True
            elif low == "toi" and "et" in (self.low(i - 1), self.low(i + 1)):
                return None  # "ton tuteur et toi formez…": the verb would agree with two people
            elif low == "toi":
                self.out[i] = "vous" if self.low(i - 1) == "chez" else _keep_case(word, CHILD)
                named = named or self.low(i - 1) != "chez"
                if self.low(i + 1) == "qui":  # "c'est toi qui décides" -> "c'est votre enfant qui décide"
                    self.out[i + 1] = self.words[i + 1][2]
                    subject_pending = pupil_clause = True
            elif subject_pending and low in _CLITICS:
                continue
            elif subject_pending:
                subject_pending = False
                third = self._third_singular(i, low)
                if third is None or self._gendered_attribute(i):
                    return None
                self.out[i] = _keep_case(word, third)
            elif low in _SUBJECTS:
                pupil_clause = False
            elif pupil_clause and low in ("être", "été") and self._gendered_attribute(i):
                return None  # "tu peux l'envoyer pour être inscrit"
            if self.low(i) == "fois" and self.low(i - 1) == "une" and self._gendered(i + 1):
                return None  # "une fois inscrit, tu…"
        return re.sub(r" {2,}", " ", self.render()).strip()

    def _infinitive(self, i: int, plural: str) -> Optional[str]:
        base = self.low(i).partition("-")[0]
        if base in _INFINITIVE:
            return _INFINITIVE[base]
        if plural.endswith("issez") and base.endswith("is"):
            return base[:-1] + "r"  # "choisis" -> "choisir"
        if plural.endswith("ez") and base.endswith(("e", "es")):
            return plural[:-2] + "er"  # "envoie" -> "envoyez" -> "envoyer"
        return None

    def _asks(self, i: int, infinitive: str) -> bool:
        if infinitive in _ASKING_VERBS:
            return True
        after = [self.low(j) for j in range(i + 1, i + 4)]
        return any(word in _ASKING_WHEN.get(infinitive, ()) for word in after)

    def _child_must(self, i: int, suffix: str, infinitive: str, first: bool) -> bool:
        """An imperative to the pupil -> "votre enfant doit <infinitive>" (then the bare infinitive in a series)."""
        parts = [part for part in suffix.split("-") if part]
        vowel = bool(_VOWEL_START.match(infinitive))
        clitic = ""
        if len(parts) > 1:
            return False
        if parts:
            part = parts[0]
            if part == "toi":
                clitic = "s'" if vowel else "se "
            elif part in ("le", "la", "les"):
                clitic = "l'" if vowel and part != "les" else f"{part} "
            elif part in ("en", "y"):
                clitic = f"{part} "
            else:
                return False
        if infinitive in _COPULAS:
            j = i + 1
            while self.low(j) in _BEFORE_ATTRIBUTE:
                j += 1
            if self._gendered(j):
                return False  # "sois prêt" -> "doit être prêt ou prête"
        opening = self.words[i][2]
        negation = ""
        if self.low(i - 1) in ("ne", "n'"):
            if self.low(i + 1) not in ("pas", "plus", "jamais"):
                return False
            negation, opening = self.low(i + 1), self.words[i - 1][2]
            self.out[i - 1], self.out[i + 1] = "", ""
        if first:
            must = f"{CHILD} ne doit {negation} " if negation else f"{CHILD} doit "
        else:
            must = f"ne {negation} " if negation else ""
        self.out[i] = _keep_case(opening, f"{must}{clitic}{infinitive}")
        return True

    def _te(self, i: int, subject_pending: bool, pupil_clause: bool, named: bool, to_parent: bool) -> Optional[str]:
        elided = self.low(i) == "t'"
        j = i + 1
        if self.low(j) in ("le", "la", "les") and self.lemma.get(j + 1, "") in _INDIRECT and named \
                and not (subject_pending or to_parent):
            self.out[j] = "lui"
            return self.low(j)  # "il te la donne" -> "il la lui donne"
        if self.low(j) in ("le", "la", "les", "l'", "lui", "leur"):
            return None  # "te l'envoie": "le" or "la" ?
        while self.low(j) in ("en", "y"):
            j += 1
        se = "s'" if elided else "se"
        if subject_pending:
            return se  # "tu t'inscris" -> "votre enfant s'inscrit"
        lemma = self.lemma.get(j, "")
        if to_parent and lemma in _ASKING_VERBS:
            return "vous " if elided else "vous"  # "n'hésite pas à te renseigner" -> "à vous renseigner"
        if lemma in _PRONOMINAL:
            return se if pupil_clause else None
        if not named:
            return None  # "lui" or "l'" would refer to no one
        if lemma in _INDIRECT:
            return "lui " if elided else "lui"
        if lemma in _DIRECT and elided:
            return "l'"
        return None

    def _genitive(self, i: int) -> bool:
        """"ton dossier" -> "le dossier de votre enfant", "à tes vœux" -> "aux vœux de votre enfant"."""
        j = i + 1
        while self.pos.get(j) == "ADJ" and j < i + 3:
            j += 1
        if self.pos.get(j) not in ("NOUN", "PROPN"):
            return False
        end = j
        while self._qualifies(end + 1):
            end += 1
        if self.low(end + 1) in ("de", "d'") and self.pos.get(end + 2) == "NOUN":
            end += 2
            while self._qualifies(end + 1):
                end += 1
        if self.low(end + 1) in ("de", "d'", "du", "des", "-"):
            return False
        low, word = self.low(i), self.words[i][2]
        article = {"ton": "le", "ta": "la", "tes": "les"}[low]
        before = self.low(i - 1)
        if article != "les" and _VOWEL_START.match(self.low(i + 1)):
            self.out[i] = ""
            self.out[i + 1] = _keep_case(word, "l'") + self.words[i + 1][2]
        elif before in ("à", "de") and article in ("le", "les"):
            contracted = {("à", "le"): "au", ("à", "les"): "aux", ("de", "le"): "du", ("de", "les"): "des"}
            self.out[i - 1] = _keep_case(self.words[i - 1][2], contracted[before, article])
            self.out[i] = ""
        else:
            self.out[i] = _keep_case(word, article)
        self.out[end] = self.out.get(end, self.words[end][2]) + f" de {CHILD}"
        return True

    def _qualifies(self, i: int) -> bool:
        """An adjective or an acronym after a noun ("ton professeur principal", "tes crédits ECTS")."""
        word = self.words[i][2] if i < len(self.words) else ""
        return self.pos.get(i) == "ADJ" or (len(word) > 1 and word.isupper())

    def _third_singular(self, i: int, low: str) -> Optional[str]:
        """Second person singular -> third: "peux" -> "peut", "pourras" -> "pourra", "passes" -> "passe"."""
        if low in _THIRD:
            return _THIRD[low]
        if low.endswith(("ras", "es")):
            return low[:-1]  # future, -er present, subjunctive
        if low.endswith("ais"):
            return low[:-1] + "t"  # imperfect, conditional; "fais", "sais"
        if not (low in _PRESENT or self.is_verb(i)) or not low.endswith(("s", "x")):
            return None
        if low.endswith("x"):
            return low[:-1] + "t"
        if low.endswith(("ds", "ts", "cs")):
            return low[:-1]  # "prends" -> "prend", "mets" -> "met"
        return low[:-1] + "t"  # "dois" -> "doit", "choisis" -> "choisit", "viens" -> "vient"

    def _gendered(self, j: int) -> bool:
        """An adjective, noun or participle (the tagger reads some as finite verbs) with two forms."""
        if self.pos.get(j) not in ("ADJ", "NOUN", "VERB"):
            return False
        return not _EPICENE.search(self.low(j))

    def _gendered_attribute(self, i: int) -> bool:
        """"tu es inscrit", "tu n'es pas obligé", "tu as été admis": the attribute agrees with the pupil."""
        copula = self.lemma.get(i, "") in _COPULAS or self.low(i) in (
            "es", "seras", "serais", "étais", "sois", "été", "sens", "sentiras", "sentais")
        j = i + 1
        while self.low(j) in _BEFORE_ATTRIBUTE:
            copula = copula or self.low(j) == "été"
            j += 1
        if self.low(j) in ("le", "la") and self.low(j + 1) in ("plus", "moins", "seul", "seule", "premier", "première"):
            return copula  # "tu es la plus à l'aise"
        if self.low(j) in _READ_AS_ADVERBS:
            return copula  # "tu te sens fort": the tagger reads an adverb
        return copula and self._gendered(j)

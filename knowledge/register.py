"""The register of an answer (tutoiement for students, vouvoiement for parents) and the change from one to the other.

Owns ``register_of`` (which register a text addresses its reader in), ``convert`` (tu -> vous and
vous -> tu: pronouns, possessives, verb agreement, imperatives such as "inscris-toi" <->
"inscrivez-vous") and ``without_the_askers_child`` ("votre fils" -> "votre enfant").

The conversion is deliberately conservative: it returns None whenever it meets a verb it cannot
conjugate, or a text whose people do not map one to one (a parent answer about "votre enfant" is not a
student answer with "tu"; a student answer about "tes parents" is not a parent answer with "vous").
What it returns is marked for review by ``knowledge.cluster`` but served.  spaCy's French model gives
the lemmas and parts of speech; its person features on "tu" verbs are unreliable, so the verb that
agrees with "tu"/"vous" is found by its place (after the subject, before "-tu"/"-toi", or an
imperative opening a clause) and conjugated from tables.
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
    "obtiens": "obtenez", "tiens": "tenez", "préviens": "prévenez", "inscris": "inscrivez", "réinscris": "réinscrivez",
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
        if target == VOUS and opens_clause and low.endswith("e") and f"{low}r" in _verb_lemmas() \
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
            if i in self.out:
                continue
            if low == "tu":
                self.out[i] = _keep_case(word, "vous")
                subject_pending = True
            elif low == "tes" and self.low(i + 1) == "parents":
                if self.low(i - 1) in _PREPOSITIONS:
                    return None  # "parles-en à tes parents" has no parent version
                self.out[i], self.out[i + 1] = _keep_case(word, "vous"), ""
                plural = self._vous_from_third_plural(i + 2)
                if plural is None and self.is_verb(i + 2):
                    return None
                if plural is not None:
                    self.out[i + 2] = plural
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
            elif (self.clause_start(i) or (imperative_sentence or low in _IMPERATIVE) and self.low(i - 1) in (",", "et", "puis", "ou")) \
                    and self._looks_imperative(i, low):
                plural = self._vous_imperative(i, low)
                if plural is None:
                    return None
                self.out[i] = _keep_case(word, plural)
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

"""Whether a counsellor's answer can be served to someone else: the checks an answer must pass.

Owns what makes an answer unfit to stand alone, each defect with a short French reason a counsellor
reads in the console: what anonymisation left behind ("[NOM]", a lead-in cut to "Question !", a
sentence whose first name was erased: "Ne repartirait pas de zéro"), broken or unfinished sentences,
replies to an earlier message ("Oui !", "Exactement", "C'est maintenant !", "…, pas mi-juillet",
"Sans doute pas.", "C'est gratuit !"), an "il"/"elle" for someone the answer never names, another
town's offices, a named person, one pupil's age, birthday or situation ("comme tu as moins de 16 ans"),
and agreement with one asker's or their child's gender ("tu es admise", "être acceptée", "votre enfant
est boursière").  Also owns the one repair that is safe: a reply word in front of a sentence that
stands alone ("Oui, tu peux…" -> "Tu peux…").

Pure functions over text; the checks on sentence structure read spaCy's parse (``knowledge.register.parse``):
persons, genders, parts of speech and subjects.  ``knowledge.cluster`` picks the best answer that passes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, List

from knowledge.register import parse

# What anonymisation leaves in place of a name, a place, a contact detail.
PLACEHOLDER = re.compile(r"\[[A-ZÉÈ -]+\]")
# A sentence that contradicts or rates something said before it.
REFERS_TO_EARLIER = re.compile(
    r"se trompe|n'est plus vrai|je pr[ée]cise|ce n'est pas (un|une|le|la|les)? ?\d|c'[ée]tait (la|le|l')|"
    r"pas \d+ ?(%|€|ans|jours|mois)|\d+ ?(%|€), c'est",
    re.I,
)
# "Le reste est exact": the sentence rates an earlier answer.
REST_IS_RIGHT = r"le reste (de (ta|votre|sa) r[ée]ponse |de ce qui a [ée]t[ée] dit )?est (exact|juste|correct|vrai)"
# "Le reste est exact", "c'est exactement ça": an answer that rates what was said before it.
CONFIRMS_EARLIER = re.compile(REST_IS_RIGHT + r"|^\W*(exactement|c'est (exactement |bien )?[çc]a)\b", re.I)
# "la CAES de l'académie de Toulouse", "le CIO de Nantes": right for the asker, not for everyone.
LOCAL_DETAIL = re.compile(
    r"\b(acad[ée]mie|CIO|Crous|CROUS|universit[ée]|fac|r[ée]gion|ville|rectorat|IUT|SCUIO) (de |d'|du )[A-ZÉ][a-zéèê-]+"
)

_MONTH = r"(?:janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|d[ée]cembre)"
# "…, pas mi-juillet", "et non en mars": a date or a figure put right, so the asker had said otherwise.
_CORRECTS_A_CLAIM = re.compile(
    rf",\s*(?:et\s+)?(?:pas|non|et non|plut[ôo]t que)\s+(?:(?:en|à|au|le|la|les|vers|d[èe]s)\s+)?"
    rf"(?:mi-|fin |d[ée]but )?(?:{_MONTH}|\d)|"
    rf"ce n'est pas (?:en |le |à |au |d[èe]s )?(?:mi-|fin |d[ée]but )?{_MONTH}|contrairement à ce que|"
    r"(?:tu te trompes|vous vous trompez|tu confonds|vous confondez)|\(et non (?:pas )?\d",
    re.I,
)
# Words that answer the previous message rather than a question: "Oui !", "Exactement", "Tu es majeur".
_REPLY_OPENING = re.compile(
    r"^\W*(?:alors,?\s+|(?:et|eh|ben|bah),?\s+)?(?:oui|non|si(?=\s*[!,.:])|exactement|tout à fait|effectivement|en effet|justement|absolument|pas tout à fait|"
    r"pas forc[ée]ment|pas vraiment|pas du tout|bien s[ûu]r|c'est (?:exactement |bien )?[çc]a|c'est maintenant|"
    r"(?:tu as|vous avez) (?:bien |tout à fait )?raison|(?:tu es|vous [êe]tes|t'es) majeure?s?|dans ce cas|c'est (?:faux|vrai)|"
    r"ce n'est pas (?:vrai|exact|normal|le même|la même)|c'est (?:justement|l[àa] que)|"
    r"probablement|presque|pas (?:tout de suite|encore|exactement|seulement)|un peu (?:plus|moins)|oui et non|en partie|"
    r"ce n'est pas (?:tout à fait |vraiment |exactement )?(?:la même chose|[çc]a|cela)|c'est (?:exact|le même|la même)|"
    r"(?:dans|pour) (?:ton|votre|ta) cas)\b",
    re.I,
)
_REFERS_TO_THE_ASKER = re.compile(
    r"\b(?:ton|votre) cas\b|\bune l[ée]gende\b|\b(?:ta|votre) (?:2e |deuxi[èe]me |premi[èe]re |autre )?question\b|"
    r"\b(?:votre|ta|ton|tes|vos) (?:petite?-fille|petit-fils|petits-enfants|neveu|ni[èe]ce|fr[èe]re|s[œo]eur|copine?|amie?|voisine?|pote|"
    r"m[èe]re|p[èe]re|maman|papa|mari|[ée]poux|[ée]pouse|conjointe?)s?\b|"
    # The asker's own figures: "tes 27 % sont conformes", "votre 11 de moyenne".
    r"\b(?:votre|ta|ton|tes|vos) \d+(?:[,.]\d+)? ?(?:%|€|euros?|de moyenne)|"
    r"\bcondol[ée]ances\b|\bcomme (?:toi|vous)\b(?! (?:tous|toutes|aussi))|\b(?:a|as|avez|ont) (?:bien |tout à fait )?raison\b|\b(?:je suis|sinc[èe]rement) d[ée]sol[ée]e? (?:pour|de)\b|\bcomme (?:tu (?:le )?(?:dis|l'as dit|disais)|vous (?:le )?(?:dites|l'avez dit))\b|\bc'est maintenant\b",
    re.I,
)
# One pupil's age, majority or birthday: "tu auras 16 ans en mars", "à 26 ans, c'est possible".
_PERSONAL_DETAIL = re.compile(
    r"\b(?:tu|vous|il|elle|votre (?:fils|fille|enfant))\s+(?:as|avez|a|auras|aurez|aura|vas avoir|allez avoir|va avoir|"
    r"f[êe]teras|f[êe]terez|f[êe]tera)\s+(?:d[ée]j[àa]\s+|bient[ôo]t\s+|(?:plus|moins) de\s+)?\d{1,2}\s*ans\b|"
    r"\banniversaire\b|\b(?:tu es|vous [êe]tes|t'es|il est|elle est)\s+n[ée]e?\b|(?:^|[.!?:]\s)\W*à \d{1,2} ans,|"
    r"\b(?:tu es|vous [êe]tes|t'es|il est|elle est|votre enfant est) (?:d[ée]j[àa] |encore |bien )?(?:majeure?|mineure?)s?\b|"
    # The asker's situation given as the reason: "comme tu as moins de 16 ans", "puisque ta formation a débuté en
    # septembre", "c'est le cas de votre enfant" (true of one asker; "si c'est le cas" is a condition, kept apart below).
    r"\b(?:comme|puisque|vu que|[ée]tant donn[ée] que)\s+(?:tu|t'|vous|votre enfant|(?:ton|ta|tes|votre|vos)\s+[\w-]+)\s+"
    r"(?:ne\s+|n')?(?:es|est|êtes|as|a|avez|étais|était|étiez|avais|avait|aviez|restes?|restez)\b|"
    r"\bc'est (?:bien |justement |d[ée]j[àa] )?le cas (?:de|d')\s*(?:ton|ta|tes|votre|vos)\b",
    re.I,
)
# "si tu es majeur", "quand il est mineur": a condition, true of no one in particular.
_CONDITION_BEFORE = re.compile(r"\b(?:si|s'|quand|lorsqu'|lorsque|tant qu'|tant que|d[èe]s qu'|d[èe]s que)\s*$", re.I)
_NAMED_PERSON = re.compile(r"\b(?:M\.|Mme|Mlle|Monsieur|Madame)\s+[A-ZÉ][a-zéèêë-]+")
# A gender-marked word agreeing with the person addressed: "tu es admise", "vous êtes inquiète".
_ADDRESSED_STATE = re.compile(
    r"\b(?:tu es|tu seras|tu [ée]tais|tu sois|tu as [ée]t[ée]|t'es|tu restes|tu te sens|tu deviens|"
    r"vous [êe]tes|vous serez|vous [ée]tiez|vous soyez|vous avez [ée]t[ée]|vous restez|vous vous sentez|vous devenez)\s+"
    r"(?:(?:tr[èe]s|bien|d[ée]j[àa]|pas|plus|encore|toujours|vraiment|trop|si|aussi|tout|donc|alors|peut-[êe]tre|s[ûu]rement)\s+)*"
    r"(?P<word>[^\W\d_]+)",
    re.I,
)
_FEMININE_ENDING = re.compile(
    r"(?:[ée]e|ise|ite|euse|ive|i[èe]re|ienne|[èê]te|nte|rte|[^q]ue|eure|elle|onne|ette|[ûu]re|ule|ace|lle)s?$", re.I
)
# Words with these endings that are not feminine agreement ("tu es juste", "tu es libre", "tu es en…").
_NOT_GENDER_MARKED = {
    "juste", "apte", "calme", "libre", "capable", "triste", "sincère", "seule", "seules", "elle", "celle", "quelle",
    "quelque", "utile", "habile", "facile", "difficile", "responsable", "mineure", "majeure", "une", "belle", "tenue",
}
# An answer opening on a pronoun for the original question's subject ("Elle ne saute pas…" = the grant).
_OPENS_ON_A_PRONOUN = re.compile(
    r"^\W*(?:elles?|ils|lui|celle-ci|celui-ci|[çc]a|cela|ces|cette|cet|ce (?!n'|qui|que|sont|dernier))\b|^\W*il\b(?! (?:y|faut|est|s'agit|existe|suffit|vaut|reste|n'y|ne (?:faut|s'agit)))",
    re.I,
)
# "votre fille" is left where "elle" agrees with her (``knowledge.register.without_the_askers_child``).
_ASKERS_DAUGHTER = re.compile(r"\b(?:votre|ta) fille\b", re.I)
_CUT_LEAD_IN = re.compile(r"^\W*question\s*[!,.:]", re.I)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
# A sentence whose subject anonymisation took away: "[NOM] devra présenter ce contrat" -> "Devra présenter…".
# The commonest verbs, which the tagger often reads as nouns at a sentence's start ("Peut…", "Devra…");
# ``_opens_without_a_subject`` finds the others ("Ne repartirait…", "Remplit…").
_NO_SUBJECT = re.compile(
    r"^(?:n'|ne )?(?:est|a|peut|doit|sont|ont|peuvent|doivent|faut|sera|aura|pourra|devra|fera|ira|pourront|devront|auront|"
    r"seront|pourrait|devrait|aurait|serait)\b(?!-)",
    re.I,
)
_UNFINISHED = re.compile(r"(?:[,;:]|\b(?:et|ou|de|à|le|la|les|pour|avec|du|des|un|une))\s*$", re.I)
_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class Defect:
    code: str
    reason: str  # French, for the counsellors who review the entry


# Each defect with the reason shown in the console: tunable wording, kept together.
REASONS = {
    "placeholder": "contient un nom, un lieu ou une coordonnée effacés ([NOM], [LIEU]…)",
    "cut_lead_in": "commence par une formule tronquée par l'anonymisation (« Question ! »)",
    "fragment": "une phrase est incomplète (sans sujet ou inachevée)",
    "replies_to_earlier": "répond à un message précédent (« Oui », « Exactement », « C'est maintenant »…)",
    "needs_the_question": "commence par un pronom qui renvoie à la question d'origine (« Elle ne… »)",
    "no_antecedent": "un « il » ou « elle » ne renvoie à rien dans la réponse (l'enfant ou la chose dont parlait la question)",
    "corrects_a_claim": "corrige ce que la personne avait écrit (« …, pas mi-juillet »)",
    "local_detail": "parle d'une académie, d'une ville ou d'un service local précis",
    "named_person": "nomme une personne",
    "personal_detail": "parle de l'âge, de la majorité, de l'anniversaire ou de la situation d'un élève",
    "gendered": "accordée au genre de la personne qui avait demandé ou de son enfant (« tu es admise », « votre fille »)",
}


def _defect(code: str) -> Defect:
    return Defect(code, REASONS[code])


def sentences(text: str) -> List[str]:
    return [s for s in _SENTENCE.split(text.strip()) if s]


# A first sentence that only reacts to the question ("C'est possible.", "Bravo pour ton bac !"): it says nothing
# the rest does not, and it cannot be served to someone who asked something else.
_FILLER_OPENING = re.compile(
    r"^\W*(?:(?:alors,?\s+)?c'est (?:tout à fait |bien |souvent |donc |encore )?(?:possible|envisageable|ok|normal|faisable|jouable)"
    r"|bravo[^.!?]*|ce n'est pas (?:foutu|grave|trop tard)|pas de panique|rien de grave|bonne nouvelle|"
    r"rassure-toi|rassurez-vous|bonne question)\s*[.!:]+\s+|^\W*alors,?\s+(?=\w)",
    re.I,
)


_REPLY_WORD = re.compile(
    r"^\W*(?:alors\s+)?(?:oui|non|si|tout à fait|effectivement|en effet|absolument)(?:,? (?:bien s[ûu]r|tout à fait))?\s*[!,.:]+\s*",
    re.I,
)
# What must follow a dropped reply word for the rest to stand alone ("Non, pas avant mars" needs its "Non").
_NEEDS_THE_REPLY_WORD = {"pas", "mais", "et", "sauf", "plutôt", "non"}


def _without_opening(text: str) -> str:
    filler = _FILLER_OPENING.match(text)
    if filler and len(text[filler.end():].split()) >= 6:
        rest = text[filler.end():]
        return rest[:1].upper() + rest[1:]
    match = _REPLY_WORD.match(text)
    if not match:
        return text
    rest = text[match.end():]
    if len(rest.split()) < 5 or rest.split()[0].lower() in _NEEDS_THE_REPLY_WORD:
        return text
    return rest[:1].upper() + rest[1:]


def stand_alone(text: str) -> str:
    """Without a reply word in front ("Oui !", "Non,", "Tout à fait :") when the sentence after it stands alone,
    nor a first sentence that only reacts to the question ("Oui, c'est possible.")."""
    previous = None
    while previous != text:
        previous, text = text, _without_opening(text)
    return text


def is_gender_marked(word: str) -> bool:
    """A feminine form whose masculine differs ("admise", "boursière"; not "libre", "juste")."""
    return word.lower() not in _NOT_GENDER_MARKED and bool(_FEMININE_ENDING.search(word))


def _sentence_tokens(text: str) -> Iterator[list]:
    """The text read by spaCy once, cut where ``sentences`` cuts it (spaCy's own sentences split "M. Durand")."""
    starts = [0] + [m.end() for m in _SENTENCE.finditer(text)]
    current: list = []
    for token in parse(text):
        if current and token.idx in starts:
            yield current
            current = []
        current.append(token)
    if current:
        yield current


_LIKE_AN_IMPERATIVE = ("e", "s", "x")
# Clitics and negation between a sentence's start and its verb: "Ne repartirait…", "S'inscrit…".
_BEFORE_THE_VERB = {"ne", "n'", "se", "s'", "en", "y", "le", "la", "les", "l'", "lui", "leur"}


def _has_subject(verb) -> bool:
    """A subject on the verb, or on the word an auxiliary or a copula serves ("A été rompu", "Est gratuite")."""
    holders = [verb, verb.head] if verb.dep_.startswith(("aux", "cop")) else [verb]
    return any(child.dep_.startswith(("nsubj", "expl", "csubj")) for holder in holders for child in holder.children)


def _opens_without_a_subject(text: str) -> bool:
    """A sentence opening on a verb in the third person with no subject: anonymisation took a first name away
    ("Alice ne repartirait pas de zéro" -> "Ne repartirait pas de zéro").

    Forms an imperative shares are left ("Contacte le CIO", "Va voir", "N'attends pas"), and plurals, whose
    subject may follow ("Restent les frais d'internat").
    """
    for tokens in _sentence_tokens(text):
        words = [t for t in tokens if not t.is_punct]
        j = 0
        while j < len(words) - 1 and words[j].lower_ in _BEFORE_THE_VERB:
            j += 1
        if not words:
            continue
        verb = words[j]
        inverted = j + 1 < len(words) and words[j + 1].text.startswith("-")  # "Faut-il", "Peut-on"
        # In context the tagger sometimes gives no person nor number ("Présentera ensuite ce contrat…"): the ending
        # tells a plural ("-nt") apart.
        third_singular = (verb.morph.get("Person") == ["3"] and verb.morph.get("Number") == ["Sing"]) or (
            not verb.morph.get("Person") and not verb.morph.get("Number") and not verb.lower_.endswith("nt"))
        if verb.pos_ in ("VERB", "AUX") and verb.morph.get("VerbForm") == ["Fin"] and third_singular \
                and not verb.lower_.endswith(_LIKE_AN_IMPERATIVE) \
                and verb.lower_ != "va" and not inverted and not verb.dep_.startswith("nsubj") and not _has_subject(verb):
            return True
    return False


# "il faut", "il s'agit", "il reste", "il vaut mieux": an "il" that stands for no one.
_IMPERSONAL_VERBS = {"falloir", "agir", "suffire", "valoir", "exister", "rester", "sembler", "arriver", "paraître",
                     "manquer", "convenir"}
# "il est possible de…", "il n'est pas trop tard pour…", "il y a".
_IMPERSONAL_IL = re.compile(
    r"^il (?:y\b|n'y\b|(?:ne |n')?(?:peut|pourra|pourrait|doit|devrait|va|risque d') ?(?:\w+ )?y avoir\b|"
    r"(?:ne |n')?(?:est|était|sera|serait|para[iî]t|semble)\s+(?:(?:pas|plus|toujours|donc|bien|aussi|encore|"
    r"souvent|parfois|tout|très|trop|vivement|fortement)\s+)*(?:[\w-]+\s+(?:de|d'|que|qu'|pour|à)\b|temps\b|l'heure\b))",
    re.I,
)


def _antecedent_fits(noun, pronoun) -> bool:
    if pronoun.lower_ == "elle" and noun.lemma_ == "enfant":
        return False  # "votre enfant… elle": the asker's daughter, not the word "enfant" (masculine)
    gender, number = pronoun.morph.get("Gender"), pronoun.morph.get("Number")
    noun_gender, noun_number = noun.morph.get("Gender"), noun.morph.get("Number")
    return (not noun_gender or noun_gender == gender) and (not noun_number or noun_number == number)


def _pronoun_without_antecedent(text: str) -> bool:
    """An "il"/"elle" standing for no noun in its sentence or the one before: someone the original question named
    ("votre fils" turned "votre enfant", then "elle peut…"; "s'il a déjà un contrat" about one apprentice).

    "il faut", "il est possible de" stand for no one; "votre enfant" is an antecedent for "il", not for "elle",
    which only the asker's daughter was.
    """
    previous: list = []
    resolved = set()  # pronouns that had an antecedent: "Elle est calculée… Elle est versée…" goes on about it
    for tokens in _sentence_tokens(text):
        for k, token in enumerate(tokens):
            if token.lower_ not in ("il", "elle") or token.pos_ != "PRON":  # spaCy keeps "-il" of "peut-il" apart
                continue
            if token.lower_ == "il" and (token.head.lemma_ in _IMPERSONAL_VERBS
                                         or _IMPERSONAL_IL.match(text[token.idx:token.idx + 80])):
                continue
            if not any(_antecedent_fits(word, token) for word in previous + tokens[:k] if _names_something(word, resolved)):
                return True
            resolved.add(token.i)
        previous = tokens
    return False


def _names_something(token, resolved: set) -> bool:
    """A noun, a word an article makes one ("tout jeune", "la 3e"), or a pronoun that had its own antecedent."""
    if token.pos_ in ("NOUN", "PROPN") or token.i in resolved:
        return True
    before = token.doc[token.i - 1] if token.i else None
    return token.pos_ in ("ADJ", "NUM") and before is not None and (before.pos_ == "DET" or before.lower_ == "tout")


_FIRST_CLAUSE = re.compile(r"^\W*(?P<clause>[^.!?:]+?)\s*[.!:]+(?:\s|$)")
# Quantities that answer "how many?" or "which?" with no verb: "Les deux !", "Une par vœu :", "Aucun classement."
_QUANTITIES = {"aucun", "aucune", "deux", "chaque", "tous", "toutes", "un", "une", "beaucoup"}
# Verbless openings that announce what follows instead of answering: "Attention :", "En bref :", "Étape 1 :".
_HEADINGS = {"attention", "bref", "résumé", "résumer", "étape", "rappel", "exemple", "bonjour"}


def _opens_on_a_reaction(text: str) -> bool:
    """A short first clause that answers the original question instead of stating the rule: a verbless reply
    ("Sans doute pas.", "Plus tout à fait :", "Une par vœu :", "Les deux !") or "c'est" with an attribute of
    what the question named ("C'est gratuit !", "Ce n'est pas automatique.")."""
    match = _FIRST_CLAUSE.match(text)
    if not match or len(match.group("clause").split()) > 4 or match.end() >= len(text.rstrip()):
        return False
    tokens = [t for t in parse(match.group("clause")) if not t.is_punct]
    words = {t.lower_ for t in tokens}
    if words & _HEADINGS or not tokens:
        return False
    # "La mention compte beaucoup :", "P-TECH dure cinq ans :" name what they speak of (the tagger may miss the verb).
    names_its_subject = tokens[0].pos_ in ("NOUN", "PROPN") or (
        len(tokens) > 1 and tokens[0].morph.get("Definite") == ["Def"] and tokens[1].pos_ == "NOUN")
    if not any(t.pos_ in ("VERB", "AUX") for t in tokens):
        return not names_its_subject and (any(t.pos_ in ("ADV", "NUM") for t in tokens) or bool(words & _QUANTITIES))
    return tokens[0].lower_ in ("c'", "ce") and tokens[-1].pos_ in ("ADJ", "VERB") and tokens[-1].dep_ == "ROOT"


# Who an answer's agreement must not show: the person addressed ("je" is the counsellor).
_ADDRESSED = {"tu", "t'", "toi", "vous"}


def _unsaid_agreements(text: str) -> Iterator:
    """A feminine word agreeing with the asker or their child rather than with a noun of the answer:
    "tu n'es pas étudiante", "il te faut être acceptée par un CFA", "votre enfant est boursière", "sous statut
    scolaire, suivie par le lycée" (a participle that no noun before it can be).

    Read with spaCy: the word's subject (its own, or that of the verb it completes: "il faut être acceptée") is the
    person addressed, "votre enfant" or the impersonal "il"; or, set apart by a comma, it has no feminine noun before it.
    """
    for token in parse(text):
        if token.morph.get("Gender") != ["Fem"] or token.pos_ not in ("ADJ", "NOUN", "VERB") or not is_gender_marked(token.text):
            continue
        if token.pos_ == "VERB" and token.morph.get("VerbForm") != ["Part"]:
            continue
        if token.i and token.doc[token.i - 1].text == "," and token.morph.get("VerbForm") == ["Part"]:
            # Set apart by a comma, a participle agrees with a noun said before it in the sentence (its article
            # shows the gender when the tagger does not), or with the person addressed.
            if not any(t.pos_ in ("NOUN", "DET") and t.morph.get("Gender") == ["Fem"] for t in token.sent if t.i < token.i):
                yield token
            continue
        if token.dep_.startswith(("amod", "acl")):
            continue  # "un parcours de remise à niveau", "l'adresse des représentants indiquée": the tagger attaches freely
        attribute = any(child.dep_.startswith(("cop", "aux:pass")) for child in token.children)
        if not attribute:
            continue
        holder = token
        while not any(c.dep_.startswith(("nsubj", "expl")) for c in holder.children) and holder.dep_ == "xcomp" \
                and holder.head is not holder:
            holder = holder.head
        subjects = [c for c in holder.children if c.dep_.startswith(("nsubj", "expl"))]
        if any(s.lower_ in _ADDRESSED or s.lemma_ == "enfant" or s.dep_.startswith("expl") and s.lower_ == "il" for s in subjects):
            yield token


def answer_defects(text: str) -> List[Defect]:
    """What keeps this answer from being served to someone else as it is (empty: it stands alone)."""
    found: List[str] = []
    bare = _URL.sub("https://lien", text)
    if PLACEHOLDER.search(bare):
        found.append("placeholder")
    if _CUT_LEAD_IN.search(bare) or re.search(r"(?<=[.!?])\s+Question\s*!", bare):
        found.append("cut_lead_in")
    parts = sentences(bare)
    if any(_NO_SUBJECT.match(s) for s in parts) or _UNFINISHED.search(bare) or _opens_without_a_subject(bare):
        found.append("fragment")
    if _REPLY_OPENING.match(bare) or CONFIRMS_EARLIER.search(bare) or _REFERS_TO_THE_ASKER.search(bare) \
            or _opens_on_a_reaction(bare):
        found.append("replies_to_earlier")
    if _pronoun_without_antecedent(bare):
        found.append("no_antecedent")
    if _OPENS_ON_A_PRONOUN.match(bare):
        found.append("needs_the_question")
    if _CORRECTS_A_CLAIM.search(bare) or REFERS_TO_EARLIER.search(bare):
        found.append("corrects_a_claim")
    if LOCAL_DETAIL.search(bare):
        found.append("local_detail")
    if _NAMED_PERSON.search(bare):
        found.append("named_person")
    if any(not _CONDITION_BEFORE.search(bare[: m.start()]) for m in _PERSONAL_DETAIL.finditer(bare)):
        found.append("personal_detail")
    if any(is_gender_marked(m.group("word")) for m in _ADDRESSED_STATE.finditer(bare)) or _ASKERS_DAUGHTER.search(bare) \
            or any(_unsaid_agreements(bare)):
        found.append("gendered")
    return [_defect(code) for code in found]

"""Whether a counsellor's answer can be served to someone else: the checks an answer must pass.

Owns what makes an answer unfit to stand alone, each defect with a short French reason a counsellor
reads in the console: what anonymisation left behind ("[NOM]", a lead-in cut to "Question !"),
broken or unfinished sentences, replies to an earlier message ("Oui !", "Exactement", "C'est
maintenant !", "…, pas mi-juillet"), another town's offices, a named person, one pupil's age or
birthday, and agreement with one asker's gender ("tu es admise").  Also owns the one repair that is
safe: a reply word in front of a sentence that stands alone ("Oui, tu peux…" -> "Tu peux…").

Pure functions over text; ``knowledge.cluster`` picks the best answer that passes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List

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
    r"^\W*(?:alors,?\s+)?(?:oui|non|si(?=\s*[!,.:])|exactement|tout à fait|effectivement|en effet|justement|absolument|pas tout à fait|"
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
    r"f[êe]teras|f[êe]terez|f[êe]tera)\s+(?:d[ée]j[àa]\s+)?\d{1,2}\s*ans\b|\banniversaire\b|"
    r"\b(?:tu es|vous [êe]tes|t'es|il est|elle est)\s+n[ée]e?\b|^\W*à \d{1,2} ans,|"
    r"\b(?:tu es|vous [êe]tes|t'es|il est|elle est|votre enfant est) (?:d[ée]j[àa] |encore |bien )?(?:majeure?|mineure?)s?\b",
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
    "corrects_a_claim": "corrige ce que la personne avait écrit (« …, pas mi-juillet »)",
    "local_detail": "parle d'une académie, d'une ville ou d'un service local précis",
    "named_person": "nomme une personne",
    "personal_detail": "parle de l'âge, de la majorité ou de l'anniversaire d'un élève",
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


def _is_gender_marked(word: str) -> bool:
    return word.lower() not in _NOT_GENDER_MARKED and bool(_FEMININE_ENDING.search(word))


def answer_defects(text: str) -> List[Defect]:
    """What keeps this answer from being served to someone else as it is (empty: it stands alone)."""
    found: List[str] = []
    bare = _URL.sub("https://lien", text)
    if PLACEHOLDER.search(bare):
        found.append("placeholder")
    if _CUT_LEAD_IN.search(bare) or re.search(r"(?<=[.!?])\s+Question\s*!", bare):
        found.append("cut_lead_in")
    parts = sentences(bare)
    if any(_NO_SUBJECT.match(s) for s in parts) or _UNFINISHED.search(bare):
        found.append("fragment")
    if _REPLY_OPENING.match(bare) or CONFIRMS_EARLIER.search(bare) or _REFERS_TO_THE_ASKER.search(bare):
        found.append("replies_to_earlier")
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
    if any(_is_gender_marked(m.group("word")) for m in _ADDRESSED_STATE.finditer(bare)) or _ASKERS_DAUGHTER.search(bare):
        found.append("gendered")
    return [_defect(code) for code in found]

"""Distress and danger detection.

Owns the decision "this message shows distress or danger", which must never
depend on a statistical model alone: a student who writes about wanting to die
gets the emergency numbers at once even if the classifier hesitates.  The
patterns run on normalised text (``orientbot.normalise``) and are deliberately
broad: a false alarm costs a counsellor a minute, a miss can cost a life.

Recall first: a message is distress when any pattern matches OR, when one is
given, the learned classifier (``orientbot.detectors``) reaches its threshold.
The patterns include distress told indirectly or by someone else (a parent about
their child, a friend about a friend), written from the transcripts' own
distress conversations; ordinary wording that used to set them off ("en finir
avec ce dossier", "un jeu vidéo violent", "ne plus toucher à rien" on a file)
is excluded where it was found.  ``python -m orientbot.detectors`` measures how
often the patterns fire on the transcripts' ordinary questions.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Protocol

from orientbot.normalise import normalise
from orientbot.settings import DetectorSettings

# A file, a form, a platform: "une bêtise" or "en finir" about them is not about oneself.
_PAPERWORK = (
    r"dossier|voeux|sousvoeux|parcoursup|affelnet|candidature|confirm\w*|inscri\w*|formulaire|saisie|valid\w*"
    r"|clique\w*|supprim\w*|coche\w*|case|bouton|espace|compte parcoursup|bourse|crous|lettre de motivation"
    r"|projet motive|toucher a rien|touche a rien|touche plus a rien|choix|orientation|spe\w*|option"
)
# Misbehaving at school ("il a fait une bêtise, il est exclu"): a matter for the school, not the 3114.
_DISCIPLINE = r"exclu\w*|conseil de discipline|sanction\w*|punition|puni|colle|heures? de retenue|renvoy\w*|avertissement|convoqu\w*"

# Checked in this order: the most serious kind wins when several match.
_PATTERNS = {
    "suicide": [
        r"\bsuicid", r"(?<!\bva )(?<!\bvont )(?<!\bveut )(?<!\bveulent )(?<!\ballait )(?<!\bvoulait )\bme tuer\b(?! (a la tache|au travail|pour))",
        r"\b(se|te) tuer\b(?! (a la tache|au travail|pour))", r"\b(je|il|elle) (me|se) tue\b(?! (a la tache|au travail))", r"\ben finir\b(?! avec (?!(la vie|ma vie|sa vie|cette vie|tout|moi)\b))",
        r"\b(me|se|te) (foutre|jeter|lancer) (en le air|sous|par|du haut)",
        r"\bmourir\b", r"\bmeurs?\b.*\b(envie|veux)",
        r"\b(envie|veux|veut|voudrais|voudrait) (de )?(mourir|disparaitre|crever)",
        r"\bdisparaitre\b", r"\bplus (envie|la force) de (vivre|rien)", r"\bpas envie de vivre",
        r"\b(veux|veut|voulait|voudrait|voudrais) plus vivre\b", r"\bplus (etre |etre la|la)\b.*\b(mieux|personne)\b",
        r"\bsi (je|il|elle|tu) (ne )?(etais|serais|etait|serait|etait) plus la\b",
        # A goodbye message (a story, a text to a friend): "demain jserai plus la, desolee", "c fini pour moi".
        r"\b(?:(?:je|il|elle|tu) (?:ne )?(?:serai|sera|serais|serait|seras)|jserai) (?:bientot |surement |peut etre )?plus la\b"
        r"(?! (en|a|au|aux|le|la|les|l|pour|des|de|du|cette|ce|cet|jusque|pendant|apres|avant|demain|lundi|mardi|mercredi"
        r"|jeudi|vendredi|samedi|dimanche|ce soir|ensuite|quand|si|car|parce)\b)",
        r"\bplus etre la\b(?! (en|a|au|aux|pour|le|la|les|cette|ce|pendant|demain|lundi|vendredi|samedi)\b)",
        r"\bce est fini pour moi\b", r"\bmerci pour tout\b.*\bprends? soin de (toi|vous)\b", r"\badieux?\b",
        r"\bsauter (du|de le|de un|par la|par le|de la|sous un|sous le|d un) (pont|fenetre|toit|immeuble|balcon|train|haut|falaise|viaduc)",
        r"\bpense\w* (souvent |tout le temps |beaucoup |parfois )?a la mort\b", r"\bmarre de tout\b(?! (ce|ca|les|le|la|ces))",
        r"\b(plus|aucune|pas de|aucun) (de )?(raison|interet|sens) de vivre\b", r"\binteret de vivre\b",
        # "Faire une bêtise", a parent's veiled word for an attempt -- not a mistake on a file, nor misbehaving.
        # Someone else: "j'ai peur qu'il fasse une bêtise" (whatever else the message is about).
        r"\bque (il|elle|ils|elles|mon \w+|ma \w+|notre \w+|mon petit \w+|ma petite \w+) (ne )?(fasse|fassent|refasse"
        r"|refassent|commette|fera|ferait) (une|des|la|sa) (grosse |grave |vraie )?betises?\b(?! (sur|dans|en|avec|a|au) )",
        # Oneself: "peur de faire une bêtise" is mostly about a file; only without one in the message.
        r"^(?!.*\b(?:" + _PAPERWORK + r")\b).*\b(peur|crains|craint|crainte|inquiet|inquiete|envie)\b.{0,15}"
        r"\bde (faire|refaire) (une|des) (grosse |grave |vraie )?betises?\b",
        # Done: "elle a fait une bêtise cette nuit" -- not on a file, nor misbehaving at school.
        r"^(?!.*\b(?:" + _DISCIPLINE + r")\b).*\b(a|as|ai|avait|aurait|ont|avoir|de) (fait|refait) (une|des|la) "
        r"(grosse |grave |vraie )?betises?\b(?!.{0,40}\b(" + _PAPERWORK + r")\b)",
        r"\b(avale|avaler|avalait|avalee|pris|prendre) (des|tous|toutes|ses|mes|une boite|toute une boite|plein de|trop de)"
        r" (de )?(medicaments|cachets|pilules|comprimes|somniferes)\b",
        r"\bje (ne )?sers a rien\b",
        r"\b(me|se|te) (suis |est |etait )?(coupe|coupee|coupes|coupent|couper|coupait|coupaient)\b"
        r"(?! (les cheveux|la parole|le souffle|de tout|de (mes|ses|la|le|les) \w+|du monde|en (deux|quatre)))",
        r"\b(me|se) (fais|fait|faisait|faisais|suis fait|est fait) (des )?(griffures|marques|entailles|coupures|brulures)\b",
        r"\bidees? noires?\b", r"\b(dit|dis|pense|croit|ecrit)\w* que (il|elle) (ne )?sert a rien\b",
        r"(?<!\bca )(?<!\bcela )(?<!\bce )\b(me|se|te) (faire|fait|fais|faisait|suis fait|est fait) du mal\b",
        r"\bscarif", r"\bautomutil", r"\bmutil", r"\bjpp\b.*\bvie\b", r"\bje en peux plus de (cette|ma|la) vie\b",
        r"\bcrever\b", r"\bpendre\b", r"\bmedicaments? pour (dormir pour toujours|mourir|en finir)",
        r"\bne plus (me|se) reveiller\b",
    ],
    "enfance-en-danger": [
        r"\bme (frappe|frappent|frapper|bat|battent|battre|tape|tapent|taper|gifle|giflent|cogne|cognent)\b(?! sur (les|le) (nerfs|systeme))",
        r"\b(frapp\w*|battu|battue|tabasse|tabassee)s?\b.*\b(pere|mere|beau pere|belle mere|parents?|oncle|frere|papa|maman)\b",
        r"\b(pere|mere|beau pere|belle mere|parents?|oncle|frere|papa|maman)\b.*\b(frapp|bat|baffe|gifle|etrangl|cogne|tape|punit avec)",
        # "il/elle va me tuer": someone else threatens (the transcripts' "elle va me tuer" is a beaten child's).
        r"\b(va|vont|veut|veulent|allait|voulait) me tuer\b",
        r"\bbaffe", r"\bgifle", r"\betrangl", r"\bcoups?\b.*\b(ceinture|poing|pied)", r"\bdes coups\b", r"\btraces? de coups\b",
        r"\b(avec|de) (la|sa) ceinture\b", r"\bserre\w* (le|mon|son|ton) cou\b", r"\bpas pu respirer\b",
        r"\b(a|as|ai|avait|avoir|plein de|souvent|tout le temps|toujours) (des )?bleus\b", r"\bdes bleus (sur|partout|tout le temps)\b",
        r"\b(peur|peu) de rentrer (chez (moi|elle|lui|nous|eux|soi)|a la maison|a le maison)",
        r"\bmaltrait", r"\bvioler\b", r"\bviol(e|ee|ees|s)?\b(?! (de |du )?(la |le |les |des |ce |cette |mon |son |sa |notre )?"
        r"(regle|loi|reglement|droit|vie privee|secret|contrat|charte|procedure|confidentialite|principe))",
        r"\b(il|elle|ils|elles|pere|mere|beau pere|belle mere|parents|copain|frere|oncle|papa|maman|mari|coach|entraineur)"
        r" (ne )?(est|sont|etait|etaient|devient|deviennent|devenu|peut etre|se montre) (souvent |tres |trop |parfois |de plus en plus |super )?violente?s?\b",
        r"\bviolente?s? avec (moi|lui|elle|nous|eux|mon|ma|mes|son|sa|ses)\b",
        r"\battouch", r"\bagression sexuelle", r"\babus(e|ee|ent|er)? (de moi|sexuel)", r"\binceste",
        r"\bpeur de (mon|ma|mes|son|sa|ses) (pere|mere|beau pere|belle mere|parents|oncle|papa|maman)", r"\benfant en danger\b",
        r"\bmet (a|a la) (porte|rue)\b.*\b(peur|frappe)",
        r"\b(pere|mere|parents?|beau pere|belle mere|papa|maman)\b.{0,40}\b(mis|met|mettent|jete|jetes|vire)\w* (a la porte|dehors)\b",
        r"\bviolences?\b",
        r"(?<!\bca )(?<!\bcela )(?<!\bce )\b(me|la|le|les) (touche|touchent|touchait|tripote|tripotent|caresse|caressent)\b"
        r"(?! (a|pas|plus|de|du|en|au|beaucoup|vraiment|profondement|enormement))",
        r"\btouche\w* (a )?(un|une|des|mon|ma|mes|son|sa|ses) (copain|copine|camarade|eleve|enfant|fils|fille|ami|amie|pote|soeur|frere)s?\b",
        r"\b(trucs|choses) (que|qu) (je|j) (ne )?(veux|veut|voulais) pas\b", r"\bfait des (trucs|choses) bizarres\b",
        r"\btouche\w*\b.{0,30}\b(alors que|sans que|quand) (je|il|elle) (ne )?(voulais|voulait|veux|veut) pas\b", r"\bnotre secret\b", r"\bvient dans (ma|sa|la) chambre (la nuit|le soir)\b", r"\bporno",
        r"\b(coach|entraineur|surveillant|professeur|adulte|beau pere|animateur|moniteur)\b.{0,60}\b(demande|veut|envoie|reclame)\w*"
        r"( aussi)?( des messages pour avoir)? des photos\b(?! de identite)",
    ],
    "cyberharcelement": [
        r"\bcyber ?harcel", r"\bnudes?\b", r"\bphotos? (intimes?|de moi)\b.*\b(poste|publie|circule|tourne|envoy|partag|menac)",
        r"\b(poste|publie|partage|diffuse)\w* (des )?(photos?|videos?) de moi", r"\bfaux compte\b", r"\bcompte\b.*\b(moquer|se moquer|insulter)",
        r"\bchantage\b", r"\bsextorsion",
        r"\b(poste|postent|publie|publient|diffuse|diffusent)\w* (en son nom |en mon nom )?(des )?(montages?|photos? truquees?|messages insultants)",
        r"\b(photos?|videos?|montages?|images?) truquee?s?\b", r"\bmontages?\b.{0,40}\b(nue?s?|de moi|ma tete|sa tete|degueu\w*)\b",
        # "font circuler des montages de notre fille": what is spread about someone, told by a parent too.
        r"\b(font|fait|faire) (circuler|tourner) (des |les )?(photos?|videos?|montages?|images?|rumeurs?)\b", r"\bcompte\b.{0,30}\bpirate\w*\b.{0,80}\b(publi|post|insult|photos?|videos?|messages|moqu|montage)",
        r"\bcompte (insta\w*|tiktok|snap\w*|anonyme|facebook|twitter)\b.{0,60}\b(publie|poste|photos?|videos?|commentaires)",
        r"\b(vise|visee)s? par un compte\b", r"\bprises? en cachette\b",
        r"\b(ca|elle|la video|les photos|la photo|le groupe)\b.{0,20}\b(tourne|tournent|circule|circulent)\b.{0,20}\b(partout|dans toutes?|a tout)",
        r"\bsinon (il|elle|ils|elles|on) (les )?(envoie|envoient|publie|publient|poste|postent|diffuse|diffusent|montre|montrent)\b",
        r"\b(va|vont) les (mettre|envoyer|publier|poster|diffuser|montrer) (sur|a)\b",
        r"\b(demande|demandent)\w* (aussi )?des photos (de moi|de elle|de lui|de toi)\b", r"\bpour avoir des photos\b",
        r"\bgroupe\b.{0,60}\b(insult|moqu)",
    ],
    "harcelement": [
        r"\bharcel", r"\bse moqu(e|ent|ait|aient|er)\b.{0,10}\bde (moi|lui|elle|mon fils|ma fille)\b", r"\bmoquent de moi\b",
        r"\bse fou(t|tent|tait) de (moi|lui|elle)\b",
        r"\b(me|te|le|la|les|nous) insult(e|ent|ait|aient|er)\b", r"\bse (fait|font|faisait|fais) insulter\b",
        r"\b(insult|moqu|embete|bouscul|frapp|rackett|menac)\w*\b.{0,60}\b(tous les (jours|soirs|matins)|tout le temps)\b",
        r"\bmenace(s|nt)?\b", r"\bmenacants?\b", r"\bmessages? menacants?\b",
        r"\bracket", r"\brejete(e)? par (tout|toute) (le monde|la classe)", r"\btout le monde (se moque|me deteste)",
        r"\bpersonne (ne )?me parle\b.*\b(classe|college|lycee)",
        r"\b(veux|veut|voulait|voudrait) plus (jamais )?(aller|retourner) (en cours|au college|au lycee|a (l|le) ecole|en classe)",
        r"\brefuse\w* de (y retourner|(aller|retourner) (en cours|au college|au lycee|a (l|le) ecole|en classe))\b", r"\bbouc emissaire", r"\bhumili", r"\bmartyris", r"\bbizut",
        r"\bse (fait|font|faisait|fais) (frapper|taper|insulter|harceler|racketter|humilier|agresser|menacer|embeter|bousculer|traiter)",
        r"\b(frappe|tape|insulte|agresse|menace)(e|es|s)? (par|a cause)\b",
        r"\b(me|te) (traite|traitent|traitaient|surnomme|surnomment)\b", r"\b(le|la|les) (traitent|surnomment) de\b",
        r"\b(me|te|le|la|les) bouscul\w*", r"\b(me|le|la|les) pouss\w* (dans|par) (les|le|l) (escaliers?|couloirs?|terre)",
        r"\b(piquent|prennent|volent|jettent|cachent|cassent)\b.{0,20}\b(mes|ses|nos|son|sa|mon|ma) (affaires|gouter|argent|sac|trousse)\b",
        r"\b(le|la|les|me|te) (frappe|frappent|cognent)\b", r"\b(ils|elles|on|eleves|monde) (le|la|les|me|te|nous) (tape|tapent|tapait|tapaient)\b", r"\b(le|la|me|te) film(e|ent|ait|aient)\b", r"\bfilment\b",
        r"\b(va|vont|allons) (te|le|la|me|vous) (defoncer|retrouver|buter|niquer|frapper|tabasser|casser)\b",
        r"\b(sais|sait|savons|savent) ou (tu |te |je |il |elle |on |nous )?habit\w*", r"\bte es (mort|morte|finie?)\b", r"\bvas le regretter\b",
        r"\bvas voir (a la|a le) sortie\b",
        r"\bsi (je|il|elle) (le |leur |lui )?(dis|dit|raconte|parle)\b.{0,60}\b(pire|represailles|me frapper|me taper|me detester)\b", r"\bon te attend\b", r"\b(la|le) risee\b", r"\ben pleurs\b.{0,60}\b(eleves|classe|college|lycee|ecole)\b",
    ],
}
_COMPILED = {kind: [re.compile(p) for p in patterns] for kind, patterns in _PATTERNS.items()}

_AT_SCHOOL = re.compile(
    r"\b(college|lycee|ecole|classe|cour|recre|recreation|cantine|self|eleves?|camarades?|vestiaires?|eps|sport|bus|couloirs?)\b")
_AT_HOME = re.compile(
    r"\b(pere|mere|beau pere|belle mere|parents?|oncle|tante|frere|soeur|papa|maman|maison|chez (moi|elle|lui|soi)|famille)\b")

# Sayings that look alarming but are not ("mort de rire", "je meurs d'envie de...", "en finir avec ce dossier",
# "un jeu vidéo violent", "ne plus toucher à rien" on a file): removed before the patterns or the classifier read.
_BENIGN = re.compile(
    r"\bmort de rire\b|\bmourir de rire\b|\bmeurs? de (rire|envie|faim|soif|chaud|froid|impatience|hate|fatigue)\b"
    r"|\bjeux? video (tres |trop |super )?(violent|violents)\b|\b(films?|series?|clips?|mangas?|sports?) (tres |trop )?violents?\b"
    r"|\ben finir avec (?!(la vie|ma vie|sa vie|cette vie|tout|moi)\b)(\w+ ){0,2}(" + _PAPERWORK + r")\b"
    r"|\b(ne )?(plus|pas|rien) toucher a rien\b|\bplus rien toucher\b|\bdernier delai\b|\bderniere chance\b"
    r"|\b(peur|crainte) de faire une (grosse |grave )?betise (sur|dans|en|avec) (\w+ ){0,2}(" + _PAPERWORK + r")\b"
)
# "mdr" makes "mourir" a joke ("mdr jvais mourir"), but not "je veux mourir".
_MDR = re.compile(r"\bmdr\b")
_MDR_MOURIR = re.compile(r"(?<!\bveux )(?<!\bveut )(?<!\benvie de )(?<!\bpense a )\bmourir\b")

# A classifier-only hit gets its kind from what the message speaks of: self-harm or death, then an adult
# or violence at home, then online, then pupils' aggression; a school merely named says nothing ("general").
_KIND_RULES = (
    ("suicide", re.compile(
        r"\b(mort|morte|mourir|meurt|suicid\w*|vivre|ma vie|la vie|sa vie|tuer|coupe|coupee|scarif\w*|disparaitre|betises?"
        r"|adieu|plus la|pont|sauter|medicaments|cachets|en finir|fini pour moi|idees noires|du mal|marre de tout)\b")),
    ("enfance-en-danger", re.compile(
        r"\b(beau pere|belle mere|copain de (ma mere|maman|sa mere)|coach|entraineur|surveillant|adulte|animateur|bleus"
        r"|coups|ceinture|crie|crient|hurle|hurlent|punit|marques|peur de rentrer|touche|touchent|a la maison)\b")),
    ("cyberharcelement", re.compile(
        r"\b(insta\w*|snap\w*|tiktok|whatsapp|discord|facebook|twitter|reseaux?|en ligne|internet|story|sms|photos?"
        r"|videos?|montages?|compte)\b")),
    ("harcelement", re.compile(
        r"\b(insult\w*|moqu\w*|bouscul\w*|embete\w*|embetent|harcel\w*|frapp\w*|tape|tapent|rackett\w*|menac\w*"
        r"|rejet\w*|traite|traitent|surnom\w*|bizut\w*)\b")),
)


@dataclass(frozen=True)
class Distress:
    kind: str
    pattern: str  # the pattern that matched, or "classifier" when only the classifier fired
    probability: Optional[float] = None  # the classifier's, when it was asked


class DistressClassifier(Protocol):
    """What ``detect_distress`` needs of a classifier (``orientbot.detectors.TextDetector`` is one)."""

    def probability(self, text: str, *, already_normalised: bool = False) -> float: ...


DEFAULT_THRESHOLD = DetectorSettings().distress_threshold


def neutralise(folded: str) -> str:
    """Normalised text without the ordinary sayings that look alarming (what patterns and classifier read)."""
    folded = _BENIGN.sub(" ", folded)
    if _MDR.search(folded):
        folded = _MDR_MOURIR.sub(" ", folded)
    return re.sub(r"\s+", " ", folded).strip()


def matching_pattern(text: str, *, already_normalised: bool = False) -> Optional[Distress]:
    """The patterns' verdict alone (the first, most serious kind that matches), or None."""
    folded = neutralise(text if already_normalised else normalise(text))
    if not folded.strip():
        return None
    for kind, patterns in _COMPILED.items():
        for pattern in patterns:
            if pattern.search(folded):
                if kind == "enfance-en-danger" and _AT_SCHOOL.search(folded) and not _AT_HOME.search(folded):
                    kind = "harcelement"  # hit by other pupils: the 3018 first
                if kind == "cyberharcelement" and re.search(
                        r"\b(coach|entraineur|surveillant|adulte|beau pere|animateur|moniteur)\b", folded):
                    kind = "enfance-en-danger"  # an adult asking a child for photos: the 119
                return Distress(kind=kind, pattern=pattern.pattern)
    return None


def infer_kind(text: str, *, already_normalised: bool = False) -> str:
    """The kind of a distress message no pattern placed: self-harm, home/adult, online, school, else "general"."""
    folded = text if already_normalised else normalise(text)
    for kind, rule in _KIND_RULES:
        if rule.search(folded):
            return kind
    return "general"


def detect_distress(
    text: str,
    *,
    already_normalised: bool = False,
    classifier: Optional[DistressClassifier] = None,
    threshold: Optional[float] = None,
) -> Optional[Distress]:
    """The kind of distress or danger a message shows, or None.

    Any pattern, or else the classifier's probability at or above ``threshold``
    (``DetectorSettings.distress_threshold`` by default).  The classifier is only
    asked when no pattern matched, and not about a message holding an ordinary
    saying that looks alarming ("en finir avec ce dossier", "un jeu vidéo violent").
    """
    folded = text if already_normalised else normalise(text)
    found = matching_pattern(folded, already_normalised=True)
    if found is not None or classifier is None or not folded:
        return found
    readable = neutralise(folded)
    if not readable or readable != re.sub(r"\s+", " ", folded).strip():
        # The message explains its alarming words ("en finir avec ce dossier"): the patterns alone decide.
        return None
    probability = float(classifier.probability(readable, already_normalised=True))
    if probability >= (DEFAULT_THRESHOLD if threshold is None else threshold):
        return Distress(kind=infer_kind(readable, already_normalised=True), pattern="classifier", probability=probability)
    return None

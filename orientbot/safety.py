"""Distress and danger detection.

Owns the decision "this message shows distress or danger", which must never
depend on a statistical model alone: a student who writes about wanting to die
gets the emergency numbers at once even if the classifier hesitates.  The
patterns run on normalised text (``orientbot.normalise``) and are deliberately
broad: a false alarm costs a counsellor a minute, a miss can cost a life.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from orientbot.normalise import normalise

# Checked in this order: the most serious kind wins when several match.
_PATTERNS = {
    "suicide": [
        r"\bsuicid", r"\bme tuer\b", r"\bme (foutre|jeter) (en l air|sous|par)", r"\ben finir\b",
        r"\bmourir\b", r"\bmeurs?\b.*\b(envie|veux)", r"\b(envie|veux|voudrais) (de )?(mourir|disparaitre|crever)",
        r"\bdisparaitre\b", r"\bplus (envie|la force) de (vivre|rien)", r"\bpas envie de vivre",
        r"\bje (ne )?(veux|vx) plus vivre", r"\bplus (etre |etre la|la)\b.*\b(mieux|personne)",
        r"\bsi je (ne )?(etais|serais) plus la\b", r"\bme faire du mal\b", r"\bme couper\b",
        r"\bscarif", r"\bautomutil", r"\bmutil", r"\bidees? noires?\b", r"\bje (ne )?sers a rien\b",
        r"\bjpp\b.*\bvie\b", r"\bj en peux plus de (cette|ma) vie\b", r"\bplus de raison de vivre\b",
        r"\bcrever\b", r"\bpendre\b", r"\bmedicaments? pour (dormir pour toujours|mourir|en finir)",
        r"\bne plus me reveiller\b",
    ],
    "enfance-en-danger": [
        r"\bme (frappe|frappent|bat|battent|tape|tapent|gifle|giflent|cogne|cognent)\b",
        r"\b(frappe|battu|battue|tabasse|tabassee)s?\b.*\b(pere|mere|beau pere|belle mere|parents?|oncle|frere)\b",
        r"\b(pere|mere|beau pere|belle mere|parents?|oncle|frere)\b.*\b(frappe|bat|baffe|gifle|etrangl|cogne|tape)",
        r"\bbaffe", r"\bgifle", r"\betrangl", r"\bcoups?\b.*\b(ceinture|poing|pied)", r"\bdes coups\b",
        r"\bmaltrait", r"\bviol(e|ee|ent|er|s)?\b(?! de (la )?(regle|loi))", r"\battouch", r"\bagression sexuelle",
        r"\babus(e|ee|ent|er)? (de moi|sexuel)", r"\binceste", r"\bpeur de (mon|ma|mes) (pere|mere|beau pere|belle mere|parents|oncle)",
        r"\bpeur de rentrer (chez moi|a la maison)", r"\benfant en danger\b", r"\bmet (a|a la) (porte|rue)\b.*\b(peur|frappe)",
        r"\bviolences?\b", r"\bme (touche|touchent|tripote|tripotent|caresse|caressent)\b",
        r"\b(trucs|choses) (que|ke|qu) (je|j) (ne )?(veux|veut|voulais) pas\b",
    ],
    "cyberharcelement": [
        r"\bcyber ?harcel", r"\bnudes?\b", r"\bphotos? (intimes?|de moi)\b.*\b(poste|publie|circule|tourne|envoy|partag|menac)",
        r"\b(poste|publie|partage|diffuse)\w* (des )?(photos?|videos?) de moi", r"\bfaux compte\b", r"\bcompte\b.*\b(moquer|se moquer|insulter)",
        r"\bchantage\b", r"\bsextorsion",
    ],
    "harcelement": [
        r"\bharcel", r"\bse moquent? de moi\b", r"\bmoquent de moi\b", r"\bm insultent?\b", r"\bmenace(s|nt)?\b",
        r"\bracket", r"\brejete(e)? par (tout|toute) (le monde|la classe)", r"\btout le monde (se moque|me deteste)",
        r"\bpersonne (ne )?me parle\b.*\b(classe|college|lycee)", r"\bje (ne )?veux plus aller (en cours|au college|au lycee|a l ecole)",
        r"\bbouc emissaire", r"\bhumili", r"\bmartyris", r"\bbizut",
        r"\bse fait (frapper|taper|insulter|harceler|racketter|humilier|agresser|menacer)",
        r"\b(frappe|tape|insulte|agresse|menace)(e|es|s)? (par|a cause)\b",
    ],
}
_COMPILED = {kind: [re.compile(p) for p in patterns] for kind, patterns in _PATTERNS.items()}

_AT_SCHOOL = re.compile(r"\b(college|lycee|ecole|classe|cour|recre|cantine|eleves?|camarades?)\b")
_AT_HOME = re.compile(r"\b(pere|mere|beau pere|belle mere|parents?|oncle|tante|frere|soeur|maison|chez moi|famille)\b")

# Sayings that look alarming but are not ("mort de rire", "ça me tue" as in funny).
_BENIGN = [re.compile(p) for p in (r"\bmort de rire\b", r"\bmdr\b.*\bmourir\b", r"\bmourir de rire\b")]


@dataclass(frozen=True)
class Distress:
    kind: str
    pattern: str


def detect_distress(text: str, *, already_normalised: bool = False) -> Optional[Distress]:
    """The kind of distress or danger a message shows, or None."""
    folded = text if already_normalised else normalise(text)
    if not folded or any(p.search(folded) for p in _BENIGN):
        return None
    for kind, patterns in _COMPILED.items():
        for pattern in patterns:
            if pattern.search(folded):
                if kind == "enfance-en-danger" and _AT_SCHOOL.search(folded) and not _AT_HOME.search(folded):
                    kind = "harcelement"  # hit by other pupils: the 3018 first
                return Distress(kind=kind, pattern=pattern.pattern)
    return None

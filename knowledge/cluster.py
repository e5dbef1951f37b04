"""Stage 4, cluster: group paraphrased questions and build KB entries.

Pairs are compared on their questions (character n-grams over normalised text,
robust to typos) and on their answers (word n-grams: counsellors answering the
same question state the same facts), then grouped by average-linkage
agglomerative clustering.  Each group becomes one entry: the best answer per
audience (corrections and validated answers first, then the most typical and
complete), every question variant, how often it was asked, the conversations it
came from, the links cited, and the campaign year of dated facts.

Pairs that led to a transfer (a personal case) or that show distress are not
FAQ material: their questions are returned apart, as examples for the
``personal_case`` and ``distress`` intents (a transferred question only when
it tells the asker's own case: general questions and chatter also precede transfers).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer

from knowledge.model import Cluster, QAPair
from orientbot.cues import asks_for_a_human, sounds_like_a_complaint, tells_a_personal_situation
from orientbot.emergency import IN_AN_ANSWER
from orientbot.followup import is_elliptic, without_lead_in
from orientbot.kb import KnowledgeEntry, Variant
from orientbot.normalise import STOPWORDS, normalise
from orientbot.safety import detect_distress

_URL = re.compile(r"https?://[^\s<>\"')\]]+")
_YEAR = re.compile(r"\b(20[12]\d)\b")
_RULE_ORIGIN = re.compile(r"(depuis|loi|arr[êe]t[ée]|d[ée]cret|rentr[ée]e|cr[ée]ation|supprim\w*|r[ée]forme)\W+(?:\w+\W+){0,3}$", re.I)


_PLACEHOLDER = re.compile(r"\[[A-ZÉÈ -]+\]")
_DECLINE = re.compile(
    r"pas (mon|notre) (domaine|r[ôo]le)|(on|je) ne (fai[st]|peux pas faire) (pas )?(les|tes|vos) devoirs|"
    r"ne (peux|pouvons) pas (t'|vous )?aider (pour|sur|avec) ([çc]a|cela)|hors[- ]sujet|pas le bon endroit|"
    r"pas (ici|le lieu) pour|on ne fait pas les devoirs|pas tr[èe]s dou[ée] en m[ée]t[ée]o|"
    r"ici,? on (ne )?r[ée]pond (qu'|seulement )?aux questions",
    re.I,
)
_ABOUT_US = re.compile(r"\b(robots?|bots?|ia|intelligence artificielle|humains?|vrais? gens)\b", re.I)
# "Le reste est exact": the sentence rates an earlier answer (only what follows its colon can be kept).
_REST_IS_RIGHT = r"le reste (de (ta|votre|sa) r[ée]ponse |de ce qui a [ée]t[ée] dit )?est (exact|juste|correct|vrai)"
_META = re.compile(
    r"\b(rectifi\w*|corrig\w*|me corrige|correction|pr[ée]cision importante)\b|je me suis tromp|mauvais chiffre|"
    r"erreur de ma part|mon coll[èe]gue|ma coll[èe]gue|(la|ma) r[ée]ponse (donn[ée]e |faite )?(à|a|de)|"
    r"ce qui vient d'[êe]tre dit|ce que je viens d'[ée]crire|c'[ée]tait l'ancien|anciens? (taux|montants?|chiffres?|syst[èe]me)|"
    r"il y a quelques ann[ée]es|\boups\b|erratum|autant pour moi|pardon,? je|je vous prie d'excuser|j'ai m[ée]lang[ée]|"
    r"n'est pas (de |d')?\d+|pour (ta|votre|sa) (2e|deuxi[eè]me|seconde|autre|premi[eè]re|derni[eè]re) question|"
    + _REST_IS_RIGHT,
    re.I,
)
_INTERJECTION = r"Et|Oui|Non|Bonjour|Bonsoir|Salut|Coucou|Hello|Merci|Bravo|Alors|Pardon|Attention|D[ée]sol[ée]e?|Super|Parfait|Exactement|Rassurez-vous|Bonne question|Pas de panique"
_VOCATIVE_START = re.compile(r"^(?:(?:Monsieur|Madame|M\.|Mme)\s+)?\[(?:NOM|LIEU)\][-–]?(?:\s+\[NOM\][-–]?)*\s*[,!:.]?\s*")
_VOCATIVE_AFTER = re.compile(rf"\b({_INTERJECTION})\s+\[NOM\][-–]?(?:\s+\[NOM\][-–]?)*")
_TITLED_NAME = re.compile(r"\b(Monsieur|Madame)\s+\[NOM\](?:\s+\[NOM\])*")
_CONTACT_DATA = re.compile(r"\[(E-MAIL|TÉLÉPHONE|INE|ADRESSE|LIEN PERSONNEL)\]")
_REFERS_TO_EARLIER = re.compile(
    r"se trompe|n'est plus vrai|je pr[ée]cise|ce n'est pas (un|une|le|la|les)? ?\d|c'[ée]tait (la|le|l')|"
    r"pas \d+ ?(%|€|ans|jours|mois)|\d+ ?(%|€), c'est",
    re.I,
)
# "Le reste est exact", "c'est exactement ça": an answer that rates what was said before it.
_CONFIRMS_EARLIER = re.compile(_REST_IS_RIGHT + r"|^\W*(exactement|c'est (exactement |bien )?[çc]a)\b", re.I)
# "la CAES de l'académie de Toulouse", "le CIO de Nantes": right for the asker, not for everyone.
_LOCAL_DETAIL = re.compile(r"\b(acad[ée]mie|CIO|Crous|CROUS|universit[ée]|fac|r[ée]gion|ville) (de |d'|du )[A-ZÉ][a-zéèê-]+")
_LEAD_IN = re.compile(
    r"^(?:bonjour|bonsoir|salut|coucou|hello|madame|monsieur|alors|dans ce cas|parfait|d'accord|tr[èe]s bien|ok|"
    r"merci|(?:(?:tr[èe]s )?bonne )?question|c'est not[ée]|entendu|je comprends|ah|oh|exactement|tout [àa] fait|effectivement|en effet|"
    r"absolument|bien vu|c'est (?:exactement |bien |tout à fait )?[çc]a|(?:tu as|vous avez) (?:bien )?raison)"
    r"(?:\s+(?:madame|monsieur))?\s*[,!.:]+\s*",
    re.I,
)
_GENERIC_WORDS = {
    "nom", "lieu", "etablissement", "mail", "telephone", "ine", "adresse", "lien", "personnel", "fille", "fils",
    "enfant", "enfants", "question", "je", "moi", "ma", "mon", "notre", "nos", "votre", "veut", "voudrait",
    "souhaite", "sais", "savoir", "pourriez", "pouvez", "indiquer", "ok", "coup", "donc", "ans", "an", "annee",
    "elle", "lui", "ya", "on", "vraiment", "bien", "dire", "etre", "avoir", "faut", "dois", "doit",
}


@dataclass
class ClusterResult:
    clusters: List[Cluster]
    # The pairs that teach the other intents, with their conversations (the cross-validation groups by them).
    personal_case: List[QAPair] = field(default_factory=list)
    distress: List[QAPair] = field(default_factory=list)
    out_of_scope: List[QAPair] = field(default_factory=list)
    # Questions asked once, in no entry: the cross-validation's questions the KB cannot answer.
    singletons: List[QAPair] = field(default_factory=list)

    @property
    def personal_case_questions(self) -> List[str]:
        return [p.question for p in self.personal_case]

    @property
    def distress_questions(self) -> List[str]:
        return [p.question for p in self.distress]

    @property
    def out_of_scope_questions(self) -> List[str]:
        return [p.question for p in self.out_of_scope]


def is_distress_pair(pair: QAPair) -> bool:
    return bool(IN_AN_ANSWER.search(pair.answer)) or detect_distress(pair.question) is not None


def reads_as_a_personal_case(question: str) -> bool:
    """A story about oneself or one's child, a complaint, or a request for a person."""
    return tells_a_personal_situation(question) or sounds_like_a_complaint(question) or asks_for_a_human(question)


def is_declined_pair(pair: QAPair) -> bool:
    """The counsellor said it was not their field (homework, weather...)."""
    return bool(_DECLINE.search(pair.answer))


def clean_answer(text: str) -> str:
    """An answer as the bot can say it: no correction talk, no addressing of the original asker."""
    sentences = re.split(r"(?<=[.!?])\s+", re.sub(r"^\s*@\S+\s*", "", text.strip()))
    kept = []
    for sentence in sentences:
        if _META.search(sentence):
            head, colon, tail = sentence.partition(":")
            if not colon or _META.search(tail):
                continue
            sentence = tail.strip()
        sentence = _TITLED_NAME.sub(r"\1", _VOCATIVE_AFTER.sub(r"\1", _VOCATIVE_START.sub("", sentence))).strip()
        if not sentence or _PLACEHOLDER.search(sentence) and len(sentence.split()) < 5:
            continue
        kept.append(sentence[:1].upper() + sentence[1:])
    cleaned = " ".join(kept)
    cleaned = re.sub(r"\s+([,.])", r"\1", re.sub(r"\s{2,}", " ", cleaned))
    previous = None
    while previous != cleaned:
        previous = cleaned
        cleaned = _LEAD_IN.sub("", re.sub(r"^[\s,!.:;]+", "", cleaned))
    cleaned = re.sub(r"([,!.?])[,!.]+", r"\1", cleaned).strip()
    return cleaned[:1].upper() + cleaned[1:] if cleaned else text.strip()


def _vectors(texts: Sequence[str], **options) -> np.ndarray:
    matrix = TfidfVectorizer(sublinear_tf=True, **options).fit_transform(texts)
    return (matrix @ matrix.T).toarray()


def _agglomerate(distances: np.ndarray, threshold: float) -> np.ndarray:
    options = dict(n_clusters=None, linkage="average", distance_threshold=threshold)
    try:
        model = AgglomerativeClustering(metric="precomputed", **options)
    except TypeError:  # scikit-learn < 1.2 names it "affinity"
        model = AgglomerativeClustering(affinity="precomputed", **options)
    return model.fit_predict(distances)


def cluster_pairs(
    pairs: Sequence[QAPair], *, threshold: float = 0.72, question_weight: float = 0.4, min_size: int = 2
) -> ClusterResult:
    result = ClusterResult(clusters=[])
    faq: List[QAPair] = []
    for pair in pairs:
        if is_distress_pair(pair):
            result.distress.append(pair)
        elif is_declined_pair(pair):
            result.out_of_scope.append(pair)
        elif _ABOUT_US.search(pair.question) or (
            _CONTACT_DATA.search(pair.question) and len(pair.question.split()) < 12
        ):
            continue  # questions about the service itself, or someone handing over their contact details
        elif pair.transferred or not pair.answer:
            # A transfer often follows a general question ("délai pour accepter une proposition ?") or
            # chatter ("ma mère oui"): only a message that tells the asker's case teaches personal_case.
            if reads_as_a_personal_case(pair.question):
                result.personal_case.append(pair)
        else:
            faq.append(pair)
    if len(faq) < 2:
        result.singletons = list(faq)
        return result
    questions = [normalise(p.question) or "-" for p in faq]
    answers = [normalise(p.answer) or "-" for p in faq]
    similarity = question_weight * _vectors(questions, analyzer="char_wb", ngram_range=(2, 5)) + (
        1 - question_weight
    ) * _vectors(answers, analyzer="word", ngram_range=(1, 2), stop_words=sorted(STOPWORDS))
    distances = np.clip(1.0 - similarity, 0.0, None)
    np.fill_diagonal(distances, 0.0)
    labels = _agglomerate(distances, threshold)
    for label in sorted(set(labels), key=lambda found: int(np.flatnonzero(labels == found)[0])):
        members = np.flatnonzero(labels == label)
        if len(members) < min_size:
            result.singletons.extend(faq[i] for i in members)
            continue
        result.clusters.append(Cluster(pairs=tuple(faq[i] for i in members)))
    return result


def _answer_quality(pair: QAPair, typicality: float) -> float:
    """Typical (states what the others state) and complete first; validated and corrected answers next.

    A correction proves its facts right but often starts by quoting the mistake, which reads oddly
    out of context: it gets only a small bonus, and answers that refer to something said before lose.
    """
    cleaned = clean_answer(pair.answer)
    first_sentence = re.split(r"(?<=[.!?])\s", cleaned, maxsplit=1)[0]
    return (
        typicality + 0.2 * pair.validated + 0.1 * pair.corrected + 0.1 * min(len(cleaned) / 400, 1.0)
        - 0.5 * len(_PLACEHOLDER.findall(cleaned)) - 0.3 * bool(_REFERS_TO_EARLIER.search(first_sentence))
        - 0.3 * bool(_CONFIRMS_EARLIER.search(pair.answer)) - 0.2 * bool(_LOCAL_DETAIL.search(cleaned))
    )


def _best_answers(cluster: Cluster) -> Tuple[str, str]:
    answers = [normalise(p.answer) or "-" for p in cluster.pairs]
    similarity = _vectors(answers, analyzer="word", ngram_range=(1, 2)) if len(answers) > 1 else np.ones((1, 1))
    typicality = similarity.mean(axis=1)
    ranked = sorted(
        range(len(cluster.pairs)), key=lambda i: (-_answer_quality(cluster.pairs[i], typicality[i]), cluster.pairs[i].answer)
    )
    best: Dict[str, str] = {}
    for index in ranked:
        best.setdefault(cluster.pairs[index].asker_role, cluster.pairs[index].answer)
    overall = cluster.pairs[ranked[0]].answer
    return clean_answer(best.get("eleve", overall)), clean_answer(best.get("parent", overall))


def _sources(cluster: Cluster, limit: int = 3) -> Tuple[str, ...]:
    counts: Counter = Counter()
    first_seen: Dict[str, int] = {}
    for pair in cluster.pairs:
        for url in _URL.findall(pair.answer):
            url = url.rstrip(".,;:!?»")
            counts[url] += 1
            first_seen.setdefault(url, len(first_seen))
    return tuple(sorted(counts, key=lambda u: (-counts[u], first_seen[u]))[:limit])


def campaign_year(text: str) -> Optional[int]:
    """The latest campaign year a dated fact refers to (not the year a rule was created)."""
    years = [
        int(m.group(1)) for m in _YEAR.finditer(text) if not _RULE_ORIGIN.search(text[max(0, m.start() - 40) : m.start()])
    ]
    return max(years) if years else None


def _slug(cluster: Cluster, taken: set) -> str:
    """A readable, stable id from the words the askers used most."""
    base = "-".join(_keywords(cluster, limit=4) or ["question"])[:60].strip("-")
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def _question_sentence(text: str) -> str:
    questions = [q.strip() for q in re.findall(r"[^.!?]*\?", text) if len(q.split()) >= 3]
    return questions[-1] if questions else text.strip()


_NEEDS_ANTECEDENT = re.compile(r"(?i)^\W*(?:sa|son|ses|leur|leurs|il|elle|ils|elles|lui|cela|ceci)\b")


def _needs_context(sentence: str) -> bool:
    """Elliptic, or opening on a pronoun that points to someone named earlier ("Sa bourse est-elle…")."""
    return is_elliptic(sentence) or bool(_NEEDS_ANTECEDENT.match(without_lead_in(sentence)))


def _title_of(pair: QAPair) -> Tuple[str, bool]:
    """A pair's question as a button label that stands alone, and whether context had to be added.

    The last question asked; when it only makes sense after something else, a follow-up shows the
    subject folded into it ("Stage 3e : la convention ?"), a question inside a longer message the
    sentence before it ("Mon fils va redoubler sa seconde. Sa bourse est-elle maintenue ?").
    """
    text = pair.asked
    sentence = _question_sentence(text)
    if not _needs_context(sentence):
        return sentence, False
    if pair.context:
        subject = pair.context.rstrip(" :")
        return f"{subject[:1].upper()}{subject[1:]} : {without_lead_in(sentence)}", True
    before = re.findall(r"[^.!?]*[^.!?\s][^.!?]*[.!?]+", text[: text.rfind(sentence)])
    context = re.sub(r"\s*\[NOM\]", "", _LEAD_IN.sub("", before[-1].strip())) if before else ""
    if not context or _PLACEHOLDER.search(context):
        return sentence, False  # nothing before it that a button could show
    return f"{context[:1].upper()}{context[1:]} {sentence}", True


def _keywords(cluster: Cluster, limit: int = 6) -> List[str]:
    counts: Counter = Counter()
    for pair in cluster.pairs:
        counts.update({w for w in normalise(pair.asked).split() if len(w) > 2 and w not in STOPWORDS | _GENERIC_WORDS})
    return sorted(counts, key=lambda w: (-counts[w], w))[:limit]


def display_question(cluster: Cluster) -> str:
    """The variant that reads best as a button label: self-contained, a real question, not too long."""
    keywords = set(_keywords(cluster))

    def cost(index: int) -> tuple:
        sentence, completed = _title_of(cluster.pairs[index])
        words = normalise(sentence).split()
        return (
            bool(_PLACEHOLDER.search(sentence)),
            _needs_context(sentence),
            not sentence.endswith("?"),
            len(keywords.intersection(words)) < 2,
            bool(re.match(r"(?i)(et|mais|ok|donc|alors|du coup)\b", sentence)),
            completed,
            abs(len(sentence) - 70) // 25,
            cluster.pairs[index].asker_role != "parent",
            sentence,
        )

    best = min(range(len(cluster.pairs)), key=cost)
    return _title_of(cluster.pairs[best])[0]


def build_entries(clusters: Sequence[Cluster]) -> List[KnowledgeEntry]:
    ordered = sorted(clusters, key=lambda c: (-len(c.pairs), normalise(display_question(c))))
    taken: set = set()
    entries = []
    for cluster in ordered:
        title = display_question(cluster)
        answer_eleve, answer_parent = _best_answers(cluster)
        year = campaign_year(answer_eleve + " " + answer_parent)
        variants, seen = [], set()
        for pair in cluster.pairs:
            key = normalise(pair.question)
            if key and key not in seen:
                seen.add(key)
                variants.append(Variant(pair.question, pair.conversation_id, pair.votes))
        entries.append(
            KnowledgeEntry(
                id=_slug(cluster, taken),
                title=title,
                answer_eleve=answer_eleve,
                answer_parent=answer_parent,
                sources=_sources(cluster),
                variants=tuple(variants),
                times_asked=len(cluster.pairs),
                campaign_year=year,
                valid_until=date(year + 1, 8, 31) if year else None,
            )
        )
    return entries

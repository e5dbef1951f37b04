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
from typing import Dict, FrozenSet, List, Sequence, Tuple

import numpy as np
from scipy.sparse import csr_matrix, vstack
from scipy.sparse.csgraph import connected_components
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer

from knowledge.checks import (
    CONFIRMS_EARLIER,
    LOCAL_DETAIL,
    PLACEHOLDER,
    REFERS_TO_EARLIER,
    REST_IS_RIGHT,
    answer_defects,
    is_gender_marked,
    stand_alone,
)
from knowledge.model import Cluster, QAPair
from knowledge.register import NEUTRAL, TU, VOUS, convert, for_parents, parse, register_of, without_the_askers_child
from orientbot.cues import asks_for_a_human, sounds_like_a_complaint, tells_a_personal_situation
from orientbot.emergency import IN_AN_ANSWER
from orientbot.followup import is_elliptic, subject_of, without_lead_in
from orientbot.kb import KnowledgeEntry, Variant
from orientbot.normalise import STOPWORDS, TEXTING, fold_accents, normalise
from orientbot.safety import detect_distress
from orientbot.topics import topic_of
from orientbot.validity import campaign_year, valid_until

_URL = re.compile(r"https?://[^\s<>\"')\]]+")
_DECLINE = re.compile(
    r"pas (mon|notre) (domaine|r[ôo]le)|(on|je) ne (fai[st]|peux pas faire) (pas )?(les|tes|vos) devoirs|"
    r"ne (peux|pouvons) pas (t'|vous )?aider (pour|sur|avec) ([çc]a|cela)|hors[- ]sujet|pas le bon endroit|"
    r"pas (ici|le lieu) pour|on ne fait pas les devoirs|pas tr[èe]s dou[ée] en m[ée]t[ée]o|"
    r"ici,? on (ne )?r[ée]pond (qu'|seulement )?aux questions",
    re.I,
)
_ABOUT_US = re.compile(r"\b(robots?|bots?|ia|intelligence artificielle|humains?|vrais? gens)\b", re.I)
# Correction talk; "le reste est exact" (REST_IS_RIGHT) rates an earlier answer: only what follows its colon is kept.
_META = re.compile(
    r"\b(rectifi\w*|corrig\w*|me corrige|correction|pr[ée]cision importante)\b|je me suis tromp|mauvais chiffre|"
    r"erreur de ma part|mon coll[èe]gue|ma coll[èe]gue|(la|ma) r[ée]ponse (donn[ée]e |faite )?(à|a|de)|"
    r"ce qui vient d'[êe]tre dit|ce que je viens d'[ée]crire|c'[ée]tait l'ancien|anciens? (taux|montants?|chiffres?|syst[èe]me)|"
    r"il y a quelques ann[ée]es|\boups\b|erratum|autant pour moi|pardon,? je|je vous prie d'excuser|j'ai m[ée]lang[ée]|"
    r"n'est pas (de |d')?\d+|pour (ta|votre|sa) (2e|deuxi[eè]me|seconde|autre|premi[eè]re|derni[eè]re) question|"
    + REST_IS_RIGHT,
    re.I,
)
_INTERJECTION = r"Et|Oui|Non|Bonjour|Bonsoir|Salut|Coucou|Hello|Merci|Bravo|Alors|Pardon|Attention|D[ée]sol[ée]e?|Super|Parfait|Exactement|Rassurez-vous|Bonne question|Pas de panique"
_VOCATIVE_START = re.compile(r"^(?:(?:Monsieur|Madame|M\.|Mme)\s+)?\[(?:NOM|LIEU)\][-–]?(?:\s+\[NOM\][-–]?)*\s*[,!:.]?\s*")
_VOCATIVE_AFTER = re.compile(rf"\b({_INTERJECTION})\s+\[NOM\][-–]?(?:\s+\[NOM\][-–]?)*")
_TITLED_NAME = re.compile(r"\b(Monsieur|Madame)\s+\[NOM\](?:\s+\[NOM\])*")
_CONTACT_DATA = re.compile(r"\[(E-MAIL|TÉLÉPHONE|INE|ADRESSE|LIEN PERSONNEL)\]")
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
        if not sentence or PLACEHOLDER.search(sentence) and len(sentence.split()) < 5:
            continue
        kept.append(sentence if sentence.startswith("http") else sentence[:1].upper() + sentence[1:])
    cleaned = " ".join(kept)
    cleaned = re.sub(r"\s+([,.])", r"\1", re.sub(r"\s{2,}", " ", cleaned))
    previous = None
    while previous != cleaned:
        previous = cleaned
        cleaned = _LEAD_IN.sub("", re.sub(r"^[\s,!.:;]+", "", cleaned))
    cleaned = re.sub(r"([,!.?])[,!.]+", r"\1", cleaned).strip()
    return cleaned[:1].upper() + cleaned[1:] if cleaned else text.strip()


def _vectors(texts: Sequence[str], **options):
    """Each text's TF-IDF vector, L2-normalised (a sparse row per text): their products are cosines."""
    return TfidfVectorizer(sublinear_tf=True, **options).fit_transform(texts).tocsr()


def _agglomerate(distances: np.ndarray, threshold: float) -> np.ndarray:
    options = dict(n_clusters=None, linkage="average", distance_threshold=threshold)
    try:
        model = AgglomerativeClustering(metric="precomputed", **options)
    except TypeError:  # scikit-learn < 1.2 names it "affinity"
        model = AgglomerativeClustering(affinity="precomputed", **options)
    return model.fit_predict(distances)


# Rows of the similarity graph computed at once: 2,000 rows against 46,000 pairs stay a few hundred MB.
_GRAPH_ROWS = 2000


def _close_pairs(questions, answers, question_weight: float, threshold: float) -> csr_matrix:
    """The pairs closer than ``threshold`` (sparse), computed a block of rows at a time, never all pairs at once."""
    blocks = []
    for start in range(0, questions.shape[0], _GRAPH_ROWS):
        rows = slice(start, start + _GRAPH_ROWS)
        similarity = (question_weight * (questions[rows] @ questions.T)
                      + (1 - question_weight) * (answers[rows] @ answers.T)).tocsr()
        # Strictly closer than the threshold, as the merges below require; a hair of slack only adds edges.
        similarity.data = (similarity.data > 1.0 - threshold - 1e-9).astype(np.int8)
        similarity.eliminate_zeros()
        blocks.append(similarity)
    return vstack(blocks).tocsr()


def _average_linkage(questions, answers, question_weight: float, threshold: float) -> np.ndarray:
    """Average-linkage clusters of the pairs (a label per pair), blocked by the graph of close pairs.

    Two clusters merge only when their average distance is under the threshold, so some pair across them is
    under it too: every cluster lies inside one connected component of the graph of such pairs.  Clustering
    each component on its own, with all its pairwise distances, gives the very clusters of the whole matrix;
    the all-pairs matrix (46,000 pairs: 17 GB) is never built, only each component's.
    """
    count, component = connected_components(_close_pairs(questions, answers, question_weight, threshold),
                                             directed=False)
    labels = np.empty(questions.shape[0], dtype=int)
    next_label = 0
    for found in range(count):
        members = np.flatnonzero(component == found)
        if len(members) == 1:
            labels[members] = next_label
            next_label += 1
            continue
        similarity = (question_weight * (questions[members] @ questions[members].T)
                      + (1 - question_weight) * (answers[members] @ answers[members].T)).toarray()
        distances = np.clip(1.0 - similarity, 0.0, None)
        np.fill_diagonal(distances, 0.0)
        inside = _agglomerate(distances, threshold)
        labels[members] = next_label + inside
        next_label += int(inside.max()) + 1
    return labels


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
    labels = _average_linkage(_vectors(questions, analyzer="char_wb", ngram_range=(2, 5)),
                              _vectors(answers, analyzer="word", ngram_range=(1, 2), stop_words=sorted(STOPWORDS)),
                              question_weight, threshold)
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
        - 0.5 * len(PLACEHOLDER.findall(cleaned)) - 0.3 * bool(REFERS_TO_EARLIER.search(first_sentence))
        - 0.3 * bool(CONFIRMS_EARLIER.search(pair.answer)) - 0.2 * bool(LOCAL_DETAIL.search(cleaned))
    )


# Each audience, the register its answer is said in, and what a counsellor reads about a derived answer.
REGISTER_OF_AUDIENCE = {"eleve": TU, "parent": VOUS}
DERIVED_REASONS = {
    "eleve": "réponse aux élèves dérivée de celle aux parents (vous → tu) : à relire",
    "parent": "réponse aux parents dérivée de celle aux élèves (tu → « votre enfant ») : à relire",
}
MISSING_REASONS = {
    "eleve": "aucune réponse utilisable pour les élèves",
    "parent": "aucune réponse utilisable pour les parents",
}


@dataclass(frozen=True)
class Candidate:
    """One counsellor's answer, as the bot could say it, and what is wrong with it."""

    text: str
    asker_role: str
    register: str
    defects: Tuple[str, ...]  # French reasons, empty when it stands alone


@dataclass(frozen=True)
class AnswerChoice:
    answers: Dict[str, str]  # audience -> text
    derived: FrozenSet[str]  # the audiences whose answer was converted from the other register
    missing: FrozenSet[str]  # the audiences without an answer that passes the checks
    defects: Tuple[str, ...]  # why the candidates were turned down (when some audience has none)

    @property
    def review_reasons(self) -> Tuple[str, ...]:
        reasons = [MISSING_REASONS[a] for a in ("eleve", "parent") if a in self.missing]
        if self.missing:
            reasons += list(self.defects)
        reasons += [DERIVED_REASONS[a] for a in ("eleve", "parent") if a in self.derived and a not in self.missing]
        return tuple(dict.fromkeys(reasons))


def _candidate(pair: QAPair) -> Candidate:
    text = without_the_askers_child(stand_alone(clean_answer(pair.answer)))
    return Candidate(text, pair.asker_role, register_of(text), tuple(d.reason for d in answer_defects(text)))


def _fits(candidate: Candidate, audience: str) -> bool:
    """Said in the audience's register, or in none; a student answer may say "vous" to a group ("toi et ton tuteur")."""
    wanted = REGISTER_OF_AUDIENCE[audience]
    if candidate.register in (wanted, NEUTRAL):
        return True
    return audience == "eleve" and candidate.register == "mixed" and not re.search(r"(?i)\b(votre|vos)\b", candidate.text)


def _ranked_candidates(cluster: Cluster) -> List[Candidate]:
    answers = [normalise(p.answer) or "-" for p in cluster.pairs]
    # An answer's mean similarity to the cluster's answers (itself included), without the all-pairs matrix.
    vectors = _vectors(answers, analyzer="word", ngram_range=(1, 2))
    # Rounded: answers equally typical are ordered by their text, not by the last bits of a float sum.
    typicality = np.round(np.asarray(vectors @ vectors.sum(axis=0).T).ravel() / len(answers), 9)
    expiry = [valid_until(clean_answer(p.answer)) for p in cluster.pairs]
    lasting = None if None in expiry else max(expiry)
    # An answer whose dates expire before another candidate's (or one with no date) loses as much as a placeholder
    # does: once its campaign is past only its undated sentences are served, while the other answer still holds.
    dated_out = [e is not None and (lasting is None or e < lasting) for e in expiry]
    ranked = sorted(
        range(len(cluster.pairs)),
        key=lambda i: (-_answer_quality(cluster.pairs[i], typicality[i]) + 0.5 * dated_out[i], cluster.pairs[i].answer)
    )
    return [_candidate(cluster.pairs[i]) for i in ranked]


def choose_answers(cluster: Cluster) -> AnswerChoice:
    """Per audience, the best answer that passes the checks: said in its register, else converted from the other one.

    An audience's own askers' answers come first; an answer converted from the other register is
    served but marked for review; an audience with neither has none (the entry waits for a counsellor).
    """
    ranked = _ranked_candidates(cluster)
    sound = [c for c in ranked if not c.defects]
    answers: Dict[str, str] = {}
    derived, missing = set(), set()
    for audience in ("eleve", "parent"):
        native = [c for c in sound if _fits(c, audience)]
        native.sort(key=lambda c: c.asker_role != audience)  # stable: quality order within each role
        if native:
            answers[audience] = native[0].text
            continue
        for candidate in sound:
            # A parent is told about "votre enfant" (and addressed as "vous" only to ask or contact someone).
            converted = for_parents(candidate.text) if audience == "parent" else convert(candidate.text, TU)
            if converted is not None and not answer_defects(converted):
                answers[audience], _ = converted, derived.add(audience)
                break
        else:
            missing.add(audience)
            # What a counsellor starts from: the best answer the audience's own askers got, as it is.
            own = [c for c in ranked if c.asker_role == audience] or ranked
            answers[audience] = own[0].text
    turned_down = tuple(dict.fromkeys(reason for c in ranked for reason in c.defects)) if missing else ()
    return AnswerChoice(answers, frozenset(derived), frozenset(missing), turned_down)


def _best_answers(cluster: Cluster) -> Tuple[str, str]:
    choice = choose_answers(cluster)
    return choice.answers["eleve"], choice.answers["parent"]


def _sources(cluster: Cluster, limit: int = 3) -> Tuple[str, ...]:
    counts: Counter = Counter()
    first_seen: Dict[str, int] = {}
    for pair in cluster.pairs:
        for url in _URL.findall(pair.answer):
            url = url.rstrip(".,;:!?»")
            counts[url] += 1
            first_seen.setdefault(url, len(first_seen))
    return tuple(sorted(counts, key=lambda u: (-counts[u], first_seen[u]))[:limit])


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
    if not context or PLACEHOLDER.search(context):
        return sentence, False  # nothing before it that a button could show
    return f"{context[:1].upper()}{context[1:]} {sentence}", True


def _keywords(cluster: Cluster, limit: int = 6) -> List[str]:
    counts: Counter = Counter()
    for pair in cluster.pairs:
        counts.update({w for w in normalise(pair.asked).split() if len(w) > 2 and w not in STOPWORDS | _GENERIC_WORDS})
    return sorted(counts, key=lambda w: (-counts[w], w))[:limit]


# How a question shows its asker: a student's "je", a parent's "mon fils" or the family's "nous" ("Quels recours
# avons-nous ?"; a student says "on"), or no one ("Combien de vœux… ?").
_PARENT_VOICE = re.compile(r"(?i)\b(mon|ma|notre|nos|mes) (fils|fille|enfants?|ado|adolescente?|gar[çc]on)\b|"
                           r"\b(?:nous|notre|nos)\b")
_FIRST_PERSON = re.compile(r"(?i)\b(je|j'|moi|mon|ma|mes|me|m'|nous|notre|nos)\b|\bj['’]")
_SECOND_PERSON = re.compile(r"(?i)\b(tu|te|toi|ton|ta|tes|vous|votre|vos)\b|\bt['’]")
# Texting spellings that a button must not show ("cb de voeux", "jsp", "c koi"): the normaliser's table, and
# shortcuts it leaves as they are.
_SMS = re.compile(r"(?i)\b(" + "|".join(sorted(map(re.escape, set(TEXTING) | {
    "pcq", "tjrs", "mdr", "qq", "ajd", "auj", "msg", "rdv", "pb", "dsl", "ptet", "bosser", "taf", "ingé", "ca"}))) + r")\b")
# Spoken shortcuts a written question does not take: "faut classer…" (il faut), "= possible ?".
_COLLOQUIAL = re.compile(r"(?i)^faut\b|\s=\s|\bah bon\b|\bvs\b|\bou pas\b|\b(?:merde|putain|chiant|chier|foutu)\b")
# A question that goes on from an earlier one ("Et en PASS ?"), or speaks of someone not named in it
# ("Que devient sa bourse ?", "Combien de temps il a ?"; not the impersonal "il faut", "il y a").
_FOLLOWS_ON = re.compile(r"(?i)^(?:et|mais|ok|donc|alors|du coup|ou|sinon|si jamais|concr[èe]tement)\b")
_SOMEONE_UNNAMED = re.compile(r"(?i)(?<!-)\b(?:lui|elle|elles|ils|il(?! (?:y|faut|est possible|s'agit|reste|suffit|vaut|existe)))\b")
_CHILD_NAMED = re.compile(r"(?i)\b(?:mon|ma|notre) (?:fils|fille|enfant)\b")


# An inverted pronoun with no noun for it ("Sera-t-elle…"); "Le lycée pourra-t-il…" has its noun.
_INVERTED_PRONOUN = re.compile(
    r"(?i)\b(?!(?:faut|agit|a|reste|suffit|vaut|existe)-)\w+-(?:t-)?(?:il|elle|ils|elles)\b")
_NOUN_SUBJECT_FIRST = re.compile(
    r"(?i)^(?:(?:comment|quand|pourquoi|o[ùu]|combien|à quel moment)\s+)?(?:le|la|les|l'|un|une|des|ce|cette|mon|ma|notre|nos)\b")


def _speaks_of_someone_unnamed(text: str) -> bool:
    """A question about someone the button does not name ("Sera-t-elle remboursée ?"); one that names them does not count."""
    if _CHILD_NAMED.search(text):
        return False
    return bool(_SOMEONE_UNNAMED.search(text)) or (
        bool(_INVERTED_PRONOUN.search(text)) and not _NOUN_SUBJECT_FIRST.match(text))


_OBJECT_CLITICS = {"la", "le", "l'", "lui", "leur"}
_BARE_DEMONSTRATIVES = {"ça", "ca", "cela", "ceci"}
_EST_CE_ALONE = re.compile(r"(?i)\best-ce\b(?!\s*qu)")
# "La conservera-t-il… ?": a clitic opening the question, before an inverted subject (the tagger reads "La" as an article).
_CLITIC_FIRST = re.compile(r"(?i)^\W*(?:la|le|l['’])\s*\w+(?:-t)?-(?:il|elle|on|ils|elles)\b")


def _stands_for_something_unsaid(text: str) -> bool:
    """An object pronoun or a bare demonstrative standing for what the asker said before the question.

    "Dois-je la demander ?", "Peut-on l'inscrire au lycée ?", "Comment ça s'appelle ?", "Est-ce compatible… ?":
    the button would not say what "la", "l'", "ça" or "ce" is. Read with spaCy (the article "la" is not a pronoun).
    """
    if _EST_CE_ALONE.search(text) or _CLITIC_FIRST.match(text):
        return True
    tokens = list(parse(text))
    names_something = any(token.pos_ in ("NOUN", "PROPN") for token in tokens)
    if not names_something:  # "Qu'en pensez-vous ?", "Quels sont ses droits ?" name nothing at all
        return True
    for token in tokens:
        low = token.text.lower()
        if token.pos_ != "PRON":
            continue
        # "Ça sert à quoi, la fiche Avenir ?" names what "ça" is; "Comment ça s'appelle ?" does not.
        if low in _OBJECT_CLITICS or (low in _BARE_DEMONSTRATIVES and token.dep_.startswith("nsubj") and not names_something):
            return True
    return False


# Weaker: a demonstrative or a possessive that may point to something said before ("ces projets", "sa bourse").
_POINTS_BACK = re.compile(
    r"(?i)\b(?:ces|cette|cet|ce|sa|son|ses|leur)\b(?! (?:ann[ée]e|campagne|rentr[ée]e|moment|soir|week-end|mois))"
)
_ENUMERATION = re.compile(r"^\s*(?:\d+|[a-z])\s*[).:-]\s*")
_GREETING = re.compile(r"(?i)^(?:bonjour|bonsoir|salut|coucou|hello|re)\b[\s,!.]*")


@dataclass(frozen=True)
class Spelling:
    """How counsellors spell the words of their answers: the KB's own dictionary, right by construction.

    ``forms``: each word folded (no accents, lower case) -> its most frequent written form ("ca" -> "ça",
    "preference" -> "préférence", "crous" -> "Crous"); ``known``: every written form, in lower case.
    """

    forms: Dict[str, str] = field(default_factory=dict)
    known: FrozenSet[str] = frozenset()
    lower_case: FrozenSet[str] = frozenset()  # the words the answers write in lower case

    def respell(self, text: str) -> str:
        """Missing accents and lower-cased acronyms put right, where the answers spell the word one way."""

        def fix(match: re.Match) -> str:
            word = match.group()
            lowered = word.lower()
            written = self.forms.get(fold_accents(lowered))
            if written is None:
                return word
            if lowered in self.known:  # a real word as typed: only "crous" -> "Crous", "cvec" -> "CVEC"
                lower_case_only = (word == lowered and written.lower() == lowered and lowered not in self.lower_case
                                   and (written.isupper() or len(word) >= 4))
                return written if lower_case_only else word
            return written[:1].upper() + written[1:] if word[:1].isupper() else written

        return re.sub(r"[^\W\d_]+", fix, text)


def kb_spelling(clusters: Sequence[Cluster]) -> Spelling:
    counts: Counter = Counter()
    for cluster in clusters:
        for pair in cluster.pairs:
            text = _URL.sub(" ", clean_answer(pair.answer))
            # A capital after a full stop says nothing of the word ("Mon conseil…"): sentence openings are left out.
            counts.update(m.group(2) for m in re.finditer(r"(^|[.!?:]\s*)?([^\W\d_]+)", text) if m.group(1) is None)
    forms: Dict[str, str] = {}
    for word, _ in counts.most_common():
        forms.setdefault(fold_accents(word.lower()), word)
    return Spelling(forms, frozenset(w.lower() for w in counts), frozenset(w for w in counts if w.islower()))


@dataclass(frozen=True)
class TitleCandidate:
    text: str
    completed: bool  # context had to be added in front of it
    asker_role: str
    voice: str  # "neutral", "student" (je), "parent" (mon enfant), "addressed" (tu/vous)


# "je ai" -> "j'ai", "ce est" -> "c'est", "quelqu un" -> "quelqu'un": the normaliser's expansions, elided again.
_ELIDED = re.compile(r"\b(j|c|d|n|qu|l|m|t|s|quelqu|jusqu)(?:e|a)? (?=[aeiouyhéè])")


def _written_out(sentence: str) -> str:
    """Texting spellings written out ("C koi…" -> "C'est quoi…", "jdois" -> "je dois"), from the normaliser's table.

    Acronyms (all capitals) and the single letters that are not texting ("g" for "j'ai" is also a grade) are left.
    """

    def expand(match: re.Match) -> str:
        word = match.group()
        if (word.isupper() and len(word) > 1) or word.lower() == "g":
            return word
        written = TEXTING.get(word.lower())
        if written is None:
            return word
        written = _ELIDED.sub(r"\1'", written)
        return written[:1].upper() + written[1:] if word[:1].isupper() else written

    return re.sub(r"[^\W\d_]+", expand, sentence)


def _as_a_button(sentence: str) -> str:
    """Texting written out, greetings and lead-ins off, a capital first, one space before the question mark."""
    sentence = _written_out(sentence)
    previous = None
    while previous != sentence:
        previous = sentence
        sentence = _ENUMERATION.sub("", _GREETING.sub("", _LEAD_IN.sub("", sentence.strip())))
    sentence = re.sub(r"\s*\?+$", " ?", re.sub(r"\s+", " ", sentence)).strip()
    return sentence[:1].upper() + sentence[1:]


def _voice(text: str) -> str:
    if _PARENT_VOICE.search(text):
        return "parent"
    if _FIRST_PERSON.search(text):
        return "student"
    return "addressed" if _SECOND_PERSON.search(text) else "neutral"


def _for_parents(text: str) -> str:
    """A parent's question about their son or daughter, about "mon enfant" (the button is shown to every parent)."""
    text = re.sub(r"\b([Mm])a fille (\w+)-(t-)?elle\b", r"\1on enfant \2-\3il", text)
    text = re.sub(r"\b([Mm])a fille\b", r"\1on enfant", text)
    return re.sub(r"\b([Mm])on fils\b", r"\1on enfant", text)


def reads_as_a_question(text: str) -> bool:
    """A complete question: ends with "?", and has a verb or at least two nouns ("Le montant de la CVEC ?")."""
    if not text.endswith("?") or len(text.split()) < 3:
        return False
    doc = parse(text)
    return any(t.pos_ in ("VERB", "AUX") for t in doc) or sum(t.pos_ in ("NOUN", "PROPN") for t in doc) >= 2


def misspelt_words(text: str, spelling: Spelling) -> List[str]:
    """Texting spellings, and words the KB's answers do not use that spaCy does not know either."""
    found = [m.group() for m in _SMS.finditer(text)]
    for token in parse(text):
        word = token.text.lower()
        if token.is_alpha and len(word) > 2 and word not in spelling.known and (
                token.is_oov or fold_accents(word) in spelling.forms) and not token.text.isupper():
            found.append(token.text)
    return found


_FIRST_PERSON_SUBJECTS = {"je", "j'", "moi"}
_SAYS_JE = re.compile(r"(?i)\bje\b|\bj['’]")


def _carries_the_askers_gender(text: str) -> bool:
    """"Je suis boursière", "je suis bloquée", "je serai payé": an attribute of "je" with two forms (not "interne").

    Read with spaCy for what agrees with "je"; whether the word has two forms is read from its spelling (the tagger
    gives "boursier" as feminine): a feminine ending, or a masculine one without the "-e" both genders share.
    """
    for token in parse(text):
        if not any(child.dep_.startswith(("cop", "aux:pass")) for child in token.children):
            continue
        if not any(child.dep_.startswith("nsubj") and child.lower_ in _FIRST_PERSON_SUBJECTS for child in token.children):
            continue
        if any(_has_two_forms(word) for word in [token, *(child for child in token.children if child.dep_ == "conj")]):
            return True
    # "Pas boursière, est-ce que je peux… ?": a feminine adjective set before the question, about its "je".
    opening = re.split(r"[,:]", text, maxsplit=1)[0]
    return opening != text and bool(_SAYS_JE.search(text)) and any(
        is_gender_marked(token.text) and (token.pos_ == "ADJ" or token.morph.get("VerbForm") == ["Part"])
        and not token.morph.get("NumType") for token in parse(opening))


def _has_two_forms(word) -> bool:
    if not word.is_alpha or word.morph.get("VerbForm") == ["Fin"] or word.pos_ not in ("ADJ", "NOUN", "VERB"):
        return False
    masculine_form = word.pos_ == "ADJ" or word.morph.get("VerbForm") == ["Part"]
    return is_gender_marked(word.text) or (masculine_form and not word.lower_.endswith(("e", "es")))


_QUESTION_WORDS = {"quel", "quelle", "quels", "quelles", "combien", "comment", "quand", "où", "pourquoi", "qui", "quoi",
                   "que", "qu'"}
_POSSESSIVES = {"sa", "son", "ses", "leur", "leurs"}


def _leans_on_the_conversation(text: str) -> bool:
    """A question that only the asker's conversation made clear: "Quels sont ses droits ?" (whose?), "Le 15 septembre
    un an ?" (figures with no verb, no question word, no pronoun: they answer a figure said before)."""
    tokens = list(parse(text))
    for i, token in enumerate(tokens):
        if token.lower_ in _POSSESSIVES and not any(t.pos_ in ("NOUN", "PROPN") for t in tokens[:i]):
            return True
    # After a subject folded in front ("Stage 3e : La convention ?"), the question is what follows the colon.
    asked = [t for t in tokens if t.idx > text.rfind(" : ")]
    # The tagger misses some verbs of spoken questions ("Les sous-vœux ça compte… ?"): a pronoun shows a clause.
    return any(t.like_num for t in asked) and not any(
        t.pos_ in ("VERB", "AUX", "PRON") or t.lower_ in _QUESTION_WORDS for t in asked)


_PLACE_PREPOSITIONS = {"à", "a", "au", "chez"}


def _names_what_the_kb_does_not(text: str, spelling: Spelling) -> bool:
    """A name the KB's answers never use: a school ("…existe pas a escoffier ?"), a town, a person. Capitalised
    inside the question, or unknown to spaCy after "à"/"chez"; written nowhere in the answers (acronyms are left)."""
    tokens = list(parse(text))
    for i, token in enumerate(tokens):
        word = token.text
        if not token.is_alpha or word.isupper() or word.lower() in spelling.known or fold_accents(word.lower()) in spelling.forms:
            continue
        after_a_preposition = i > 0 and tokens[i - 1].lower_ in _PLACE_PREPOSITIONS and token.is_oov
        if (i and word[:1].isupper()) or after_a_preposition:
            return True
    return False


def _unfit_for(candidate: TitleCandidate, audience: str, spelling: Spelling) -> bool:
    """A title no one else can be shown: one asker's gender, a parent's words on a student's button, a name.

    Ranked just after the questions that need their conversation, which are worse; an entry whose every question
    is unfit still shows the least bad one.
    """
    text = candidate.text
    return (_carries_the_askers_gender(text) or (audience == "eleve" and candidate.voice == "parent")
            or _names_what_the_kb_does_not(text, spelling))


def _title_cost(candidate: TitleCandidate, audience: str, keywords: set, spelling: Spelling) -> tuple:
    text = candidate.text
    wrong_voice = candidate.voice == ("parent" if audience == "eleve" else "student")
    on_topic = len(keywords.intersection(normalise(text).split())) >= 2
    return (
        bool(PLACEHOLDER.search(text) or LOCAL_DETAIL.search(text)),
        _needs_context(text) or bool(_FOLLOWS_ON.match(text)) or _leans_on_the_conversation(text),
        # A follow-up completed with the subject of the asker's previous question, when that subject is not what
        # the entry is asked about: "Licence socio : ça prend combien de temps ?" over an answer on returning to
        # training. A button must not promise what the answer does not say.
        candidate.completed and not on_topic,
        _speaks_of_someone_unnamed(text),
        _stands_for_something_unsaid(text),
        _unfit_for(candidate, audience, spelling),
        not reads_as_a_question(text),
        bool(misspelt_words(text, spelling)),
        bool(_COLLOQUIAL.search(text)),
        wrong_voice,
        candidate.voice == "addressed",
        candidate.completed or tells_a_personal_situation(text),
        candidate.voice != "neutral",
        not on_topic,
        bool(_POINTS_BACK.search(text)),
        abs(len(text) - 70) // 25,
        candidate.asker_role != audience,
        text,
    )


def titles(cluster: Cluster, spelling: Spelling = Spelling()) -> Tuple[str, str]:
    """The entry's canonical question for the did-you-mean buttons: (students', parents').

    Each is the variant that reads best for its audience: complete, spelt right, standing alone, in no
    one's voice when one exists (else the audience's own: "je" for a student, "mon enfant" for a parent).
    ``spelling``: how the KB's answers spell words (missing accents and acronyms are put right first).
    """
    keywords = set(_keywords(cluster))
    candidates, seen = [], set()
    for pair in cluster.pairs:
        sentence, completed = _title_of(pair)
        text = spelling.respell(_as_a_button(sentence))
        if normalise(text) in seen:
            continue
        seen.add(normalise(text))
        candidates.append(TitleCandidate(text, completed, pair.asker_role, _voice(text)))
    chosen = {}
    for audience in ("eleve", "parent"):
        best = min(candidates, key=lambda c: _title_cost(c, audience, keywords, spelling)).text
        if not _names_its_subject(best, keywords):
            best = _with_the_subject(best, cluster, spelling)
        chosen[audience] = _for_parents(best) if audience == "parent" else best
    return chosen["eleve"], chosen["parent"]


# A longer question says what it is about even when it names no topic ("Qui accorde l'année de césure… ?").
SHORT_TITLE_WORDS = 10


def _names_its_subject(title: str, keywords: set) -> bool:
    """"Quel est le minimum légal ?", "Est-ce la même démarche ?": a button must say what it is about."""
    words = normalise(title).split()
    return topic_of(title) is not None or len(keywords.intersection(words)) >= 2 or len(words) > SHORT_TITLE_WORDS


def _with_the_subject(title: str, cluster: Cluster, spelling: Spelling) -> str:
    """The title after the subject its entry's questions name most often ("Mentor : comment fait-on la demande ?"),
    as a follow-up's title shows the subject folded into it."""
    said: Counter = Counter()
    forms: Dict[str, Counter] = {}
    for pair in cluster.pairs:
        subject = subject_of(pair.asked)
        if subject:
            said[normalise(subject)] += 1
            forms.setdefault(normalise(subject), Counter())[subject] += 1
    key = min(said, key=lambda k: (-said[k], k)) if said else ""
    if said[key] < 2 or " : " in title:
        return title  # a subject named once is one asker's, not the entry's
    subject = spelling.respell(min(forms[key], key=lambda f: (-forms[key][f], f)))
    opening = title[:1].lower() if title[1:2].islower() else title[:1]  # "BTS" stays
    return f"{subject[:1].upper()}{subject[1:]} : {opening}{title[1:]}"


def build_entries(clusters: Sequence[Cluster]) -> List[KnowledgeEntry]:
    spelling = kb_spelling(clusters)
    titled = [(cluster, titles(cluster, spelling)) for cluster in clusters]
    ordered = sorted(titled, key=lambda ct: (-len(ct[0].pairs), normalise(ct[1][0])))
    taken: set = set()
    entries = []
    for cluster, (title, title_parent) in ordered:
        choice = choose_answers(cluster)
        answer_eleve, answer_parent = choice.answers["eleve"], choice.answers["parent"]
        dated_text = answer_eleve + " " + answer_parent
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
                title_parent=title_parent,
                answer_eleve=answer_eleve,
                answer_parent=answer_parent,
                sources=_sources(cluster),
                variants=tuple(variants),
                times_asked=len(cluster.pairs),
                campaign_year=campaign_year(dated_text),
                valid_until=max(filter(None, (valid_until(answer_eleve), valid_until(answer_parent))), default=None),
                status="review" if choice.missing else "active",
                review_reasons=choice.review_reasons,
            )
        )
    return entries

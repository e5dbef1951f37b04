import re

import pytest

from orientbot import safety
from orientbot.normalise import normalise
from orientbot.safety import Distress, detect_distress, infer_kind, matching_pattern


@pytest.mark.parametrize(
    "text, kind",
    [
        ("je pense à mourir tous les soirs", "suicide"),
        ("jveux plus vivre", "suicide"),
        ("jpp de cette vie franchement", "suicide"),
        ("je me scarifie depuis la rentrée", "suicide"),
        ("Notre fille nous a dit qu'elle avait des idées noires", "suicide"),
        ("mon beau-père me frappe quand il a bu", "enfance-en-danger"),
        ("des gars de ma classe me tapent a la recre", "harcelement"),
        ("une fille de ma classe, on la martyrise dans les vestiaires", "harcelement"),
        ("il m'a étranglée hier", "enfance-en-danger"),
        ("un prof m'a fait des attouchements", "enfance-en-danger"),
        ("le copain de ma mere me force a faire des choses que jveux pas", "enfance-en-danger"),
        ("ils ont posté des photos de moi sur un faux compte", "cyberharcelement"),
        ("quelqu'un me fait du chantage avec des nudes", "cyberharcelement"),
        ("on me harcèle au collège", "harcelement"),
        ("ils se moquent de moi tous les jours", "harcelement"),
    ],
)
def test_distress_is_recognised_with_its_kind(text, kind):
    found = detect_distress(text)
    assert found is not None and found.kind == kind


# Said indirectly, or by a parent, a brother or sister, a friend (worded after the transcripts' own distress messages).
@pytest.mark.parametrize(
    "text, kind",
    [
        # a child insulted every day at school, the staff doing nothing
        ("Mon fils est insulté tous les jours en classe et personne au collège ne réagit", "harcelement"),
        ("ma fille se fait insulter chaque midi au self, les surveillants laissent faire", "harcelement"),
        ("ils me traitent de boloss chaque jour dans le bus", "harcelement"),
        ("tout le monde se moque de lui au lycée", "harcelement"),
        ("on se moque de moi dans le bus", "harcelement"),
        ("ils me bousculent dans les couloirs", "harcelement"),
        ("des eleves de 4e lui piquent ses affaires", "harcelement"),
        ("un numéro inconnu m'écrit qu'il sait où j'habite", "harcelement"),
        ("si je le dis au cpe ça va être pire", "harcelement"),
        ("mon fils refuse d'y retourner depuis lundi", "harcelement"),
        # veiled words about an attempt or a goodbye, reported by someone else
        ("j'ai peur que mon fils fasse une bêtise, il ne parle plus à personne", "suicide"),
        ("j'ai peur qu'il fasse une bêtise, il ne supporte plus la pression de Parcoursup", "suicide"),
        ("Notre fille a fait une bêtise cette nuit, elle a avalé des cachets", "suicide"),
        ("ma meilleure amie a écrit sur son compte qu'elle ne serait bientôt plus là", "suicide"),
        ("ma copine a mis en story demain jserai plus la desolee", "suicide"),
        ("elle m'a envoyé merci pour tout, prends soin de toi", "suicide"),
        ("mon pote dit qu'il va sauter d'un pont", "suicide"),
        ("mon grand frère dit qu'il veut se tuer", "suicide"),
        ("ma soeur ne veut plus vivre", "suicide"),
        ("il se coupait les bras le soir", "suicide"),
        ("jme coupe le soir", "suicide"),
        ("jme tue si ca se sait", "suicide"),
        # a child in danger at home or with an adult, told by a friend
        ("mon frère a des bleus sur les bras et il n'ose plus rentrer chez lui", "enfance-en-danger"),
        ("une fille de ma classe a tout le temps des bleus, elle dit que c'est son beau-père", "enfance-en-danger"),
        ("l'entraîneur du club demande des photos à ma petite soeur", "enfance-en-danger"),
        ("son père le tape avec la ceinture", "enfance-en-danger"),
        ("le compagnon de ma mère est violent avec nous deux", "enfance-en-danger"),
        ("il veut me tuer", "enfance-en-danger"),
        # online
        ("sur snapchat, des camarades font circuler des montages truqués de notre fille", "cyberharcelement"),
        ("un gars menace d'envoyer mes photos, sinon il les publie", "cyberharcelement"),
    ],
)
def test_distress_told_indirectly_or_by_someone_else(text, kind):
    found = detect_distress(text)
    assert found is not None, text
    assert found.kind == kind, (text, found)


@pytest.mark.parametrize(
    "text",
    [
        "combien de voeux sur parcoursup ?",
        "mort de rire ce prof",
        "c'est quoi le droit au retour en formation ?",
        "je veux faire un bac pro vente",
        "",
        # ordinary wording that used to set the patterns off
        "je préfère ne plus toucher à rien sur mon dossier Parcoursup, j'ai peur de faire une bêtise",
        "j'ai fait une grosse bêtise, j'ai supprimé mon voeu",
        "j'ai fait une bêtise dans mes voeux, je peux corriger ?",
        "notre fille a fait une bêtise au collège, la principale nous convoque jeudi",
        "mon fils passe ses soirées sur un jeu vidéo violent, peut-il faire un BTS dans le jeu vidéo ?",
        "un film violent en cours de français, c'est normal ?",
        "les sports violents comme la boxe, il y a un bac pro ?",
        "c'est le dernier délai pour confirmer mes voeux ?",
        "c'est la dernière chance pour m'inscrire ?",
        "je voudrais en finir avec ce dossier de bourse",
        "j'aimerais en finir avec Parcoursup et confirmer mon voeu",
        "il touche une bourse de 200 euros par mois",
        "mon compte parcoursup a été piraté ?",
        "notre professeur principal ne sera plus là l'an prochain",
        "elle ne sera plus là en septembre, elle part en alternance",
        "je meurs d'envie d'aller en prépa",
        "on se moque de nous, la bourse a été refusée",
        "ça me touche beaucoup, merci",
        "le prof principal ne sert à rien",
        "le lycée demande des photos d'identité pour le dossier",
        "je vais me couper les cheveux avant l'oral",
        "peut-on sauter une classe ?",
        "la filière est menacée de fermeture ?",
        "mdr je vais mourir de rire",
        "mon fils dort chez son père le week-end, quelle adresse pour le dossier ?",
        "ma lettre de motivation, je la tape sur word ?",
        "ça me tape sur les nerfs ces délais",
        "je tape mon rapport de stage tous les jours",
    ],
)
def test_ordinary_questions_are_not_distress(text):
    assert detect_distress(text) is None


def test_a_parent_threatening_counts_as_danger_not_suicide():
    # "elle va me tuer" was a beaten child's words in the transcripts: recall first, but not the 3114.
    assert detect_distress("ma mère va me tuer si elle voit le numéro").kind == "enfance-en-danger"
    assert detect_distress("je vais me tuer").kind == "suicide"


def test_kind_goes_to_the_school_when_pupils_hit_and_home_when_a_parent_does():
    assert detect_distress("des élèves le frappent dans les vestiaires").kind == "harcelement"
    assert detect_distress("son père la frappait, elle n'ose plus rentrer chez elle").kind == "enfance-en-danger"


def _literal_words(pattern: str):
    pattern = re.sub(r"\\[bBwWsSdD]", " ", pattern)
    pattern = re.sub(r"\(\?[:!=<]+", " ", pattern)
    pattern = re.sub(r"\{\d+,?\d*\}", " ", pattern)
    return set(re.findall(r"[a-z0-9]+", pattern))


def test_every_pattern_word_survives_normalisation():
    """A word the normaliser rewrites (an elision, an SMS spelling, an accent) could never match."""
    sources = [p for patterns in safety._PATTERNS.values() for p in patterns] + [safety._BENIGN.pattern]
    sources += [rule.pattern for _, rule in safety._KIND_RULES]
    dead = {word: normalise(word) for source in sources for word in _literal_words(source)
            if word not in normalise(word).split()}
    assert dead == {}


def test_accents_and_sms_spelling_are_matched_through_the_normaliser():
    assert detect_distress("Jme fais harcelé au lycée").kind == "harcelement"
    assert detect_distress("J’ai envie d’en finir").kind == "suicide"
    assert detect_distress("je me fais harceler", already_normalised=True).kind == "harcelement"


class FakeClassifier:
    def __init__(self, probability: float):
        self.value = probability
        self.seen = []

    def probability(self, text: str, *, already_normalised: bool = False) -> float:
        self.seen.append((text, already_normalised))
        return self.value


class Unreachable:
    def probability(self, text, *, already_normalised=False):
        raise AssertionError("the classifier is not asked when a pattern matched")


def test_the_classifier_alone_can_flag_distress_with_an_inferred_kind():
    classifier = FakeClassifier(0.9)
    found = detect_distress("ça ne va pas du tout en ce moment", classifier=classifier, threshold=0.5)
    assert found == Distress(kind="general", pattern="classifier", probability=0.9)
    assert classifier.seen == [(normalise("ça ne va pas du tout en ce moment"), True)]


def test_below_its_threshold_the_classifier_does_not_fire():
    assert detect_distress("ça ne va pas du tout en ce moment", classifier=FakeClassifier(0.4), threshold=0.5) is None
    assert detect_distress("ça ne va pas du tout", classifier=FakeClassifier(0.9)) is not None  # default threshold
    assert detect_distress("", classifier=FakeClassifier(1.0)) is None


def test_a_pattern_wins_without_asking_the_classifier():
    found = detect_distress("je veux mourir", classifier=Unreachable())
    assert found.kind == "suicide" and found.probability is None and found.pattern != "classifier"


def test_a_message_explaining_its_alarming_words_is_left_to_the_patterns():
    for text in ("je voudrais en finir avec ce dossier de bourse", "il joue à un jeu vidéo violent, il peut en faire son métier ?"):
        assert detect_distress(text, classifier=Unreachable()) is None
    assert detect_distress("mdr je vais mourir de rire, mais en vrai on me harcèle au lycée", classifier=Unreachable()).kind == "harcelement"


def test_the_neutralised_text_drops_only_the_ordinary_sayings():
    assert safety.neutralise(normalise("je veux en finir avec ce dossier, mort de rire")) == "je veux"
    assert safety.neutralise(normalise("je veux en finir avec la vie")) == "je veux en finir avec la vie"


@pytest.mark.parametrize(
    "text, kind",
    [
        ("il parle de la mort sans arrêt", "suicide"),
        ("à la maison ça hurle tous les soirs avec le copain de ma mère", "enfance-en-danger"),
        ("notre fille reçoit des messages inquiétants d'un inconnu sur insta", "cyberharcelement"),
        ("des élèves de ma classe l'embêtent sans arrêt", "harcelement"),
        ("je ne vais pas bien", "general"),
        ("mon fils ne va pas bien depuis qu'il est au lycée", "general"),  # a school named is not bullying
    ],
)
def test_the_kind_of_a_classifier_only_hit(text, kind):
    assert infer_kind(text) == kind


def test_matching_pattern_is_the_patterns_verdict_alone():
    assert matching_pattern("je pense au suicide").kind == "suicide"
    assert matching_pattern("ça ne va pas du tout") is None

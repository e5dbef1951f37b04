import pytest

from knowledge.register import MIXED, NEUTRAL, TU, VOUS, convert, register_of, without_the_askers_child


@pytest.mark.parametrize("text, register", [
    ("Tu peux envoyer ton dossier jusqu'au vendredi.", TU),
    ("Renseigne-toi auprès de la vie scolaire.", TU),
    ("Vous pouvez joindre le secrétariat par téléphone.", VOUS),
    ("Prenez rendez-vous avec la psychologue de l'établissement.", VOUS),
    ("Le dossier se dépose au secrétariat avant les vacances.", NEUTRAL),
    ("Tu peux venir avec votre fille au salon.", MIXED),
])
def test_register_of(text, register):
    assert register_of(text) == register


@pytest.mark.parametrize("student, parent", [
    ("Tu peux garder ta bourse si tu changes de lycée.", "Vous pouvez garder votre bourse si vous changez de lycée."),
    ("Inscris-toi au CDI et renseigne-toi sur les ateliers.", "Inscrivez-vous au CDI et renseignez-vous sur les ateliers."),
    ("N'hésite pas à écrire au secrétariat, il t'aidera.", "N'hésitez pas à écrire au secrétariat, il vous aidera."),
    ("Tu auras la réponse en juin et tu pourrais la contester.", "Vous aurez la réponse en juin et vous pourriez la contester."),
    ("Fais ta demande, puis attends le courrier du rectorat.", "Faites votre demande, puis attendez le courrier du rectorat."),
    ("Si tu t'inscris tôt, tu choisis tes horaires.", "Si vous vous inscrivez tôt, vous choisissez vos horaires."),
    ("Peux-tu passer au CIO ? Prends un rendez-vous avant.", "Pouvez-vous passer au CIO ? Prenez un rendez-vous avant."),
    ("Si tu veux changer, va voir ton collège.", "Si vous voulez changer, allez voir votre collège."),
    ("Après le conseil, tes parents ont trois jours pour répondre.", "Après le conseil, vous avez trois jours pour répondre."),
])
def test_tu_to_vous(student, parent):
    assert convert(student, VOUS) == parent


@pytest.mark.parametrize("parent, student", [
    ("Vous pouvez vous inscrire en ligne : renseignez-vous auprès du lycée.",
     "Tu peux t'inscrire en ligne : renseigne-toi auprès du lycée."),
    ("Votre demande se fait sur le site ; contactez votre établissement.",
     "Ta demande se fait sur le site ; contacte ton établissement."),
    ("Si vous êtes boursier, il vous suffit d'envoyer l'attestation.",
     "Si tu es boursier, il te suffit d'envoyer l'attestation."),
    ("Il faut que vous ayez complété vos pièces : vous appelez ensuite le service.",
     "Il faut que tu aies complété tes pièces : tu appelles ensuite le service."),
    ("Adressez-vous au secrétariat, qui vous remettra le formulaire.",
     "Adresse-toi au secrétariat, qui te remettra le formulaire."),
    ("Vous êtes reçus par la principale, puis vous recevrez la décision.",
     "Tu es reçu par la principale, puis tu recevras la décision."),
])
def test_vous_to_tu(parent, student):
    assert convert(parent, TU) == student


def test_texts_in_the_right_register_or_in_none_are_kept():
    assert convert("Le dossier se dépose avant mai.", VOUS) == "Le dossier se dépose avant mai."
    assert convert("Tu peux venir.", TU) == "Tu peux venir."


def test_people_that_do_not_map_one_to_one_are_not_converted():
    assert convert("Votre enfant peut choisir trois options.", TU) is None  # the child is not the reader
    assert convert("Parles-en avec ta mère ce soir.", VOUS) is None
    assert convert("Parles-en à tes parents.", VOUS) is None


def test_the_askers_son_or_daughter_becomes_their_child():
    assert without_the_askers_child("Votre fils peut déposer sa demande.") == "Votre enfant peut déposer sa demande."
    assert without_the_askers_child("Votre fille peut déposer sa demande.") == "Votre enfant peut déposer sa demande."
    # "elle" would no longer agree: left as it is (the checks and the register then decide).
    assert without_the_askers_child("Votre fille est prête, elle peut candidater.").startswith("Votre fille")


@pytest.mark.parametrize("text, target", [
    # An imperative the conversion does not know would stay in "tu" inside a "vous" answer.
    ("Ton dossier est complet. Continue à relancer les employeurs et demande la liste au CFA.", VOUS),
    ("Tu peux changer de lycée : fais la demande avec ton prof principal, et cherche où la spécialité existe.", VOUS),
    # A reflexive "vous" before a verb is "te", never "toi".
    ("Le plus simple est de vous adresser au secrétariat dès septembre.", TU),
])
def test_a_conversion_that_would_mix_both_registers_is_not_made(text, target):
    assert convert(text, target) is None

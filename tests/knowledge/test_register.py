import pytest

from knowledge.register import MIXED, NEUTRAL, TU, VOUS, convert, for_parents, register_of, without_the_askers_child


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
    # Clause-opening imperatives the tagger reads as nouns ("Contacte", "demande") are found by the verb list.
    ("Ton dossier est complet. Continue à relancer les employeurs et demande la liste au CFA.",
     "Votre dossier est complet. Continuez à relancer les employeurs et demandez la liste au CFA."),
    ("Tu peux changer de lycée : fais la demande avec ton prof principal, et cherche où la spécialité existe.",
     "Vous pouvez changer de lycée : faites la demande avec votre prof principal, et cherchez où la spécialité existe."),
    # After "si…," the main clause may be an imperative.
    ("Si tu hésites, choisis la voie générale.", "Si vous hésitez, choisissez la voie générale."),
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
    # An imperative the conversion does not find would stay in "tu" inside a "vous" answer.
    ("Ton stage commence lundi ; d'ici là, contacte ton tuteur.", VOUS),
    # A reflexive "vous" before a verb is "te", never "toi".
    ("Le plus simple est de vous adresser au secrétariat dès septembre.", TU),
])
def test_a_conversion_that_would_mix_both_registers_is_not_made(text, target):
    assert convert(text, target) is None


# --- a student answer told to a parent (for_parents) ---------------------------------------------------------

@pytest.mark.parametrize("student, parent", [
    # "tu" -> "votre enfant", every time (no "il"/"elle"), the verb in the third person singular.
    ("Tu dois avoir quinze ans au moins.", "Votre enfant doit avoir quinze ans au moins."),
    ("Tu pourras suivre ta spécialité dans un lycée voisin.", "Votre enfant pourra suivre sa spécialité dans un lycée voisin."),
    ("Si tu redoubles, tu gardes ta place et tu choisis tes options.",
     "Si votre enfant redouble, votre enfant garde sa place et votre enfant choisit ses options."),
    ("Tu prends le car et tu mets une heure ; tu viendrais en juin si tu pouvais.",
     "Votre enfant prend le car et votre enfant met une heure ; votre enfant viendrait en juin si votre enfant pouvait."),
    ("Tu as choisi tes vœux ; tu les confirmeras en avril.", "Votre enfant a choisi ses vœux ; votre enfant les confirmera en avril."),
    # "te" with the pupil as subject -> "se".
    ("Tu t'inscris au foyer, puis tu peux te présenter au bureau.",
     "Votre enfant s'inscrit au foyer, puis votre enfant peut se présenter au bureau."),
    # A possessive before the child is named -> "le/la/les … de votre enfant", with "au/aux/du/des".
    ("Ton inscription en internat se fait en juillet.", "L'inscription de votre enfant en internat se fait en juillet."),
    ("Ta fiche de liaison part au lycée demandé.", "La fiche de liaison de votre enfant part au lycée demandé."),
    ("Le conseil de classe répond à tes souhaits en mars.", "Le conseil de classe répond aux souhaits de votre enfant en mars."),
    ("Tes crédits ECTS comptent aussi.", "Les crédits ECTS de votre enfant comptent aussi."),
    # A noun after "(" is not an imperative, even when a verb is spelled like it ("médeciner").
    ("Trois filières (médecine, pharmacie, kiné) : tu choisis.", "Trois filières (médecine, pharmacie, kiné) : votre enfant choisit."),
    # "Faute de…" opens a clause but is no imperative.
    ("Faute de réponse, tu perds la place.", "Faute de réponse, votre enfant perd la place."),
    # A sentence ends at ". ", not at the dots of an address: the series of imperatives goes on.
    ("Compare les fiches sur https://www.onisep.fr et parles-en à ton professeur.",
     "Votre enfant doit comparer les fiches sur https://www.onisep.fr et en parler à son professeur."),
    # "tes parents" with a pronoun before their verb.
    ("Tu es boursier ? Non : tes parents la demandent en septembre.", None),
    ("Tes parents la demandent en septembre.", "Vous la demandez en septembre."),
    # The child's family is the reader's; a "famille de métiers" is not.
    ("Dans ta famille de métiers, tu as trois options.", "Dans la famille de métiers de votre enfant, votre enfant a trois options."),
    ("L'échelon dépend des revenus de ta famille.", "L'échelon dépend des revenus de votre famille."),
    # Once named: "son/sa/ses", "te" as an object -> "lui", "l'" before a vowel; "te la" -> "la lui".
    ("Tu peux t'inscrire en ligne. Ton professeur principal peut t'aider et il te dira quoi joindre.",
     "Votre enfant peut s'inscrire en ligne. Son professeur principal peut l'aider et il lui dira quoi joindre."),
    ("Tu reçois un avis ; ta CPE te le remettra.", "Votre enfant reçoit un avis ; sa CPE le lui remettra."),
    # Imperatives that ask, contact or look up are said to the parent ...
    ("Contacte le CIO ou demande à ton prof principal.", "Contactez le CIO ou demandez au prof principal de votre enfant."),
    ("Si tu veux changer, va voir ton collège.", "Si votre enfant veut changer, allez voir son collège."),
    ("Tu peux redoubler. N'hésite pas à te renseigner au secrétariat.",
     "Votre enfant peut redoubler. N'hésitez pas à vous renseigner au secrétariat."),
    # ... any other is what the child must do.
    ("Inscris-toi au club théâtre et pense à rendre ta fiche.",
     "Votre enfant doit s'inscrire au club théâtre et penser à rendre sa fiche."),
    ("Tu as une place. Garde-la, puis attends le courrier.",
     "Votre enfant a une place. Votre enfant doit la garder, puis attendre le courrier."),
    ("Ne rate pas la réunion, tu y apprendras les dates.", "Votre enfant ne doit pas rater la réunion, votre enfant y apprendra les dates."),
    ("Si tu hésites, choisis la voie générale.", "Si votre enfant hésite, votre enfant doit choisir la voie générale."),
    # "toi" -> "votre enfant", and the verb after "toi qui" agrees with it.
    ("C'est toi qui décides, avec ton professeur.", "C'est votre enfant qui décide, avec son professeur."),
    # "te" in a clause said to the parent: "vous" when the parent asks ...
    ("Tu as des questions ? Adresse-toi au CPE.", "Votre enfant a des questions ? Adressez-vous au CPE."),
    # ... else the child is still the one it speaks of.
    ("Tu as un doute ? Demande au CPE de t'aider.", "Votre enfant a un doute ? Demandez au CPE de l'aider."),
    # An imperative without any pronoun is in "tu" all the same.
    ("Prends rendez-vous au CIO.", "Prenez rendez-vous au CIO."),
    ("Choisis une option avant mars.", "Votre enfant doit choisir une option avant mars."),
    ("Retiens la date du conseil.", "Votre enfant doit retenir la date du conseil."),
    # The parents of the student answer are the reader; "chez toi" is the family's home.
    ("Après l'avis, tes parents ont huit jours ; tu restes chez toi.",
     "Après l'avis, vous avez huit jours ; votre enfant reste chez vous."),
])
def test_a_student_answer_is_told_to_the_parent_about_their_child(student, parent):
    assert for_parents(student) == parent


def test_texts_already_for_parents_or_in_no_register_are_kept():
    assert for_parents("Vous recevrez la notification fin juin.") == "Vous recevrez la notification fin juin."
    assert for_parents("La cantine ferme à treize heures.") == "La cantine ferme à treize heures."


@pytest.mark.parametrize("student", [
    # An attribute would agree with the child, whose gender is unknown.
    "Tu es admise en seconde générale.",
    "Tu n'es pas obligé de rester à l'internat.",
    "Tu as été reçu au concours.",
    "Tu t'es inscrit trop tard.",
    "Tu peux envoyer ta fiche pour être accepté.",
    "Une fois affecté, tu reçois un courriel.",
    "Sois prêt pour l'oral de septembre.",
    "Prends l'option où tu es la plus à l'aise.",
    "Choisis la matière où tu te sens fort.",
    "C'est un projet que tu mènes seule.",
    # "le tien" would be "le sien": whose?
    "Le montant dépend de l'échelon, le tien est le 4.",
    # "ça t'intéresse" before the child is named: "l'" would refer to no one.
    "Si ça t'intéresse, tu pourras candidater.",
    # "te" before "inscrire" in a clause said to the parent: who is enrolled?
    "Demande au CPE de t'inscrire.",
    # Questions ("peut-il ?") and "toi-même" ("lui-même") need a gendered pronoun.
    "Peux-tu passer au CIO demain ?",
    "Tu signes toi-même ta convention.",
    # "te" as a direct object before a consonant would be "le" or "la".
    "Tu passes l'oral et le jury te convoquera.",
    # "lui" / "l'" with no one named before: who would it be?
    "Le CIO peut t'aider si tu ne trouves rien.",
    "Il te suffit d'écrire au collège.",
    # "te" before a pronominal verb whose subject is not the pupil: reflexive or not?
    "Ton tuteur peut t'inscrire ou le CFA s'en charge.",
    # "te l'…": "le" or "la"?
    "Tu as un avis et ta CPE te l'expliquera.",
    # The student's father or mother does not map onto the reader.
    "Tu peux venir avec ta mère au forum.",
    # An imperative with two pronouns ("envoie-le-moi"): refused rather than reordered.
    "Tu as fini ta lettre ? Envoie-la-moi avant jeudi.",
    # An imperative left in "tu".
    "Ton stage commence lundi ; d'ici là, contacte ton tuteur.",
    "Dans ton cas, préviens le CFA dès lundi.",
    "Tu as reçu l'avis. Donc commence à chercher un employeur.",
    "Tu as le temps. Donc ajoute tous les vœux qui te plaisent.",
    # "toi et …": the verb agrees with two people.
    "Ton tuteur et toi formez une équipe.",
    # Already mixed.
    "Tu peux venir avec votre fille au salon.",
])
def test_what_cannot_be_told_to_the_parent_safely_is_refused(student):
    assert for_parents(student) is None

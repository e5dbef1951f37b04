import pytest

from knowledge.checks import answer_defects, stand_alone


def codes(text):
    return [d.code for d in answer_defects(text)]


def test_an_answer_that_stands_alone_has_no_defect():
    assert codes("La bourse de lycée se demande en ligne pendant la campagne de rentrée, via Scolarité services.") == []
    assert codes("Si tu es majeur, tu peux signer toi-même ta convention de stage.") == []  # a condition, not one pupil
    assert codes("Tu peux demander conseil au CIO : https://www.onisep.fr/cio.") == []
    # The asker's parents in general, or a rule about numbers, are not the asker's own story.
    assert codes("Tes parents signent la convention, et tu formules tes 10 vœux sur la plateforme.") == []


@pytest.mark.parametrize("text, code", [
    ("Bien sûr [NOM], le dossier se dépose au secrétariat du collège.", "placeholder"),
    ("Le [LIEU] propose des ateliers tous les mercredis après-midi.", "placeholder"),
    ("Question ! Les deux inscriptions sont indépendantes l'une de l'autre.", "cut_lead_in"),
    ("La convention se signe avant le départ. Devra ensuite la rapporter au lycée.", "fragment"),
    ("La demande se fait auprès du service des bourses et de", "fragment"),
    # In context the tagger gives "Présentera" no person: the sentence still has no subject.
    ("L'admission n'est définitive qu'une fois le contrat signé avec un employeur. Présentera ensuite ce contrat au CFA.",
     "fragment"),
    ("Oui ! Le stage peut se faire dans une collectivité.", "replies_to_earlier"),
    ("Exactement, et le dossier reste modifiable jusqu'à la fin du mois.", "replies_to_earlier"),
    ("Tu es majeur, donc tu peux recevoir l'allocation sur ton propre compte.", "replies_to_earlier"),
    ("C'est maintenant qu'il faut écrire au chef d'établissement.", "replies_to_earlier"),
    ("Ton voisin a raison : le CAP se prépare aussi en un an.", "replies_to_earlier"),
    ("Le CDI est ouvert le samedi matin, ce qui peut arranger ton père.", "replies_to_earlier"),
    ("Le minimum est de 53 % du SMIC : tes 53 % sont donc conformes.", "replies_to_earlier"),
    ("Les listes d'admission paraissent fin juin, pas mi-juillet.", "corrects_a_claim"),
    ("Le dépôt se fait en mars, et non en mai comme on le croit souvent.", "corrects_a_claim"),
    ("Ce n'est pas en septembre que la plateforme ferme, c'est en juillet.", "corrects_a_claim"),
    ("Adresse-toi à la CAES de l'académie de Rennes, qui étudie ton dossier.", "local_detail"),
    ("Le CIO de Brest reçoit sans rendez-vous le mercredi.", "local_detail"),
    ("L'université de Lille ouvre ses candidatures en L2 au printemps.", "local_detail"),
    ("Mme Durand, la psychologue du collège, te recevra jeudi.", "named_person"),
    ("Comme tu auras 16 ans en mars, tu pourras signer un contrat dès le printemps.", "personal_detail"),
    ("Bon anniversaire en avance ! Le contrat peut commencer ensuite.", "personal_detail"),
    ("À 19 ans, c'est encore tout à fait possible de préparer un CAP.", "personal_detail"),
    ("Avec ce dossier, tu es admise dans la formation dès la confirmation.", "gendered"),
    ("Je comprends que vous soyez inquiète : la commission étudie chaque recours.", "gendered"),
    ("Votre fille peut candidater, elle sera convoquée en mai.", "gendered"),
])
def test_each_defect_is_found(text, code):
    assert code in codes(text)


def test_defects_come_with_a_french_reason_for_the_counsellors():
    [defect] = answer_defects("Le CIO de Brest reçoit sans rendez-vous le mercredi.")
    assert defect.code == "local_detail" and "académie" in defect.reason


def test_masculine_or_epicene_words_after_tu_es_are_not_flagged():
    assert "gendered" not in codes("Une fois inscrit, tu es libre de choisir tes options.")
    assert "gendered" not in codes("Tu es prioritaire si tu es boursier.")


def test_a_reply_word_in_front_of_a_sentence_that_stands_alone_is_dropped():
    assert stand_alone("Oui, tu peux refaire une demande de bourse en juin.") == "Tu peux refaire une demande de bourse en juin."
    assert stand_alone("Non : le redoublement n'est pas possible en première année de santé.") == (
        "Le redoublement n'est pas possible en première année de santé.")
    assert stand_alone("Alors oui ! Les boursiers sont exonérés de cette contribution.") == (
        "Les boursiers sont exonérés de cette contribution.")
    # What follows needs the reply word: kept whole, and the checks turn it down.
    assert stand_alone("Non, pas avant la fin du trimestre.") == "Non, pas avant la fin du trimestre."
    assert "replies_to_earlier" in codes(stand_alone("Non, pas avant la fin du trimestre."))


@pytest.mark.parametrize("text, code", [
    ("Elle reste acquise pendant toute l'année, même en cas de déménagement.", "needs_the_question"),
    ("N'aura pas à refaire sa demande l'an prochain.", "fragment"),
    ("Alors pas encore : le dossier doit d'abord être complet.", "replies_to_earlier"),
])
def test_answers_that_lean_on_the_original_question(text, code):
    assert code in codes(text)
    assert "needs_the_question" not in codes("Il faut refaire la demande chaque année.")


def test_a_first_sentence_that_only_reacts_to_the_question_is_dropped():
    assert stand_alone("C'est possible. Le CFA peut t'accueillir sans employeur pendant trois mois.") == (
        "Le CFA peut t'accueillir sans employeur pendant trois mois.")
    assert stand_alone("Bravo pour ton admission ! L'inscription se fait ensuite auprès de l'établissement.") == (
        "L'inscription se fait ensuite auprès de l'établissement.")


@pytest.mark.parametrize("text, code", [
    ("Ces chambres sont attribuées par le Crous selon les ressources.", "needs_the_question"),
    ("Votre petite-fille peut demander un logement au Crous.", "replies_to_earlier"),
    ("Ce n'est pas vrai : le recteur fixe un pourcentage de places.", "replies_to_earlier"),
    ("C'est jusqu'à dix vœux (et non 12) sur la plateforme.", "corrects_a_claim"),
])
def test_more_answers_that_need_their_question(text, code):
    assert code in codes(text)


def test_reply_words_and_reactions_are_dropped_together():
    assert stand_alone("Oui, c'est envisageable. Le dossier se dépose directement auprès de l'université visée.") == (
        "Le dossier se dépose directement auprès de l'université visée.")


# Each new defect: a sentence that shows it, and the same sentence put right, which must pass.
@pytest.mark.parametrize("flawed, sound, code", [
    # 1. An "il"/"elle" for someone the answer never names (the asker's child, after "votre fils" -> "votre enfant").
    ("Le dossier se dépose en mars. Elle peut ensuite suivre sa demande en ligne.",
     "La demande se dépose en mars. Elle peut ensuite être suivie en ligne.", "no_antecedent"),
    ("Votre enfant dépose son dossier en mars, puis elle suit sa demande en ligne.",
     "Votre enfant dépose son dossier en mars, puis il suit sa demande en ligne.", "no_antecedent"),
    ("Pour la licence, il doit faire son inscription administrative en juillet.",
     "Pour la licence, il faut faire son inscription administrative en juillet.", "no_antecedent"),
    # 2. A feminine word agreeing with the student addressed, or with the parent's child.
    ("Pour entrer au CFA, il te faut être acceptée par une entreprise.",
     "Pour entrer au CFA, il te faut être accepté par une entreprise.", "gendered"),
    ("Pendant la période en entreprise, tu n'es pas salariée du garage.",
     "Pendant la période en entreprise, tu n'es pas salarié du garage.", "gendered"),
    ("Signalez au lycée que votre enfant est boursière depuis la rentrée.",
     "Signalez au lycée que votre enfant est boursier depuis la rentrée.", "gendered"),
    # 3. A sentence whose subject (a first name) was taken away.
    ("Le contrat se signe en mai. Ne commencerait donc pas avant juin.",
     "Le contrat se signe en mai. Le stage ne commencerait donc pas avant juin.", "fragment"),
    # 5. The asker's age or situation, wherever it stands.
    ("Le service civique est ouvert jusqu'à 25 ans. À 23 ans, c'est donc jouable.",
     "Le service civique est ouvert jusqu'à 25 ans. À partir de 26 ans, c'est fermé.", "personal_detail"),
    ("Comme tu as moins de 16 ans, l'inscription au CNED est gratuite.",
     "Si tu as moins de 16 ans, l'inscription au CNED est gratuite.", "personal_detail"),
    ("Comme ta formation a débuté en octobre, le délai court jusqu'en janvier.",
     "Quand la formation a débuté en octobre, le délai court jusqu'en janvier.", "personal_detail"),
    ("La prime va aux internes boursiers, et c'est le cas de votre enfant.",
     "La prime va aux internes boursiers, si c'est le cas de votre enfant.", "personal_detail"),
    # 6. A first clause that answers the original question instead of stating the rule.
    ("Sans doute pas. La bourse se demande chaque année avant la fin mai.",
     "La bourse se demande chaque année avant la fin mai.", "replies_to_earlier"),
    ("Plus tout à fait : la saisie des vœux ferme à la mi-mars.",
     "Attention : la saisie des vœux ferme à la mi-mars.", "replies_to_earlier"),
    ("C'est gratuit ! Le centre reçoit les familles sur rendez-vous.",
     "Le centre est gratuit et reçoit les familles sur rendez-vous.", "replies_to_earlier"),
    ("Et oui, la bourse se redemande à chaque rentrée.",
     "La bourse se redemande à chaque rentrée.", "replies_to_earlier"),
])
def test_each_new_defect_and_the_same_answer_put_right(flawed, sound, code):
    assert code in codes(flawed)
    assert code not in codes(sound)


def test_what_the_new_checks_must_leave_alone():
    # An imperative spelt like the third person, a plural whose subject follows, an "il" that stands for no one.
    assert codes("Le dossier ferme en mai. N'attends pas la fin du mois pour le remplir.") == []
    assert codes("La prépa publique est gratuite. Restent les frais d'internat et de concours.") == []
    assert codes("La CVEC est due chaque année. Il est encore temps de la payer avant l'inscription.") == []
    # A pronoun that goes on about a noun two sentences back, through an earlier pronoun.
    assert codes("La région finance la carte de car. Elle vaut toute l'année scolaire. Elle se retire au lycée.") == []
    # A noun that names what the verbless opening speaks of is not a reply.
    assert codes("La mention compte beaucoup : les bacheliers pro avec mention sont admis de droit en BTS.") == []

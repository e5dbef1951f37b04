from dataclasses import replace
from datetime import date

from knowledge.cluster import build_entries, campaign_year, clean_answer, cluster_pairs
from knowledge.model import QAPair
from orientbot.normalise import normalise

VOEUX = "Tu peux formuler jusqu'à 10 vœux sur Parcoursup, plus 10 vœux en apprentissage, et 20 sous-vœux."
CVEC = "La CVEC est due chaque année avant l'inscription : 103 € en 2024-2025, les boursiers en sont exonérés."


def pair(question, answer, role="eleve", **extra):
    return QAPair(conversation_id=extra.pop("cid", "c"), question=question, answer=answer, asker_role=role, **extra)


def test_paraphrases_group_and_different_questions_do_not():
    pairs = [
        pair("cb de voeux sur parcoursup ?", VOEUX, cid="a"),
        pair("Combien de vœux ma fille peut-elle formuler ?", VOEUX.replace("Tu peux", "Votre fille peut"), "parent", cid="b"),
        pair("on a droit a combien de voeux", VOEUX, cid="c"),
        pair("c combien la cvec ?", CVEC, cid="d"),
        pair("La CVEC coûte combien cette année ?", CVEC, "parent", cid="e"),
    ]
    result = cluster_pairs(pairs)
    groups = sorted(sorted(p.conversation_id for p in c.pairs) for c in result.clusters)
    assert groups == [["a", "b", "c"], ["d", "e"]]


def test_personal_cases_distress_and_declined_questions_are_set_apart():
    pairs = [
        pair("pourquoi mon dossier est refusé ?", "Je transmets ta demande au service.", transferred=True),
        pair("je veux mourir", "Appelle le 3114, gratuit, 24h/24."),
        pair("tu peux faire mon dm ?", "On ne fait pas les devoirs ici, désolé ! Demande à ton professeur."),
        pair("vous êtes des robots ?", "Non, nous sommes de vrais conseillers du CIO, rassure-toi !"),
    ]
    result = cluster_pairs(pairs)
    assert result.clusters == []
    assert result.personal_case_questions == ["pourquoi mon dossier est refusé ?"]
    assert result.distress_questions == ["je veux mourir"]
    assert result.out_of_scope_questions == ["tu peux faire mon dm ?"]


def test_only_a_message_about_ones_own_case_teaches_personal_case():
    pairs = [
        pair("délai pour accepter une proposition psup ?", "Je te mets en relation avec un collègue.", transferred=True),
        pair("ma mère oui", "", transferred=True),
        pair("c pas normal, jai 14 de moyenne et que des refus", "Je transmets ton dossier.", transferred=True),
        pair("je voudrais parler à un conseiller", "Je vous passe une collègue.", transferred=True),
        pair("mon voeu en licence etait admis mercredi et hier il est devenu refusé sans raison", "Je transmets.",
             transferred=True),
    ]
    assert cluster_pairs(pairs).personal_case_questions == [
        "c pas normal, jai 14 de moyenne et que des refus", "je voudrais parler à un conseiller",
        "mon voeu en licence etait admis mercredi et hier il est devenu refusé sans raison",
    ]


def test_entries_prefer_corrections_and_keep_one_answer_per_audience():
    pairs = [
        pair("cb de voeux ?", "Tu as droit à 12 vœux classés, c'est la règle cette année sur Parcoursup.", cid="a"),
        pair("on a droit a cb de voeux ?", "Je corrige : " + VOEUX, corrected=True, cid="b"),
        pair("Combien de vœux peut-il faire ?", "Votre fils peut formuler jusqu'à 10 vœux, plus 10 en apprentissage. https://www.parcoursup.gouv.fr.", "parent", cid="c"),
    ]
    [entry] = build_entries(cluster_pairs(pairs, threshold=0.95).clusters)
    assert entry.answer_eleve == VOEUX
    assert entry.answer_parent.startswith("Votre enfant peut")  # the asker's son, said of any parent's child
    assert entry.sources == ("https://www.parcoursup.gouv.fr",)
    assert entry.times_asked == 3 and len(entry.variants) == 3
    assert entry.title.endswith("?")


def test_clean_answer_drops_correction_talk_and_addressing():
    assert clean_answer("@Lina Pardon, je me suis trompée. Petite correction : c'est 10 vœux.") == "C'est 10 vœux."
    assert clean_answer("Oui [NOM] ! Tu peux.") == "Oui ! Tu peux."
    assert clean_answer("Bonjour Madame [NOM], la bourse est automatique.") == "La bourse est automatique."
    # "Bonne question [NOM] !" whose name removal took "Bonne" with it: no "Question !" left in front.
    assert clean_answer("Question ! Il y a deux inscriptions.") == "Il y a deux inscriptions."
    assert clean_answer("Très bonne question ! La licence est ouverte.") == "La licence est ouverte."
    assert clean_answer("Question importante : le dossier.") == "Question importante : le dossier."


def test_clean_answer_drops_confirmations_of_what_was_said_before():
    assert clean_answer("C'est exactement ça ! Les licences sont ouvertes à tous.") == "Les licences sont ouvertes à tous."
    assert clean_answer("Exactement : sans proposition, on combine les deux.") == "Sans proposition, on combine les deux."
    assert clean_answer("C'est le DASEN. Le reste est exact : trois jours ouvrables.") == "C'est le DASEN. Trois jours ouvrables."


def test_entries_prefer_answers_that_stand_alone_and_hold_everywhere():
    general = "Le CIO reçoit gratuitement, sur rendez-vous ou sans : coordonnées sur https://www.onisep.fr."
    pairs = [
        pair("le cio c gratuit ?", "Le reste est exact : le CIO reçoit gratuitement, sur rendez-vous ou sans.", cid="a"),
        pair("cio c payant ?", "Le CIO de Nantes reçoit gratuitement, sur rendez-vous ou sans : onisep.fr.", cid="b"),
        pair("le cio ca coute ?", general, cid="c"),
    ]
    [entry] = build_entries(cluster_pairs(pairs, threshold=0.95).clusters)
    assert entry.answer_eleve == general


def test_campaign_year_ignores_the_year_a_rule_was_created():
    assert campaign_year(CVEC) == 2025
    assert campaign_year("Depuis la rentrée 2021, le BUT dure 3 ans (arrêté de 2019).") is None
    entry = build_entries(cluster_pairs([pair("cvec ?", CVEC, cid="a"), pair("la cvec ça coûte ?", CVEC, cid="b")]).clusters)[0]
    # The 2024-2025 amount is out of date once the CVEC of the next year is set (knowledge/data/campaigns.yml).
    assert entry.campaign_year == 2025 and entry.valid_until == date(2025, 4, 30)


def test_titles_stand_alone():
    convention = "La convention de stage est signée par le collège, l'entreprise et tes parents avant le stage."
    folded = [
        pair("stage 3e : et la convention ?", convention, cid="a", context="stage 3e :"),
        pair("stage de 3e : ok et la convention c moi qui la fait ?", convention, cid="b", context="stage de 3e :"),
    ]
    [entry] = build_entries(cluster_pairs(folded).clusters)
    assert entry.title == "Stage 3e : La convention ?"  # the subject, not "et …", and no texting spelling
    # A standalone variant wins over a follow-up; a question inside a message keeps the sentence before it.
    standalone = folded + [pair("La convention de stage de 3e, qui la signe ?", convention, "parent", cid="c")]
    assert build_entries(cluster_pairs(standalone).clusters)[0].title == "La convention de stage de 3e, qui la signe ?"
    bourse = "La bourse de lycée est en général maintenue en cas de redoublement, sans nouvelle demande."
    in_message = [
        pair("Bonsoir, mon fils va redoubler sa seconde. Sa bourse est-elle maintenue ?", bourse, "parent", cid="d"),
        pair("Bonjour. Ma fille redouble. Sa bourse continue-t-elle ?", bourse, "parent", cid="e"),
    ]
    assert build_entries(cluster_pairs(in_message).clusters)[0].title == "Mon fils va redoubler sa seconde. Sa bourse est-elle maintenue ?"

    # A follow-up completed with a subject the entry is not about (the asker's previous question) is no title.
    retour = "Le droit au retour en formation vaut de 16 à 25 ans : demande sur reviensteformer, ou au CIO."
    strays = [
        pair("licence socio : et ça prend combien de temps ?", retour, cid="f", context="licence socio :"),
        pair("jai 20 ans sans diplome, c quoi les demarches pour reprendre une formation ?", retour, cid="g"),
        pair("jai arreté en 1ere, jpeux retourner en formation ou c fini pour moi ?", retour, cid="h"),
    ]
    assert "Licence" not in build_entries(cluster_pairs(strays, threshold=0.99).clusters)[0].title


# --- answers that stand alone, in both registers; titles; what the cross-validation replays ----------------

BOURSE_TU = "La bourse de lycée se demande en ligne sur Scolarité services pendant la campagne de rentrée : renseigne-toi au secrétariat."
BOURSE_VOUS = "La bourse de lycée se demande en ligne sur Scolarité services pendant la campagne de rentrée : renseignez-vous au secrétariat."


def test_the_best_answer_that_passes_the_checks_is_chosen_per_audience():
    pairs = [
        pair("bourse lycee comment on demande ?", "Oui [NOM] ! " + BOURSE_TU + " Le CIO de Quimper t'aide aussi.", cid="a",
             validated=True),
        pair("bourse lycee c ou qu on la demande ?", BOURSE_TU, cid="b"),
        pair("Comment demander la bourse de lycée ?", BOURSE_VOUS, "parent", cid="c"),
    ]
    [entry] = build_entries(cluster_pairs(pairs, threshold=0.95).clusters)
    assert entry.answer_eleve == BOURSE_TU and entry.answer_parent == BOURSE_VOUS
    assert entry.status == "active" and entry.review_reasons == ()


def test_the_missing_register_is_derived_served_and_marked_for_review():
    pairs = [pair("bourse lycee comment on demande ?", BOURSE_TU, cid="a"),
             pair("bourse lycee c ou qu on la demande ?", BOURSE_TU, cid="b")]
    [entry] = build_entries(cluster_pairs(pairs).clusters)
    assert entry.answer_parent == BOURSE_VOUS
    assert entry.status == "active"
    assert entry.review_reasons == ("réponse aux parents dérivée de celle aux élèves (tu → « votre enfant ») : à relire",)


def test_an_entry_whose_every_answer_fails_waits_for_a_counsellor():
    pairs = [
        pair("je peux faire un contrat en mars ?", "Tu es majeur, donc tu signes toi-même ton contrat d'apprentissage.", cid="a"),
        pair("contrat apprentissage en mars possible ?", "Oui ! Ton contrat peut débuter en mars, le CIO de Nantes t'aide.", cid="b"),
    ]
    [entry] = build_entries(cluster_pairs(pairs, threshold=0.95).clusters)
    assert entry.status == "review"
    assert "aucune réponse utilisable pour les élèves" in entry.review_reasons
    assert any("message précédent" in reason for reason in entry.review_reasons)


def test_titles_are_clean_complete_questions_in_each_audiences_voice():
    bourse = [
        pair("bourse lycee ca se demande ou ?", BOURSE_TU, cid="a"),
        pair("Bonjour, mon fils entre en seconde, comment demander sa bourse ?", BOURSE_VOUS, "parent", cid="b"),
        pair("Comment demander une bourse de lycée ?", BOURSE_VOUS, "parent", cid="c"),
        pair("bourse ?", BOURSE_TU, cid="d"),
    ]
    [entry] = build_entries(cluster_pairs(bourse, threshold=0.95).clusters)
    assert entry.title == entry.title_parent == "Comment demander une bourse de lycée ?"
    # Without a neutral question, each audience gets its own voice; missing accents are put right.
    voices = [
        pair("est ce que je peux demander la bourse de lycee en ligne ?", BOURSE_TU, cid="e"),
        pair("Ma fille pourra-t-elle déposer sa demande de bourse de lycée par internet ?", BOURSE_VOUS, "parent", cid="f"),
    ]
    [entry] = build_entries(cluster_pairs(voices, threshold=0.95).clusters)
    assert entry.title == "Est ce que je peux demander la bourse de lycée en ligne ?"
    assert entry.title_parent == "Mon enfant pourra-t-il déposer sa demande de bourse de lycée par internet ?"


def test_a_title_is_never_a_fragment():
    from knowledge.cluster import reads_as_a_question

    assert reads_as_a_question("Comment demander une bourse de lycée ?")
    assert reads_as_a_question("Le montant de la CVEC en master ?")  # a clear noun phrase
    assert not reads_as_a_question("Bourse ?")
    assert not reads_as_a_question("Comment demander une bourse de lycée")


def test_a_title_does_not_lean_on_words_said_before_the_question():
    from knowledge.cluster import Cluster, _stands_for_something_unsaid, titles

    for leaning in ("Doit-on la renvoyer signée au secrétariat ?", "La touchera-t-il dès septembre ?",
                    "Comment ça se passe et comment on fait ?", "Est-ce cumulable avec un job étudiant ?"):
        assert _stands_for_something_unsaid(leaning), leaning
    for standing in ("Est-ce que la bourse de lycée se demande en ligne ?", "Le CIO est-il ouvert l'été ?",
                     "Ça sert à quoi la fiche Avenir ?", "La licence est-elle sélective ?"):
        assert not _stands_for_something_unsaid(standing), standing
    prime = "La prime d'internat est versée sans démarche aux boursiers internes, avec la bourse."
    cluster = Cluster(pairs=(pair("Dois-je la demander quelque part ?", prime, cid="a"),
                             pair("La prime d'internat, il faut la demander où ?", prime, cid="b"),
                             pair("Comment obtenir la prime d'internat quand on est boursier ?", prime, cid="c")))
    assert titles(cluster)[0] == "Comment obtenir la prime d'internat quand on est boursier ?"


def test_the_crossvalidation_replays_entries_under_review_as_questions_the_kb_cannot_answer():
    from knowledge.cluster import ClusterResult
    from knowledge.crossval import FAQ, UNKNOWN, items_of, served

    pairs = [pair("bourse lycee comment on demande ?", BOURSE_TU, cid="a"),
             pair("bourse lycee c ou qu on la demande ?", BOURSE_TU, cid="b")]
    clusters = cluster_pairs(pairs).clusters
    [entry] = build_entries(clusters)
    assert [i.kind for i in items_of(ClusterResult(clusters), [entry])] == [FAQ, FAQ]
    held = replace(entry, status="review")
    assert served([held]) == []
    assert [(i.kind, i.gold) for i in items_of(ClusterResult(clusters), [held])] == [(UNKNOWN, None), (UNKNOWN, None)]


def test_a_button_writes_texting_out_and_reads_the_same_to_the_models():
    from knowledge.cluster import _as_a_button

    typed = ["C koi la CVEC ?", "jdois refaire mes vœux si jredouble ?", "Pk ya pas de réponse sur psup ?",
             "Quand jaurai 18 ans, jpeux signer seul ?"]
    shown = [_as_a_button(t) for t in typed]
    assert shown == ["C'est quoi la CVEC ?", "Je dois refaire mes vœux si jredouble ?",
                     "Pourquoi il y a pas de réponse sur parcoursup ?", "Quand j'aurai 18 ans, je peux signer seul ?"]
    assert [normalise(s) for s in shown] == [normalise(t) for t in typed]


def test_acronyms_and_grades_are_not_taken_for_texting():
    from knowledge.cluster import _as_a_button

    assert _as_a_button("BTS CG ou bac G, c mieux ?") == "BTS CG ou bac G, c'est mieux ?"


def test_clustering_by_components_of_close_pairs_gives_the_clusters_of_all_pairs():
    import numpy as np

    from knowledge.cluster import _GRAPH_ROWS, _agglomerate, _average_linkage, _vectors

    topics = ["voeux parcoursup", "cvec montant", "stage seconde", "bourse lycee", "internat place", "cap apprentissage"]
    questions = [f"{topic} {extra}" for topic in topics for extra in ("?", "combien", "c est quand", "comment faire")]
    answers = [f"reponse sur {q.split()[0]} et {q.split()[1]}" for q in questions]
    q, a = _vectors(questions, analyzer="char_wb", ngram_range=(2, 5)), _vectors(answers, analyzer="word")
    everything = np.clip(1.0 - (0.4 * (q @ q.T) + 0.6 * (a @ a.T)).toarray(), 0.0, None)
    np.fill_diagonal(everything, 0.0)

    def partition(labels):
        return sorted(sorted(np.flatnonzero(labels == label).tolist()) for label in set(labels.tolist()))

    # 0.1: 9 components, 14 clusters; 0.7: 5 components, 6 clusters; 0.72: 1 component, 6 clusters; 0.9: one of each.
    for threshold in (0.1, 0.3, 0.7, 0.72, 0.9):
        assert partition(_average_linkage(q, a, 0.4, threshold)) == partition(_agglomerate(everything, threshold))
    assert len(questions) < _GRAPH_ROWS  # one block here; the blocks' seams are checked below


def test_the_graph_of_close_pairs_is_the_same_whatever_the_blocks(monkeypatch):
    from knowledge import cluster

    texts = [f"question {i % 7} sur le theme {i % 3}" for i in range(40)]
    q = cluster._vectors(texts, analyzer="char_wb", ngram_range=(2, 5))
    whole = cluster._close_pairs(q, q, 0.4, 0.5)
    monkeypatch.setattr(cluster, "_GRAPH_ROWS", 7)
    assert (cluster._close_pairs(q, q, 0.4, 0.5) != whole).nnz == 0


def test_a_title_does_not_carry_the_askers_gender():
    from knowledge.cluster import _carries_the_askers_gender

    assert _carries_the_askers_gender("Je suis déléguée de classe, je peux assister au conseil ?")
    assert not _carries_the_askers_gender("Je suis élève de seconde, je peux assister au conseil ?")
    assert _carries_the_askers_gender("Je serai payé combien en première année de contrat ?")
    assert not _carries_the_askers_gender("Je gagnerai combien en première année de contrat ?")
    assert _carries_the_askers_gender("Pas boursière, est-ce que je peux demander une chambre ?")
    assert not _carries_the_askers_gender("Pas de bourse, est-ce que je peux demander une chambre ?")


def test_a_title_that_needs_the_conversation_or_names_a_school_is_unfit():
    from knowledge.cluster import Spelling, _leans_on_the_conversation, _names_what_the_kb_does_not

    assert _leans_on_the_conversation("Quels sont ses droits ?")
    assert not _leans_on_the_conversation("Quels sont les droits d'un apprenti ?")
    assert _leans_on_the_conversation("Le 10 mars un an ?")
    assert not _leans_on_the_conversation("Le contrat dure-t-il un an ?")
    kb = Spelling(known=frozenset({"lycée", "spécialité", "existe", "la", "pas", "au", "à"}))
    assert _names_what_the_kb_does_not("La spécialité existe pas a kerbrunoc ?", kb)
    assert not _names_what_the_kb_does_not("La spécialité existe pas au lycée ?", kb)


def test_a_student_button_never_shows_a_parents_words():
    from knowledge.cluster import Cluster, titles

    allocation = "L'allocation de stage est calculée sur les jours réellement faits : une absence la réduit."
    cluster = Cluster(pairs=(
        pair("Si notre fils rate deux jours de stage, l'allocation est-elle réduite ?", allocation, "parent", cid="a"),
        pair("Si je rate deux jours de stage pour bosser, l'allocation est réduite ?", allocation, cid="b"),
    ))
    student, parent = titles(cluster)
    # Worse spelt ("bosser"), which ranked it below the parent's question; but in a student's words.
    assert student == "Si je rate deux jours de stage pour bosser, l'allocation est réduite ?"
    assert parent == "Si notre fils rate deux jours de stage, l'allocation est-elle réduite ?"


def test_an_answer_whose_campaign_dates_expire_first_gives_way_to_one_that_lasts():
    dated = ("Les vœux se formulent sur Parcoursup du 15 janvier au 13 mars 2025, puis tu confirmes chacun "
             "avant le 2 avril 2025 en complétant ton dossier.")
    lasting = "Les vœux se formulent sur Parcoursup de mi-janvier à mi-mars, puis tu confirmes chacun avant début avril."
    pairs = [pair("jusqu'a quand on fait les voeux ?", dated, cid="a", validated=True),
             pair("c quand la date limite des voeux parcoursup ?", dated, cid="b"),
             pair("dernier jour pour saisir ses voeux sur parcoursup ?", lasting, cid="c")]
    [entry] = build_entries(cluster_pairs(pairs, threshold=0.95).clusters)
    # The dated answer is the more typical and the validated one: without the expiry it wins.
    assert entry.answer_eleve == lasting and entry.valid_until is None


def test_a_short_title_that_names_nothing_takes_the_subject_its_entry_is_asked_about():
    from knowledge.cluster import Cluster, Spelling, _names_its_subject, _with_the_subject

    grant = "Le montant de la bourse peut être revu en cours d'année si les revenus de la famille baissent nettement."
    cluster = Cluster(pairs=(
        pair("Est-il possible de le réviser ?", grant, "parent", cid="a"),
        pair("ma bourse peut changer si mes parents gagnent moins ?", grant, cid="b"),
        pair("la bourse ça peut bouger en cours d'annee ?", grant, cid="c"),
    ))
    assert not _names_its_subject("Est-il possible de le réviser ?", {"montant", "bourse", "revenus"})
    assert _names_its_subject("Est-il possible de réviser la bourse ?", {"montant", "bourse", "revenus"})
    assert _with_the_subject("Est-il possible de le réviser ?", cluster, Spelling()) == "Bourse : est-il possible de le réviser ?"
    # A subject named by one asker only is theirs, not the entry's: the title stays as asked.
    once = Cluster(pairs=cluster.pairs[:2])
    assert _with_the_subject("Est-il possible de le réviser ?", once, Spelling()) == "Est-il possible de le réviser ?"


def test_a_button_does_not_swear():
    from knowledge.cluster import _COLLOQUIAL

    assert _COLLOQUIAL.search("Je suis dans la merde ?") and not _COLLOQUIAL.search("Je suis dans une impasse ?")

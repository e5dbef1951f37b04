from orientbot.followup import context_of, is_a_question, is_elliptic, standalone_question, subject_of


def test_a_follow_up_that_swaps_the_subject_takes_the_rest_of_the_previous_question():
    assert is_elliptic("et pour un BTS ?") and is_elliptic("Ok merci. Et en CAP ?")
    assert standalone_question("et pour un BTS ?", "combien de voeux sur parcoursup ?") == (
        "voeux parcoursup : et pour un BTS ?", "voeux parcoursup :")


def test_a_question_that_stands_alone_or_has_nothing_before_it_is_kept_as_asked():
    assert standalone_question("et pour un BTS ?", None) == ("et pour un BTS ?", "")
    long_one = "et en apprentissage ça se passe comment pour trouver une entreprise ?"
    assert not is_elliptic(long_one)  # names its subject and asks a whole question
    assert standalone_question(long_one, "combien de voeux sur parcoursup ?") == (long_one, "")


def test_small_talk_is_not_the_previous_question():
    assert not is_a_question("ok merci") and not is_a_question("Bonjour !") and is_a_question("et en CAP ?")
    assert context_of(["bonjour", "on peut faire un BTS en alternance ?", "ok merci"]) == "on peut faire un BTS en alternance ?"
    assert context_of(["merci", "ok"]) == ""


def test_a_follow_up_of_a_follow_up_keeps_the_first_subject():
    earlier = context_of(["comment ça marche l'alternance ?", "et pour un BTS ?"])
    assert earlier == "alternance : et pour un BTS ?"
    assert standalone_question("et si j'ai 21 ans ?", earlier)[0] == "alternance BTS : et si j'ai 21 ans ?"


def test_a_subject_is_its_nouns_without_their_articles_nor_a_pronoun_before_a_verb():
    # Read off the cross-validation's follow-ups (2026-12-06): "t'aide 2nde", "école l'école", "master masters".
    assert subject_of("tu peux m'aider pour une licence à l'université ?") == "licence université"
    assert subject_of("qui peut t'aider à choisir ta 2nde ?") == "2nde"
    assert subject_of("un master ou des masters en alternance ?") == "master alternance"

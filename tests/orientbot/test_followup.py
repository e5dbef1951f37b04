from orientbot.followup import is_elliptic, standalone_question


def test_a_follow_up_that_swaps_the_subject_takes_the_rest_of_the_previous_question():
    assert is_elliptic("et pour un BTS ?") and is_elliptic("Ok merci. Et en CAP ?")
    assert standalone_question("et pour un BTS ?", "combien de voeux sur parcoursup ?") == (
        "voeux parcoursup : et pour un BTS ?", "voeux parcoursup :")


def test_a_question_that_stands_alone_or_has_nothing_before_it_is_kept_as_asked():
    assert standalone_question("et pour un BTS ?", None) == ("et pour un BTS ?", "")
    long_one = "et en apprentissage ça se passe comment pour trouver une entreprise ?"
    assert not is_elliptic(long_one)  # names its subject and asks a whole question
    assert standalone_question(long_one, "combien de voeux sur parcoursup ?") == (long_one, "")

from orientbot.retrieval import Retriever
from tests.conftest import CVEC, VOEUX


def test_typos_and_sms_spelling_find_the_right_entry():
    retriever = Retriever([VOEUX, CVEC])
    assert retriever.search("cb de veux sur psup")[0].kb_id == "parcoursup-voeux"
    assert retriever.search("la cvec c combien")[0].kb_id == "cvec-montant"


def test_unrelated_text_scores_low_and_empty_kb_returns_nothing():
    retriever = Retriever([VOEUX, CVEC])
    assert retriever.search("recette de crêpes")[0].score < 0.3
    assert retriever.search("") == []
    assert Retriever([]).search("bonjour") == []

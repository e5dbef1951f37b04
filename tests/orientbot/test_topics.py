"""Coarse topics for the console's filters: the most specific subject of a message wins."""
import pytest

from orientbot.topics import TOPIC_NAMES, topic_of


@pytest.mark.parametrize("text, topic", [
    ("cb de voeux sur psup ?", "Parcoursup"),
    ("Notre fils passe en seconde pro au lycée : comment faire la demande de bourse ?", "Bourses et vie étudiante"),
    ("mon stage de seconde pro est annulé, je fais comment", "Stages (PFMP)"),
    ("Mon fils est en 3e, que nous conseillez-vous ?", "Affelnet et lycée"),
    ("on se moque de moi tous les jours au lycée", "Mal-être et danger"),
    ("je me fais harceler au lycée", "Mal-être et danger"),
    ("c quoi la différence entre alternance et apprentissage", "Apprentissage et alternance"),
    ("quelle heure est-il ?", None),
    ("", None),
])
def test_the_most_specific_topic_wins(text, topic):
    assert topic_of(text) == topic
    assert topic is None or topic in TOPIC_NAMES

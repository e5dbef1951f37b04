import pytest

from knowledge.anonymise import Anonymiser, anonymise_text, is_personal_link
from tests.knowledge.conftest import fake_ner, make_conversation

SEEDED = (
    "Bonjour, je suis Lina Bernard, élève au lycée Jean-Jaurès d'Argenteuil. Mon INE c'est 0912345678K "
    "(ou 123456789AB), mon mail lina.bernard@example.com, tel 06 12 34 56 78 ou +33 6 98 76 54 32, "
    "j'habite 12 rue des Lilas, 95100 Argenteuil. Mon profil : https://ent.example-lycee.fr/profil/lina.bernard "
    "et ma petite sœur Zoé est au collège Victor-Hugo."
)
PERSONAL = [
    "Lina", "Bernard", "Jean-Jaurès", "0912345678K", "123456789AB", "lina.bernard@example.com", "06 12 34 56 78",
    "+33 6 98 76 54 32", "12 rue des Lilas", "95100", "profil/lina", "Zoé", "Victor-Hugo",
]


def test_seeded_personal_data_is_all_removed():
    conversation = make_conversation([{"from": "u", "text": SEEDED}])
    [clean], report = Anonymiser().anonymise([conversation])
    text = clean.messages[0].text
    leaks = [item for item in PERSONAL if item.lower() in text.lower()]
    assert leaks == []
    assert {"email", "phone", "ine", "address", "school", "name", "url"} <= set(report.removed)
    assert all(p.display_name.split()[0] in ("eleve", "parent", "conseiller", "moderateur") for p in clean.participants)


def test_useful_links_and_domain_words_are_kept():
    text = "Va sur https://www.parcoursup.gouv.fr ou vois la psy-EN au CIO, avant la Toussaint ; numéro vert 0 800 400 070."
    conversation = make_conversation([{"from": "c", "text": text}])
    [clean], _ = Anonymiser(fake_ner(["Toussaint", "Parcoursup"])).anonymise([conversation])
    assert clean.messages[0].text == text


def test_ner_catches_names_the_patterns_do_not_know():
    conversation = make_conversation([{"from": "p", "text": "Mon fils Gwendal Le Floch est en 3e."}])
    [clean], report = Anonymiser(fake_ner(["Gwendal Le Floch"])).anonymise([conversation])
    assert "Gwendal" not in clean.messages[0].text and report.removed["name"] >= 1


def test_an_imperative_the_ner_takes_for_a_name_or_a_place_stays():
    # fr_core_news_md labels "Renseignez" and "Prévenez" LOC in these sentences (2026-12-06).
    text = "Dans les autres cas, c'est l'école qui décide. Renseignez-vous auprès d'elle. Prévenez aussi le CFA."
    conversation = make_conversation([{"from": "c", "text": text}])
    [clean], _ = Anonymiser(fake_ner(["Renseignez", "Prévenez"])).anonymise([conversation])
    assert clean.messages[0].text == text
    # A name or a town in "-ez" that a verb follows is still taken out.
    conversation = make_conversation([{"from": "p", "text": "Bonjour. Martinez a eu son bac. Rodez est loin."}])
    [clean], _ = Anonymiser(fake_ner(["Martinez", "Rodez"])).anonymise([conversation])
    assert "Martinez" not in clean.messages[0].text and "Rodez" not in clean.messages[0].text


def test_bad_text_does_not_break_the_stage():
    conversation = make_conversation([{"from": "u", "text": ""}, {"from": "u", "text": "<script>alert('x')</script> 😭"}])
    [clean], _ = Anonymiser().anonymise([conversation])
    assert clean.messages[1].text == "<script>alert('x')</script> 😭"


@pytest.mark.parametrize("url, personal", [
    ("https://www.onisep.fr/Choisir-mes-etudes/College/Parents-eleves-tout-savoir-sur-la-commission-d-appel", False),
    ("https://www.service-public.fr/particuliers/vosdroits/F32709", False),
    ("https://www.education.gouv.fr/la-bourse-de-lycee-306954", False),
    ("https://www.crous-lyon.fr/constituer-son-dossier/", False),
    ("https://www.parcoursup.gouv.fr", False),
    ("https://dossier.parcoursup.fr/Candidat/authentification?ine=123456789AB", True),
    ("https://www.parcoursup.gouv.fr/suivi?token=abc123", True),
    ("https://ent.example-lycee.fr/profil/lina.bernard", True),
    ("https://drive.example.com/file/d/1234567890/view", True),
    ("https://lina.bernard@ent.example.fr/", True),
    ("https://www.onisep.fr/recherche?q=bts&nom=Bernard", True),
])
def test_official_pages_stay_and_links_to_a_person_go(url, personal):
    assert is_personal_link(url) is personal
    assert (url in anonymise_text(f"voir {url} stp")) is not personal


def test_a_link_naming_a_participant_goes_even_on_an_official_site():
    assert is_personal_link("https://www.onisep.fr/mon-espace/lina-bernard", names=["Lina-Bernard"])

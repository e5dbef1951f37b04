from datetime import date

from orientbot.validity import (
    campaign_year,
    dated_facts,
    general_rule,
    load_calendar,
    valid_until,
    without_dated_sentences,
)


def test_a_parcoursup_date_is_out_of_date_when_the_next_campaign_opens_not_the_next_september():
    text = "En 2025, la phase complémentaire de Parcoursup se tient du 11 juin au 11 septembre."
    # The 2026 campaign opened on 17 December 2025 (information phase).
    assert valid_until(text) == date(2025, 12, 16)
    [fact] = dated_facts(text)
    assert fact.topic == "parcoursup" and fact.campaign == 2025


def test_each_topic_follows_its_own_calendar():
    assert valid_until("Pour la rentrée 2025, Affelnet publie les résultats fin juin.") == date(2026, 2, 28)
    # A school year names its campaign by its first year for grants: the 2025-2026 bourse de lycée holds a year.
    assert valid_until("Le barème des bourses de lycée 2025-2026 est publié en ligne.") == date(2026, 8, 31)
    assert valid_until("Le dossier social étudiant 2025-2026 se remplit sur messervices.") == date(2026, 1, 14)


def test_other_dated_facts_hold_until_the_next_rentree():
    assert valid_until("Les journées portes ouvertes 2025 du lycée ont lieu en février.") == date(2026, 8, 31)


def test_the_newest_fact_decides_and_rules_origins_are_no_dates():
    text = "La CVEC coûtait 100 € en 2023-2024 et coûte 103 € en 2024-2025."
    assert campaign_year(text) == 2025
    assert valid_until(text) == date(2025, 4, 30)
    assert valid_until("Depuis la rentrée 2021, le BUT se prépare en trois ans (arrêté de 2019).") is None
    assert valid_until("Le contrat se signe avec l'employeur avant le début de la formation.") is None


def test_the_general_rule_is_the_answer_without_its_dated_sentences():
    text = ("Tu peux ajouter des vœux jusqu'à la mi-mars. Cette année, c'est le 13 mars. "
            "Ensuite tu confirmes chaque vœu (2025 : avant le 2 avril) pour qu'il soit examiné.")
    assert without_dated_sentences(text) == (
        "Tu peux ajouter des vœux jusqu'à la mi-mars. Ensuite tu confirmes chaque vœu pour qu'il soit examiné.")
    assert without_dated_sentences("La phase complémentaire 2025 ouvre le 11 juin.") == ""


def test_the_calendar_file_names_every_topic_it_dates():
    calendar = load_calendar()
    assert {"parcoursup", "affelnet", "crous", "bourses-scolaires", "apprentissage", "default"} <= set(calendar.openings)
    assert calendar.opening("parcoursup").of(2026) == date(2025, 12, 17)


def test_a_campaigns_own_days_go_but_the_cut_offs_of_a_rule_stay():
    text = ("On ajoute ses vœux jusqu'à la mi-mars. Pour cette session, c'était avant le 13 mars. "
            "Un contrat est possible si l'on a 16 ans au 31 décembre.")
    assert without_dated_sentences(text) == (
        "On ajoute ses vœux jusqu'à la mi-mars. Un contrat est possible si l'on a 16 ans au 31 décembre.")


def test_a_general_rule_must_say_something_besides_a_link():
    assert general_rule("Les vœux se saisissent en 2025 jusqu'au 13 mars. Calendrier officiel : https://www.parcoursup.gouv.fr.") is None
    assert general_rule("Un vœu non confirmé n'est pas examiné par la formation. Date 2025 : le 2 avril.") == (
        "Un vœu non confirmé n'est pas examiné par la formation.")

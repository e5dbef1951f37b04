import pytest

from orientbot.safety import detect_distress


@pytest.mark.parametrize(
    "text, kind",
    [
        ("je pense à mourir tous les soirs", "suicide"),
        ("jveux plus vivre", "suicide"),
        ("jpp de cette vie franchement", "suicide"),
        ("je me scarifie depuis la rentrée", "suicide"),
        ("Notre fille nous a dit qu'elle avait des idées noires", "suicide"),
        ("mon beau-père me frappe quand il a bu", "enfance-en-danger"),
        ("des eleves me tapent tous les jours au college", "harcelement"),
        ("ma pote se fait martyriser par un groupe en eps", "harcelement"),
        ("il m'a étranglée hier", "enfance-en-danger"),
        ("un prof m'a fait des attouchements", "enfance-en-danger"),
        ("un mec de ma famille me fait des trucs ke jveux pas", "enfance-en-danger"),
        ("ils ont posté des photos de moi sur un faux compte", "cyberharcelement"),
        ("quelqu'un me fait du chantage avec des nudes", "cyberharcelement"),
        ("on me harcèle au collège", "harcelement"),
        ("ils se moquent de moi tous les jours", "harcelement"),
    ],
)
def test_distress_is_recognised_with_its_kind(text, kind):
    found = detect_distress(text)
    assert found is not None and found.kind == kind


@pytest.mark.parametrize(
    "text",
    [
        "combien de voeux sur parcoursup ?",
        "mort de rire ce prof",
        "c'est quoi le droit au retour en formation ?",
        "je veux faire un bac pro vente",
        "",
    ],
)
def test_ordinary_questions_are_not_distress(text):
    assert detect_distress(text) is None

"""Small composable fixtures: an in-memory database, a tiny KB, a fake NER."""
from __future__ import annotations

import os
from datetime import date

import pytest

from orientbot.db import create_schema, make_engine
from orientbot.kb import InMemoryKnowledgeBase, KnowledgeEntry, Variant

POSTGRES_URL = os.environ.get("DATABASE_URL", "")


def database_urls():
    urls = ["sqlite://"]
    if POSTGRES_URL.startswith("postgresql"):
        urls.append(POSTGRES_URL)
    return urls


@pytest.fixture(params=database_urls(), ids=lambda url: url.split(":")[0])
def engine(request, tmp_path):
    url = request.param
    if url == "sqlite://":
        url = f"sqlite:///{tmp_path / 'test.db'}"
    engine = make_engine(url)
    create_schema(engine)
    yield engine
    if not url.startswith("sqlite"):
        from orientbot.db import Base

        Base.metadata.drop_all(engine)
    engine.dispose()


VOEUX = KnowledgeEntry(
    id="parcoursup-voeux",
    title="Combien de vœux peut-on faire sur Parcoursup ?",
    answer_eleve="Tu peux formuler jusqu'à 10 vœux, plus 10 en apprentissage.",
    answer_parent="Votre enfant peut formuler jusqu'à 10 vœux, plus 10 en apprentissage.",
    sources=("https://www.parcoursup.gouv.fr",),
    variants=(
        Variant("cb de voeux sur parcoursup ?", "c1"),
        Variant("on a droit à combien de vœux ?", "c2"),
        Variant("Combien de vœux mon fils peut-il faire ?", "c3"),
    ),
    times_asked=3,
)
CVEC = KnowledgeEntry(
    id="cvec-montant",
    title="Combien coûte la CVEC ?",
    answer_eleve="La CVEC coûte 103 € en 2024-2025 ; les boursiers en sont exonérés.",
    answer_parent="La CVEC coûte 103 € en 2024-2025 ; les boursiers en sont exonérés.",
    sources=("https://cvec.etudiant.gouv.fr",),
    variants=(Variant("c combien la cvec ?", "c4"), Variant("la CVEC c'est payant ?", "c5")),
    times_asked=2,
    campaign_year=2025,
    valid_until=date(2026, 8, 31),
)


@pytest.fixture
def tiny_kb():
    return InMemoryKnowledgeBase((VOEUX, CVEC))


def pytest_collection_modifyitems(items):
    """Browser tests last: Playwright's session keeps an event loop running, which the console's asyncio tests need free."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def score_risk_model(min_score: float):
    """A risk model that serves the retriever's first choice when its score reaches ``min_score``: tests of what
    the actions do with an outcome must not depend on a fitted model."""
    from orientbot.risk import FEATURES, RiskModel

    weights = tuple(50.0 if name == "score" else 0.0 for name in FEATURES)
    return RiskModel(means=(0.0,) * len(FEATURES), scales=(1.0,) * len(FEATURES), weights=weights,
                     intercept=-50.0 * min_score, threshold=0.5)


# The served entry when the retriever's score reaches this: the questions the chat window's and the channels'
# tests ask score 0.30 to 0.41 on their entry, any other candidate under 0.29 (measured on the sample KB).
STACK_MIN_SCORE = 0.29


def stack_risk_model(directory):
    """A risk model file for the servers the end-to-end and browser tests start (``scripts.servers.running_bot``)."""
    path = directory / "answer-risk.json"
    score_risk_model(STACK_MIN_SCORE).save(path)
    return path

"""The trained bot, served on free ports for the whole session."""
import pytest

from scripts.servers import MODEL, running_bot
from tests.conftest import stack_risk_model


@pytest.fixture(scope="session")
def bot(tmp_path_factory):
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: `make test` trains it first (make train)")
    work = tmp_path_factory.mktemp("e2e")
    with running_bot(work, risk_model=stack_risk_model(work)) as served:
        yield served

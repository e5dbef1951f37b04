"""The trained bot, served on free ports for the whole session."""
import pytest

from scripts.servers import MODEL, running_bot


@pytest.fixture(scope="session")
def bot(tmp_path_factory):
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: `make test` trains it first (make train)")
    with running_bot(tmp_path_factory.mktemp("e2e")) as served:
        yield served

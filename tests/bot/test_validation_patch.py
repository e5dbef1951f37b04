"""The cached validator of the action server's responses (bot/components/validation_patch.py, issue 13)."""
from __future__ import annotations

import jsonschema
import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

import bot.components  # noqa: F401  (what the Rasa server imports when it loads the model)
from bot.components import validation_patch

VALID = {
    "events": [{"event": "slot", "name": "audience", "value": "eleve", "timestamp": None}],
    "responses": [{"text": "Bonjour", "custom": {"answer": {"kb_id": "k1", "confidence": 0.9, "sources": []}}}],
}


def action() -> RemoteAction:
    return RemoteAction("action_answer", None)


def test_the_patch_is_in_place_once_the_components_are_imported():
    assert validation_patch.installed()
    assert RemoteAction._validate_action_result is validation_patch.validate_action_result


def test_the_validator_is_built_once():
    assert validation_patch.action_response_validator() is validation_patch.action_response_validator()


def test_a_valid_response_passes():
    assert action()._validate_action_result(VALID) is True
    assert action()._validate_action_result({"events": [], "responses": []}) is True


@pytest.mark.parametrize("response", [
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": {"event": "slot"}, "responses": []},
    {"events": [], "responses": ["not an object"]},
    ["not", "an", "object"],
])
def test_an_invalid_response_is_rejected_as_rasa_rejects_it(response):
    with pytest.raises(ValidationError) as patched:
        action()._validate_action_result(response)
    assert "Failed to validate Action server response" in patched.value.message
    with pytest.raises(ValidationError) as original:
        jsonschema.validate(response, RemoteAction.action_response_format_spec())
    assert patched.value.message.startswith(original.value.message)
    with pytest.raises(ValidationError):
        validation_patch.ORIGINAL(action(), response)


def test_the_environment_can_leave_rasa_s_method_in_place(monkeypatch):
    monkeypatch.setattr(RemoteAction, "_validate_action_result", validation_patch.ORIGINAL)
    monkeypatch.setenv(validation_patch.ENV_SWITCH, "0")
    assert validation_patch.install() is False
    assert not validation_patch.installed()
    monkeypatch.delenv(validation_patch.ENV_SWITCH)
    assert validation_patch.install() is True
    assert validation_patch.installed()

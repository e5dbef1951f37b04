"""A cached JSON-schema validator for the action server's responses (issue 13), patched into Rasa at import.

Rasa 3.6 checks every response of the action server with ``jsonschema.validate(result, schema)``
(``RemoteAction._validate_action_result``). That call checks the schema itself against the draft's
meta-schema, then builds a new validator, for every custom action run: with Rasa's events schema (a
``oneOf`` over every event type) it was 44 % of the Rasa server's CPU under load (py-spy, 8 clients).
Here the validator is built once (``validator_for(schema)(schema)``, the schema checked once) and the
same response is still validated the same way, with the same error (``best_match``) and message.

How it is applied: ``bot/components/__init__.py`` imports this module, and the Rasa server imports
``bot.components`` when it loads the model (the pipeline names ``bot.components.normaliser.…``), so the
patch is in place before the first message. Nothing in the trained model changes. The action server
does not import it. ``ORIENTBOT_CACHED_ACTION_VALIDATOR=0`` leaves Rasa's own method in place (to measure
the difference: ``ORIENTBOT_CACHED_ACTION_VALIDATOR=0 make bench``).
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

from bot.components.switches import switched_off

ENV_SWITCH = "ORIENTBOT_CACHED_ACTION_VALIDATOR"
ORIGINAL = RemoteAction.__dict__["_validate_action_result"]
_validator: Optional[Any] = None


def action_response_validator() -> Any:
    """The validator of Rasa's action response schema, built (and the schema checked) once."""
    global _validator
    if _validator is None:
        schema = RemoteAction.action_response_format_spec()
        cls = validator_for(schema)
        cls.check_schema(schema)
        _validator = cls(schema)
    return _validator


def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    """``RemoteAction._validate_action_result`` with the cached validator: same checks, same error."""
    error = best_match(action_response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


validate_action_result.orientbot_cached = True  # type: ignore[attr-defined]


def install() -> bool:
    """Puts the cached validation in place (idempotent); False when switched off by the environment."""
    if switched_off(ENV_SWITCH):
        return False
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[assignment]
    return True


def installed() -> bool:
    return getattr(RemoteAction.__dict__["_validate_action_result"], "orientbot_cached", False)


install()

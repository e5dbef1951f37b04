"""Stage 1, load: read and validate transcripts (JSON Lines and CSV exports).

A malformed line or row is reported with its file and line number and skipped;
the rest of the corpus still loads.  The format is documented in
``transcripts/FORMAT.md``.
"""
from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, Iterable, List, Tuple

from knowledge.model import KINDS, PARTICIPANT_ROLES, Conversation, LoadError, Message, Participant


class InvalidConversation(ValueError):
    pass


def _require(data: Dict[str, Any], key: str, kind: type = str) -> Any:
    if key not in data or data[key] in (None, ""):
        raise InvalidConversation(f"champ obligatoire manquant : {key!r}")
    if not isinstance(data[key], kind):
        raise InvalidConversation(f"champ {key!r} : type {type(data[key]).__name__} au lieu de {kind.__name__}")
    return data[key]


def _check_time(value: str, what: str) -> str:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise InvalidConversation(f"{what} : date ISO 8601 invalide {value!r}") from None
    return value


def _as_int(value: Any, what: str) -> int:
    if value in (None, ""):
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidConversation(f"{what} : nombre entier attendu, pas {value!r}") from None


def _as_bool(value: Any) -> bool:
    return value is True or str(value).strip().lower() in {"true", "1", "yes", "oui"}


def conversation_from_dict(data: Any, source: str = "") -> Conversation:
    """Validate one conversation object; raises ``InvalidConversation`` with a French reason."""
    if not isinstance(data, dict):
        raise InvalidConversation("une conversation doit être un objet JSON")
    conversation_id = _require(data, "conversation_id")
    kind = _require(data, "kind")
    if kind not in KINDS:
        raise InvalidConversation(f"kind {kind!r} inconnu (attendu : {', '.join(KINDS)})")
    started_at = _check_time(_require(data, "started_at"), "started_at")
    participants = []
    for raw in _require(data, "participants", list):
        if not isinstance(raw, dict):
            raise InvalidConversation("participant : objet attendu")
        role = _require(raw, "role")
        if role not in PARTICIPANT_ROLES:
            raise InvalidConversation(f"participant {raw.get('id')!r} : rôle {role!r} inconnu")
        participants.append(Participant(str(_require(raw, "id")), role, str(raw.get("display_name") or "")))
    roles = {p.id: p.role for p in participants}
    messages = []
    seen = set()
    for index, raw in enumerate(_require(data, "messages", list), start=1):
        where = f"message {index}"
        if not isinstance(raw, dict):
            raise InvalidConversation(f"{where} : objet attendu")
        message_id = str(_require(raw, "id"))
        if message_id in seen:
            raise InvalidConversation(f"{where} : identifiant {message_id!r} en double")
        seen.add(message_id)
        author = str(_require(raw, "from"))
        if author != "system" and author not in roles:
            raise InvalidConversation(f"{where} : auteur {author!r} absent des participants")
        text = raw.get("text")
        if not isinstance(text, str):
            raise InvalidConversation(f"{where} : le texte doit être une chaîne")
        corrects = raw.get("corrects")
        if corrects is not None and str(corrects) not in seen:
            raise InvalidConversation(f"{where} : corrige un message inconnu ou postérieur {corrects!r}")
        messages.append(
            Message(
                id=message_id,
                at=_check_time(_require(raw, "at"), f"{where}, at"),
                author=author,
                role="system" if author == "system" else roles[author],
                text=text,
                reply_to=str(raw["reply_to"]) if raw.get("reply_to") not in (None, "") else None,
                votes=_as_int(raw.get("votes"), f"{where}, votes"),
                rejected=raw.get("moderation") == "rejected",
                corrects=str(corrects) if corrects is not None else None,
                validated=_as_bool(raw.get("validated")),
                event=raw.get("event") or None,
            )
        )
    return Conversation(
        id=str(conversation_id),
        kind=kind,
        started_at=started_at,
        messages=tuple(messages),
        participants=tuple(participants),
        title=str(data.get("title") or ""),
        source=source,
    )


def load_jsonl(path: Path) -> Tuple[List[Conversation], List[LoadError]]:
    conversations, errors = [], []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                conversations.append(conversation_from_dict(json.loads(line), source=where))
            except json.JSONDecodeError as exc:
                errors.append(LoadError(where, f"JSON invalide ({exc.msg}, colonne {exc.colno})"))
            except InvalidConversation as exc:
                errors.append(LoadError(where, str(exc)))
    return conversations, errors


def _rows(reader: csv.DictReader, path: Path, errors: List[LoadError]) -> Iterable[Dict[str, Any]]:
    """The reader's rows; a row the csv module cannot parse ends the file with an error naming its line."""
    try:
        yield from reader
    except csv.Error as exc:
        errors.append(LoadError(f"{path}:{reader.line_num}", f"CSV illisible à partir d'ici ({exc})"))


def load_csv(path: Path) -> Tuple[List[Conversation], List[LoadError]]:
    """Rows (one per message) grouped by conversation_id, in file order."""
    groups: Dict[str, Dict[str, Any]] = {}
    first_line: Dict[str, int] = {}
    errors: List[LoadError] = []
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        # NUL bytes (a binary file, a broken export) stop Python's csv reader: they carry no text, drop them.
        reader = csv.DictReader(line.replace("\0", "") for line in handle)
        try:
            missing = [c for c in ("conversation_id", "message_id", "at", "author_id", "text") if c not in (reader.fieldnames or [])]
        except csv.Error as exc:
            return [], [LoadError(f"{path}:1", f"en-tête CSV illisible ({exc})")]
        if missing:
            return [], [LoadError(f"{path}:1", f"colonnes manquantes : {', '.join(missing)}")]
        for row in _rows(reader, path, errors):
            line = reader.line_num
            conversation_id = (row.get("conversation_id") or "").strip()
            if not conversation_id:
                errors.append(LoadError(f"{path}:{line}", "conversation_id vide"))
                continue
            group = groups.setdefault(
                conversation_id,
                {"conversation_id": conversation_id, "kind": row.get("kind") or "one_to_one",
                 "started_at": row.get("started_at") or row.get("at"), "title": row.get("title") or "",
                 "participants": {}, "messages": []},
            )
            first_line.setdefault(conversation_id, line)
            author = (row.get("author_id") or "").strip()
            role = (row.get("author_role") or "").strip()
            if author != "system" and author not in group["participants"]:
                group["participants"][author] = {"id": author, "role": role, "display_name": row.get("author_name") or ""}
            message = {
                "id": row.get("message_id"), "at": row.get("at"), "from": author, "text": row.get("text"),
                "reply_to": row.get("reply_to") or None, "votes": row.get("votes") or 0,
                "moderation": row.get("moderation") or "published", "corrects": row.get("corrects") or None,
                "validated": row.get("validated"), "event": row.get("event") or None,
            }
            group["messages"].append(message)
    conversations = []
    for conversation_id, group in groups.items():
        group["participants"] = list(group["participants"].values())
        where = f"{path}:{first_line[conversation_id]}"
        try:
            conversations.append(conversation_from_dict(group, source=where))
        except InvalidConversation as exc:
            errors.append(LoadError(where, f"conversation {conversation_id!r} : {exc}"))
    return conversations, errors


def transcript_files(directory: Path) -> List[Path]:
    return sorted(directory.glob("*.jsonl")) + sorted((directory / "imports").glob("*.csv"))


def load_corpus(paths: Iterable[Path]) -> Tuple[List[Conversation], List[LoadError]]:
    """Every conversation of every file; duplicate ids are errors (the first one wins)."""
    conversations: List[Conversation] = []
    errors: List[LoadError] = []
    seen = set()
    for path in paths:
        loaded, problems = (load_csv if path.suffix == ".csv" else load_jsonl)(path)
        errors.extend(problems)
        for conversation in loaded:
            if conversation.id in seen:
                errors.append(LoadError(conversation.source, f"conversation_id {conversation.id!r} déjà lu"))
                continue
            seen.add(conversation.id)
            conversations.append(conversation)
    return conversations, errors

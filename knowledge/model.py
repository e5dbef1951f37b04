"""The typed values passed between the pipeline's stages."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Tuple

ASKER_ROLES = ("eleve", "parent")
COUNSELLOR_ROLES = ("conseiller",)
PARTICIPANT_ROLES = ASKER_ROLES + COUNSELLOR_ROLES + ("moderateur",)
KINDS = ("live", "one_to_one")


@dataclass(frozen=True)
class Participant:
    id: str
    role: str
    display_name: str = ""


@dataclass(frozen=True)
class Message:
    id: str
    at: str
    author: str
    role: str
    text: str
    reply_to: Optional[str] = None
    votes: int = 0
    rejected: bool = False
    corrects: Optional[str] = None
    validated: bool = False
    event: Optional[str] = None


@dataclass(frozen=True)
class Conversation:
    id: str
    kind: str
    started_at: str
    messages: Tuple[Message, ...]
    participants: Tuple[Participant, ...] = ()
    title: str = ""
    source: str = ""  # "file:line" it was read from


@dataclass(frozen=True)
class LoadError:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class QAPair:
    conversation_id: str
    question: str
    answer: str
    asker_role: str
    votes: int = 0
    validated: bool = False
    corrected: bool = False  # the answer is a counsellor's correction of an earlier one
    transferred: bool = False  # the conversation was handed to someone else after it
    question_ids: Tuple[str, ...] = ()
    answer_ids: Tuple[str, ...] = ()
    context: str = ""  # the earlier question an elliptic follow-up was prefixed with ("" if it stands alone)
    follows: str = ""  # the same asker's previous question in the conversation ("" if none)

    @property
    def asked(self) -> str:
        """The question as the asker typed it, without the context folded in."""
        return self.question[len(self.context) :].strip() if self.context else self.question


@dataclass(frozen=True)
class Cluster:
    """Pairs asking the same thing."""

    pairs: Tuple[QAPair, ...]


@dataclass
class AnonymisationReport:
    removed: dict = field(default_factory=dict)  # kind -> count
    messages_changed: int = 0

    def count(self, kind: str, n: int = 1) -> None:
        self.removed[kind] = self.removed.get(kind, 0) + n

    def lines(self) -> List[str]:
        parts = [f"{kind}: {n}" for kind, n in sorted(self.removed.items())]
        return [f"messages changed: {self.messages_changed}"] + parts

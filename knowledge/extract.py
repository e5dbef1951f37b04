"""Stage 3, extract: question/answer pairs from anonymised conversations.

Live sessions link answers to questions with ``reply_to``; one-to-one chats are
paired by turns (an asker's consecutive messages form one question, a
counsellor's clarifying question and the asker's precision are folded into it,
the counsellor's consecutive messages form the answer).  Rejected and
unanswered questions are skipped; an answer that a counsellor later corrected
is replaced by its correction; validated answers and votes are kept so the
cluster stage can prefer them.  A follow-up that cannot stand alone ("et si je
rate ?", "c'est définitif ?") is prefixed with the asker's previous question
(``standalone_question``), so that every pair means the same out of its chat.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from knowledge.model import ASKER_ROLES, COUNSELLOR_ROLES, Conversation, Message, QAPair
from orientbot.followup import SMALL_TALK, is_a_question, standalone_question

MIN_ANSWER_CHARS = 60
def _is_clarification(message_text: str) -> bool:
    text = message_text.strip()
    return text.endswith("?") and len(text) < 200 and "http" not in text


def _is_answer(text: str) -> bool:
    return len(text.strip()) >= MIN_ANSWER_CHARS


def _transferred_after(messages: Sequence[Message], index: int, window: int = 3) -> bool:
    return any(m.role == "system" and m.event == "transfer" for m in messages[index + 1 : index + 1 + window])


def _live_pairs(conversation: Conversation) -> List[QAPair]:
    messages = conversation.messages
    by_id = {m.id: m for m in messages}
    superseded = {m.corrects for m in messages if m.corrects}
    answers: Dict[str, List[Tuple[int, Message]]] = {}
    for index, message in enumerate(messages):
        if message.role not in COUNSELLOR_ROLES or message.id in superseded:
            continue
        target = message.reply_to
        if target is None and message.corrects in by_id:
            target = by_id[message.corrects].reply_to
        if target in by_id:
            answers.setdefault(target, []).append((index, message))
    pairs = []
    for question in messages:
        if question.role not in ASKER_ROLES or question.rejected or question.id not in answers:
            continue
        replies = answers[question.id]
        corrections = [m for _, m in replies if m.corrects]
        chosen = corrections or [m for _, m in replies]
        text = " ".join(m.text.strip() for m in chosen)
        if not is_a_question(question.text) or not _is_answer(text):
            continue
        last_index = max(i for i, _ in replies)
        pairs.append(
            QAPair(
                conversation_id=conversation.id,
                question=question.text.strip(),
                answer=text,
                asker_role=question.role,
                votes=question.votes,
                validated=any(m.validated for m in chosen),
                corrected=bool(corrections),
                transferred=_transferred_after(messages, last_index),
                question_ids=(question.id,),
                answer_ids=tuple(m.id for m in chosen),
            )
        )
    return pairs


def _turns(messages: Sequence[Message]) -> List[Tuple[str, List[int]]]:
    """Consecutive messages grouped by side: ("asker" | "counsellor" | "system", indexes)."""
    turns: List[Tuple[str, List[int]]] = []
    for index, message in enumerate(messages):
        side = "asker" if message.role in ASKER_ROLES else "counsellor" if message.role in COUNSELLOR_ROLES else "system"
        if message.rejected or side == "system" and message.event != "transfer":
            continue
        if turns and turns[-1][0] == side:
            turns[-1][1].append(index)
        else:
            turns.append((side, [index]))
    return turns


def _one_to_one_pairs(conversation: Conversation) -> List[QAPair]:
    messages = conversation.messages
    superseded = {m.corrects for m in messages if m.corrects}
    pairs: List[QAPair] = []
    pending: Optional[List[int]] = None  # indexes of the question being asked
    for side, indexes in _turns(messages):
        if side == "asker":
            if pending is not None:
                pending = pending + indexes
            elif any(is_a_question(messages[i].text) for i in indexes):
                pending = [i for i in indexes if not SMALL_TALK.match(messages[i].text.strip())]
            continue
        if side == "system":
            if pending:
                pairs.append(_pair(conversation, pending, [], transferred=True))
                pending = None
            continue
        kept = [i for i in indexes if messages[i].id not in superseded]
        text = " ".join(messages[i].text.strip() for i in kept)
        if pending is None:
            continue
        if _is_clarification(text) or not _is_answer(text):
            continue  # a greeting or a clarifying question: the precision joins the pending question
        pairs.append(_pair(conversation, pending, kept, transferred=_transferred_after(messages, kept[-1])))
        pending = None
    return pairs


def _pair(conversation: Conversation, asked: List[int], answered: List[int], *, transferred: bool) -> QAPair:
    messages = conversation.messages
    return QAPair(
        conversation_id=conversation.id,
        question=" ".join(messages[i].text.strip() for i in asked),
        answer=" ".join(messages[i].text.strip() for i in answered),
        asker_role=messages[asked[0]].role,
        votes=sum(messages[i].votes for i in asked),
        validated=any(messages[i].validated for i in answered),
        corrected=any(messages[i].corrects for i in answered),
        transferred=transferred,
        question_ids=tuple(messages[i].id for i in asked),
        answer_ids=tuple(messages[i].id for i in answered),
    )


def _fold_follow_ups(pairs: Sequence[QAPair], previous: Callable[[int], Optional[int]]) -> List[QAPair]:
    """Each pair made to stand alone; ``previous(i)`` is the index of the question pair i follows up, if any."""
    folded: List[QAPair] = []
    for index, pair in enumerate(pairs):
        before = previous(index)
        earlier = folded[before].question if before is not None and 0 <= before < index else None
        question, context = standalone_question(pair.question, earlier)
        folded.append(replace(pair, question=question, context=context, follows=earlier or ""))
    return folded


def _previous_of_same_asker(conversation: Conversation, pairs: Sequence[QAPair]) -> Callable[[int], Optional[int]]:
    """One-to-one chats: a question follows up the same asker's previous question."""
    author = {m.id: m.author for m in conversation.messages}
    askers = [author.get(p.question_ids[0]) if p.question_ids else None for p in pairs]

    def previous(index: int) -> Optional[int]:
        return next((i for i in range(index - 1, -1, -1) if askers[i] == askers[index]), None)

    return previous


def _previous_by_reply_to(conversation: Conversation, pairs: Sequence[QAPair]) -> Callable[[int], Optional[int]]:
    """Live sessions: a question follows up another only when its ``reply_to`` says so (the earlier
    question itself, or an answer to it)."""
    by_id = {m.id: m for m in conversation.messages}
    pair_of = {qid: i for i, p in enumerate(pairs) for qid in p.question_ids}

    def previous(index: int) -> Optional[int]:
        asked = by_id.get(pairs[index].question_ids[0]) if pairs[index].question_ids else None
        target = by_id.get(asked.reply_to) if asked is not None and asked.reply_to else None
        if target is not None and target.role in COUNSELLOR_ROLES:
            target = by_id.get(target.reply_to) if target.reply_to else None
        return pair_of.get(target.id) if target is not None else None

    return previous


def extract_pairs(conversations: Sequence[Conversation]) -> List[QAPair]:
    pairs: List[QAPair] = []
    for conversation in conversations:
        if conversation.kind == "live":
            found = _live_pairs(conversation)
            pairs.extend(_fold_follow_ups(found, _previous_by_reply_to(conversation, found)))
        else:
            found = _one_to_one_pairs(conversation)
            pairs.extend(_fold_follow_ups(found, _previous_of_same_asker(conversation, found)))
    return pairs

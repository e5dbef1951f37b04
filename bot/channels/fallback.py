"""What a channel says in the bot's place, and the tracker-store checks that decide when it must.

Owns, for the chat window's channel (``bot/channels/chat.py``) and our REST channel (``bot/channels/rest.py``):

* the replies given when the bot could not answer a message, or a store could not take it: French, in the
  person's register (tu for ``eleve``, vous for ``parent``), with every emergency number at once when the message
  shows distress (``orientbot.safety``, ``orientbot.emergency``), whatever else is down;
* the kind 429 of the rate limits (``bot.channels.guard``), in the person's register for the REST channel, and
  the client address they count;
* the ping Rasa's SQL tracker store needs after its database restarts (``orientbot.db.ping_on_checkout``).
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from orientbot import emergency
from orientbot.safety import detect_distress

# When the bot gives no reply at all (its action server is down, say): the person is told, in their register,
# and a message that shows distress gets the emergency numbers at once all the same.
UNANSWERED = {
    "eleve": "Je n'arrive pas à te répondre pour le moment, mais ton message est bien enregistré. Réessaie dans "
             "quelques minutes ; un conseiller peut aussi le lire.",
    "parent": "Je ne parviens pas à vous répondre pour le moment, mais votre message est bien enregistré. "
              "Réessayez dans quelques minutes ; un conseiller peut aussi le lire.",
}
UNANSWERED_DISTRESS = {
    "eleve": "Je n'arrive pas à te répondre pour le moment, mais ce que tu écris compte : appelle dès maintenant "
             "l'un de ces numéros gratuits : {numbers}. Parles-en aussi à un adulte "
             "de confiance.",
    "parent": "Je ne parviens pas à vous répondre pour le moment, mais ce que vous décrivez compte : appelez dès "
              "maintenant l'un de ces numéros gratuits : {numbers}.",
}

# When the database is down the message cannot be written: the server keeps nothing, the chat window keeps it in
# its outbox and sends it again (same client_id: kept once) until the server takes it. Said as it is: not stored.
UNSTORED = {
    "eleve": "Le service est momentanément indisponible : ton message n'a pas encore pu être enregistré. Garde "
             "cette fenêtre ouverte, il repartira tout seul dans quelques instants. Si c'est pressé, tu peux aussi "
             "en parler au ou à la psy-EN de ton lycée ou au CIO de ton secteur.",
    "parent": "Le service est momentanément indisponible : votre message n'a pas encore pu être enregistré. Gardez "
              "cette fenêtre ouverte, il repartira de lui-même dans quelques instants. Si c'est pressé, vous pouvez "
              "aussi contacter le ou la psy-EN de l'établissement ou le CIO de votre secteur.",
}

# The REST channel keeps no outbox of its own: when the lock store or the tracker store fails, the message is not
# taken at all (Rasa has no trace of it), and only the person, or their client, can send it again.
NOT_TAKEN = {
    "eleve": "Le service est momentanément indisponible : ton message n'a pas pu être reçu. Renvoie-le "
             "dans quelques instants, s'il te plaît. Si c'est pressé, tu peux aussi en parler au ou à la psy-EN de "
             "ton lycée ou au CIO de ton secteur.",
    "parent": "Le service est momentanément indisponible : votre message n'a pas pu être reçu. Merci de "
              "le renvoyer dans quelques instants. Si c'est pressé, vous pouvez aussi contacter le ou la psy-EN de "
              "l'établissement ou le CIO de votre secteur.",
}
# The numbers first: a person in distress must not have to read to the end, nor wait for the service to return.
NOT_TAKEN_DISTRESS = {
    "eleve": "Ce que tu écris compte : appelle dès maintenant l'un de ces numéros gratuits : {numbers}. Parles-en "
             "aussi à un adulte de confiance. Le service est momentanément indisponible et ton message n'a pas pu "
             "être reçu : renvoie-le dans quelques instants.",
    "parent": "Ce que vous décrivez compte : appelez dès maintenant l'un de ces numéros gratuits : {numbers}. Le "
              "service est momentanément indisponible et votre message n'a pas pu être reçu : merci de le "
              "renvoyer dans quelques instants.",
}


def register_of(audience: Any) -> str:
    """``parent`` (vous) for a parent, else ``eleve`` (tu): a missing or unknown audience is spoken to as a pupil."""
    return "parent" if audience == "parent" else "eleve"


def fallback_reply(text: Any, audience: Any, said: Dict[str, str], flag: str,
                   distress: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    """What the channel says in the bot's place (``said``, per register), or the emergency numbers on distress."""
    register = register_of(audience)
    if isinstance(text, str) and detect_distress(text) is not None:
        return {"text": (distress or UNANSWERED_DISTRESS)[register].format(numbers=emergency.numbers_sentence()),
                "custom": {flag: True, "urgent": True}}
    return {"text": said[register], "custom": {flag: True}}


def unanswered_reply(text: str, audience: str) -> Dict[str, Any]:
    """The reply to a message the bot did not answer; the emergency numbers if it shows distress."""
    return fallback_reply(text, audience, UNANSWERED, "unanswered")


def unstored_reply(text: str, audience: str) -> Dict[str, Any]:
    """The reply to a message the database could not take; the emergency numbers if it shows distress."""
    return fallback_reply(text, audience, UNSTORED, "unstored")


def not_taken_reply(text: Any, audience: Any) -> Dict[str, Any]:
    """The REST channel's reply to a message no store could take: send it again; the numbers at once on distress."""
    return fallback_reply(text, audience, NOT_TAKEN, "unstored", distress=NOT_TAKEN_DISTRESS)


# The REST channel's refusal keeps nothing either (the chat window's outbox sends its message again by itself): the
# person is told, in their register, that this message was not received and when to send it again.
RESEND_LATER = {
    "eleve": "Beaucoup de messages sont arrivés en peu de temps : ton message n'a pas pu être reçu. Renvoie-le "
             "dans {wait}, s'il te plaît.",
    "parent": "Beaucoup de messages sont arrivés en peu de temps : votre message n'a pas pu être reçu. Merci de "
              "le renvoyer dans {wait}.",
}
# A refused message that shows distress: the numbers first, as when a store fails.
RESEND_LATER_DISTRESS = {
    "eleve": "Ce que tu écris compte : appelle dès maintenant l'un de ces numéros gratuits : {numbers}. Parles-en "
             "aussi à un adulte de confiance. ",
    "parent": "Ce que vous décrivez compte : appelez dès maintenant l'un de ces numéros gratuits : {numbers}. ",
}


def too_many(retry_after: int, text: Any = None, audience: Any = None, *, resend: bool = False) -> HTTPResponse:
    """The rate limits' refusal: a kind French 429 with ``Retry-After``.

    ``resend`` (the REST channel, which keeps nothing of a refused message): "send it again in …", in the
    person's register, every emergency number first (and ``urgent``) when ``text`` shows distress.
    """
    wait = "une minute" if retry_after >= 50 else f"{retry_after} seconde{'s' if retry_after > 1 else ''}"
    body: Dict[str, Any] = {
        "error": f"Beaucoup de messages en peu de temps : merci de patienter {wait} avant de réessayer. "
                 "Rien de ce qui a été écrit n'est perdu.", "retry_after": retry_after}
    if resend:
        register = register_of(audience)
        body["error"] = RESEND_LATER[register].format(wait=wait)
        if isinstance(text, str) and detect_distress(text) is not None:
            numbers = RESEND_LATER_DISTRESS[register].format(numbers=emergency.numbers_sentence())
            body.update(error=numbers + body["error"], urgent=True)
    return response.json(body, status=429, headers={"Retry-After": str(retry_after)})


def client_address(request: Request) -> str:
    # remote_addr is the forwarded client address only when Sanic is told to trust a proxy; else the peer's.
    return request.remote_addr or request.ip or "?"


def tracker_store_chain(app: Any) -> list:
    """Rasa's tracker store as the agent holds it, outermost first: FailSafe, Awaitable, then the real store."""
    chain = []
    store = getattr(getattr(app.ctx, "agent", None), "tracker_store", None)
    for _ in range(3):
        if store is None:
            break
        chain.append(store)
        store = getattr(store, "_tracker_store", None)
    return chain


def tracker_engine_of(app: Any) -> Any:
    """The SQL engine of Rasa's tracker store (endpoints.yml), or None for another kind of store."""
    for store in tracker_store_chain(app):
        if getattr(store, "engine", None) is not None:
            return store.engine
    return None


def ping_tracker_store(app: Any) -> None:
    """Rasa's SQL tracker store checks a pooled connection before using it (``orientbot.db.ping_on_checkout``).

    Without it, after the database restarts, each worker's next message reads its conversation on a dead
    connection: Rasa then falls back to an empty conversation for that message and writes it out of place.
    """
    engine = tracker_engine_of(app)
    if engine is not None and engine.dialect.name != "sqlite":  # a SQLite file has no connection to lose
        from orientbot.db import ping_on_checkout

        ping_on_checkout(engine)

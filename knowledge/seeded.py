"""The anonymiser, measured: a seeded corpus of personal data and what of it reaches the pipeline's output.

Owns the generator of synthetic conversations that carry personal data in the shapes real askers write
it (accented and hyphenated names, capitalised school names, e-mails, phone numbers in every common
spelling, INE, Parcoursup and student numbers, postal addresses, dates of birth, social handles) and the
measurement: the whole pipeline runs over the sample transcripts plus the seeded conversations, and
every seeded value is looked for in everything it writes (KB entries, generated training data).

    python -m knowledge.seeded            # recall per kind of personal data; exit 1 if anything leaks

Nothing here is real: names are drawn from lists of common French names, numbers at random.
"""
from __future__ import annotations

import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple

from knowledge.model import Conversation, Message, Participant
from orientbot.normalise import fold_accents

FIRST_NAMES = ("Maëlle", "Jean-Éric", "Anaïs", "Loïc", "Zoé", "Noémie", "Anne-Sophie", "Bérénice", "Timéo", "Inès",
               "Gaëtan", "Maïwenn", "Yanis", "Océane", "Mathéo", "Chloé")
LAST_NAMES = ("Lefèvre-Dubois", "N'Diaye", "Garnier", "Le Goff", "Benali", "Rousseau", "Da Silva", "Kowalski",
              "Perrin", "Guérin", "Nguyen", "Morel")
SCHOOLS = ("Collège Jean Moulin", "collège Victor-Hugo", "Lycée Marie Curie", "lycée professionnel Gustave Eiffel",
           "LP Les Iris", "Collège Sainte-Thérèse", "lycée Jean-Baptiste Corot", "CFA du Bâtiment Pierre Mendès")
STREETS = ("rue des Lilas", "avenue Jean Jaurès", "allée des Tilleuls", "impasse du Moulin", "boulevard Gambetta")
CITIES = ("Argenteuil", "Saint-Étienne", "Villeneuve-d'Ascq", "Lyon", "Aix-en-Provence")
HANDLE_SITES = ("insta", "snap", "tiktok", "discord")

# Where each kind appears in an asker's message: ``{}`` is the value.
TEMPLATES: Dict[str, Tuple[str, ...]] = {
    "name": ("Bonjour, ma fille {} est en 3e, quelles démarches pour l'apprentissage ?",
             "Mon prof principal, M. {}, dit qu'il faut une lettre de motivation, c'est obligatoire ?",
             "je suis avec ma copine {} et on se demande comment marche la phase complémentaire"),
    "school": ("Notre aîné est scolarisé au {}, quelles options en 2de GT ?",
               "je suis en 1ere au {} et je sais pas quoi mettre en voeux"),
    "email": ("vous pouvez me répondre sur {} svp ? c'est pour le BTS", "Mon adresse est {}, merci de me recontacter."),
    "phone": ("rappelez moi au {} svp c pour le BTS", "Joignable au {} en soirée, merci pour le rendez-vous au CIO."),
    "ine": ("mon INE c'est {}, vous pouvez vérifier mon dossier ?", "Voici l'INE de ma fille : {}."),
    "file_number": ("mon numéro de dossier parcoursup est {}, je suis toujours en attente",
                    "Numéro étudiant {} : ma bourse n'est pas arrivée, que faire ?"),
    "address": ("On habite au {}, quel lycée de secteur pour mon fils ?", "j'habite {} c'est loin du CFA"),
    "birth_date": ("je suis née le {} est-ce que je peux signer un contrat d'apprentissage ?",
                   "Mon fils est né le {}, peut-il entrer en apprentissage ?"),
    "handle": ("ajoutez moi sur {} pour en parler", "mon {} si un conseiller peut m'écrire"),
}


@dataclass(frozen=True)
class Seed:
    kind: str
    value: str  # what must never come out of the pipeline


def _phone(rng: random.Random) -> str:
    digits = [rng.choice("67")] + [str(rng.randrange(10)) for _ in range(8)]
    pairs = ["0" + digits[0]] + ["".join(digits[i:i + 2]) for i in range(1, 9, 2)]
    spelling = rng.randrange(6)
    if spelling == 0:
        return " ".join(pairs)
    if spelling == 1:
        return "".join(pairs)
    if spelling == 2:
        return ".".join(pairs)
    if spelling == 3:
        return "-".join(pairs)
    if spelling == 4:
        return "+33 " + pairs[0][1] + " " + " ".join(pairs[1:])
    return "0033" + "".join(pairs)[1:]


def _value(kind: str, rng: random.Random) -> str:
    if kind == "name":
        return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    if kind == "school":
        return rng.choice(SCHOOLS)
    if kind == "email":
        return f"{fold_accents(rng.choice(FIRST_NAMES)).lower()}.{rng.randrange(10, 99)}@exemple-mail.fr"
    if kind == "phone":
        return _phone(rng)
    if kind == "ine":
        # An INE starting with 0 must not be taken for a phone number.
        digits = "0" + "".join(str(rng.randrange(10)) for _ in range(9))
        return digits + rng.choice("ABCDEFGHJK") if rng.random() < 0.5 else digits[:9] + "AB"
    if kind == "file_number":
        return str(rng.randrange(1_000_000, 99_999_999))
    if kind == "address":
        return f"{rng.randrange(1, 120)} {rng.choice(STREETS)}, {rng.randrange(10, 96)}{rng.randrange(100, 999)} {rng.choice(CITIES)}"
    if kind == "birth_date":
        return f"{rng.randrange(1, 28):02d}/{rng.randrange(1, 13):02d}/{rng.randrange(2008, 2012)}"
    if kind == "handle":
        first = fold_accents(rng.choice(FIRST_NAMES)).lower().replace("-", "")
        return rng.choice([f"@{first}.{rng.randrange(100)}", f"{rng.choice(HANDLE_SITES)} : {first}_{rng.randrange(2008, 2012)}"])
    raise ValueError(kind)


def seeded_conversations(count: int = 60, *, seed: int = 2026) -> Tuple[List[Conversation], List[Seed]]:
    """``count`` conversations, each with one seeded message answered by a counsellor, and the seeds."""
    rng = random.Random(seed)
    kinds = sorted(TEMPLATES)
    conversations, seeds = [], []
    for index in range(count):
        kind = kinds[index % len(kinds)]
        value = _value(kind, rng)
        role = "parent" if index % 3 == 0 else "eleve"
        asker = Participant("a", role, f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}")
        counsellor = Participant("c", "conseiller", "Claire Fournier, psy-EN")
        text = rng.choice(TEMPLATES[kind]).format(value)
        reply = ("Merci pour ta question. Pour ta situation, un conseiller du CIO peut t'aider : "
                 "prends rendez-vous, c'est gratuit.")
        messages = (
            Message("1", "2026-03-02T18:00:00+01:00", "a", role, text),
            Message("2", "2026-03-02T18:02:00+01:00", "c", "conseiller", reply, reply_to="1"),
        )
        conversations.append(Conversation(f"seeded-{index}", "one_to_one", "2026-03-02T18:00:00+01:00",
                                          messages, (asker, counsellor), source=f"seeded:{index}"))
        seeds.append(Seed(kind, value))
        seeds.extend(Seed("name", part) for part in asker.display_name.split() if len(part) > 2)
    return conversations, seeds


def _pieces(seed: Seed) -> Iterable[str]:
    """The parts of a value that would identify someone on their own (a street number alone does not)."""
    if seed.kind == "address":
        number, _, rest = seed.value.partition(" ")
        street, _, city = rest.partition(", ")
        return (street, city.split(" ", 1)[0])  # the street name and the postcode
    if seed.kind == "name":
        return tuple(part for part in seed.value.split() if len(part) > 2)
    if seed.kind == "handle":
        return (seed.value.split(" : ")[-1],)
    return (seed.value,)


def leaks(seeds: Sequence[Seed], outputs: Sequence[str]) -> Dict[str, List[str]]:
    """For each kind, the seeded values found in any of ``outputs`` (case and accents ignored)."""
    haystack = fold_accents("\n".join(outputs)).lower()
    found: Dict[str, List[str]] = {}
    for seed in seeds:
        # Whole words only: "Inès" is not leaked by "kinésithérapeute".
        if any(re.search(rf"(?<!\w){re.escape(fold_accents(piece).lower())}(?!\w)", haystack) for piece in _pieces(seed)):
            found.setdefault(seed.kind, []).append(seed.value)
    return found


def pipeline_outputs(result) -> List[str]:
    """Everything a build writes, as text: KB entries (titles, answers, variants) and the generated files."""
    texts = list(result.files.values())
    for entry in result.entries:
        texts += [entry.title, entry.title_parent, entry.answer_eleve, entry.answer_parent]
        texts += [variant.text for variant in entry.variants]
    return texts


def recall_lines(seeds: Sequence[Seed], found: Dict[str, List[str]]) -> List[str]:
    totals: Dict[str, int] = {}
    for seed in seeds:
        totals[seed.kind] = totals.get(seed.kind, 0) + 1
    lines = [f"{'kind':<12} {'seeded':>6} {'leaked':>6} {'recall':>6}"]
    for kind in sorted(totals):
        leaked = len(found.get(kind, ()))
        lines.append(f"{kind:<12} {totals[kind]:>6} {leaked:>6} {1 - leaked / totals[kind]:>6.3f}")
    return lines


def main() -> int:
    from knowledge.anonymise import spacy_ner
    from knowledge.load import transcript_files
    from knowledge.pipeline import build_knowledge
    from orientbot.settings import load_settings

    settings = load_settings()
    conversations, seeds = seeded_conversations()
    result = build_knowledge(transcript_files(Path(settings.transcripts_dir)), ner=spacy_ner(settings.spacy_model),
                             extra=conversations)
    found = leaks(seeds, pipeline_outputs(result))
    for line in recall_lines(seeds, found):
        print(f"[seeded] {line}")
    for kind, values in sorted(found.items()):
        print(f"[seeded] fuite ({kind}) : {len(values)} valeur(s)")  # the values are synthetic, but not printed
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

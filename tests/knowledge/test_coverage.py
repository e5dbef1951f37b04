"""The topics coverage report: parsing topics.md, matching entries, the table and the picture."""
from pathlib import Path

from knowledge.coverage import (
    Topic,
    coverage_of,
    draw,
    main,
    measure,
    parse_topics,
    table,
)
from orientbot.kb import InMemoryKnowledgeBase, KnowledgeEntry, Variant

TOPICS = """# Topics

Intro text that is not a topic.

## Au lycée

### internat
- La demande d'internat se fait auprès du lycée d'affectation ; les boursiers internes reçoivent une prime à l'internat.
  Sources: https://example.org/internat

### cned
- Le CNED propose des cours à distance aux élèves empêchés de venir en classe.

## Distress and danger

### urgence-harcelement
- Le 3018 est le numéro national contre le harcèlement, gratuit, 7j/7 de 9h à 23h.

## Out of scope

Weather, homework: a kind answer.
"""


def entry(kb_id, title, answer, *questions):
    return KnowledgeEntry(id=kb_id, title=title, answer_eleve=answer, answer_parent=answer,
                          variants=tuple(Variant(q, f"conv-{kb_id}-{i}") for i, q in enumerate(questions)))


ENTRIES = InMemoryKnowledgeBase([
    entry("internat-place", "Comment demander une place à l'internat ?",
          "La demande d'internat se fait auprès du lycée d'affectation, selon les places ; les boursiers internes "
          "reçoivent une prime à l'internat.", "cmt on a une place a l'internat ?", "internat c payant ?"),
    entry("bourse-crous", "Comment demander une bourse du Crous ?",
          "La bourse sur critères sociaux se demande par le dossier social étudiant avant le 31 mai.",
          "la bourse crous c quand ?"),
]).entries()


def test_parse_topics_reads_sections_slugs_and_bullets_without_sources():
    topics = parse_topics(TOPICS)
    assert [t.slug for t in topics] == ["internat", "cned", "urgence-harcelement"]
    assert topics[0].section == "Au lycée"
    assert topics[0].facts == ("La demande d'internat se fait auprès du lycée d'affectation ; les boursiers internes "
                               "reçoivent une prime à l'internat.",)
    assert all("Sources" not in fact for t in topics for fact in t.facts)
    assert topics[2].safety and not topics[0].safety


def test_measure_finds_the_covering_entry_and_the_missing_topic():
    coverage = measure(parse_topics(TOPICS), ENTRIES)
    by_slug = {t.topic.slug: t for t in coverage.topics}
    assert [kb_id for kb_id, _ in by_slug["internat"].entries] == ["internat-place"]
    assert by_slug["cned"].entries == () and by_slug["cned"].missing
    # distress topics are the safety gate's: not counted as missing
    assert not by_slug["urgence-harcelement"].missing
    assert [t.topic.slug for t in coverage.missing] == ["cned"]


def test_threshold_decides_what_counts_as_covering():
    topics = parse_topics(TOPICS)
    assert measure(topics, ENTRIES, threshold=0.99).topics[0].entries == ()
    assert measure(topics, ENTRIES, threshold=0.0).topics[0].entries[0][0] == "internat-place"


def test_no_entries_means_every_topic_is_missing():
    coverage = measure(parse_topics(TOPICS), [])
    assert [t.topic.slug for t in coverage.missing] == ["internat", "cned"]


def test_table_flags_missing_topics_and_counts(tmp_path):
    path = tmp_path / "topics.md"
    path.write_text(TOPICS, encoding="utf-8")
    lines = table(coverage_of(path, ENTRIES, extra=()))
    assert "## Au lycée" in lines
    assert any(line.startswith("!! cned") and "MISSING" in line for line in lines)
    assert any(line.startswith("   internat") and "internat-place" in line for line in lines)
    assert lines[-1].startswith("covered: 1/2 topics; missing: 1 (cned)")


def test_missing_topics_file_is_reported_not_raised(tmp_path):
    extra = [Topic("internat-extra", "Hors liste", ("Une place à l'internat se demande au lycée d'affectation.",))]
    coverage = coverage_of(tmp_path / "absent.md", ENTRIES, extra=extra)
    assert coverage.missing_file
    assert table(coverage)[0].startswith("topics file not found")
    assert [t.topic.slug for t in coverage.topics] == ["internat-extra"]


def test_draw_writes_a_png(tmp_path):
    picture = draw(measure(parse_topics(TOPICS), ENTRIES), tmp_path / "docs" / "kb-topics.png")
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_main_prints_the_table_and_draws(tmp_path, monkeypatch, capsys):
    import knowledge.coverage as coverage_module

    monkeypatch.setattr(coverage_module, "_entries_from_transcripts", lambda: list(ENTRIES))
    path = tmp_path / "topics.md"
    path.write_text(TOPICS, encoding="utf-8")
    picture = tmp_path / "kb-topics.png"
    assert main(["--topics", str(path), "--picture", str(picture)]) == 0
    out = capsys.readouterr().out
    assert "internat-place" in out and "picture:" in out
    assert picture.exists()


def test_main_without_topics_file_exits_zero(tmp_path, monkeypatch, capsys):
    import knowledge.coverage as coverage_module

    monkeypatch.setattr(coverage_module, "_entries_from_transcripts", lambda: list(ENTRIES))
    assert main(["--topics", str(tmp_path / "none.md"), "--picture", str(tmp_path / "p.png")]) == 0
    assert "topics file not found" in capsys.readouterr().out


def test_default_path_is_next_to_the_project():
    from knowledge.coverage import DEFAULT_TOPICS_PATH
    from orientbot.settings import PROJECT_ROOT

    assert DEFAULT_TOPICS_PATH == PROJECT_ROOT.parent / "shared" / "eval" / "topics.md"
    assert isinstance(DEFAULT_TOPICS_PATH, Path)

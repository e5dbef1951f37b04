"""Where what is drawn from the transcripts goes: git for the sample, var/ for a school's own."""
import subprocess
from dataclasses import replace

import pytest

from knowledge import corpus
from orientbot.settings import Settings

LINE = '{"conversation_id": "c1", "messages": []}\n'


@pytest.fixture
def project(tmp_path):
    """A git work tree whose transcripts/ holds one tracked file: the sample."""
    (tmp_path / "transcripts").mkdir()
    (tmp_path / "transcripts" / "sample.jsonl").write_text(LINE, encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "transcripts"], check=True)
    return tmp_path


def settings_for(root):
    return replace(Settings(), transcripts_dir=root / "transcripts")


def test_the_sample_keeps_its_generated_data_where_git_has_it(project):
    settings = settings_for(project)
    assert corpus.for_the_corpus(settings, project) == settings


def test_a_schools_export_sends_the_generated_data_and_curve_out_of_git(project):
    (project / "transcripts" / "imports").mkdir()
    (project / "transcripts" / "imports" / "export-lycee.csv").write_text("conversation_id,text\n", encoding="utf-8")
    moved = corpus.for_the_corpus(settings_for(project), project)
    assert corpus.untracked(sorted((project / "transcripts").rglob("*.csv")), project)
    assert moved.generated_dir == corpus.SCHOOL_GENERATED_DIR and moved.curve_picture == corpus.SCHOOL_CURVE_PICTURE
    assert moved.nlu_report == corpus.SCHOOL_NLU_REPORT
    assert all("var" in path.parts for path in (moved.generated_dir, moved.curve_picture, moved.nlu_report))


def test_a_directory_set_in_the_settings_is_kept(project, tmp_path_factory):
    (project / "transcripts" / "school.jsonl").write_text(LINE, encoding="utf-8")
    chosen = tmp_path_factory.mktemp("elsewhere")
    settings = replace(settings_for(project), generated_dir=chosen)
    assert corpus.for_the_corpus(settings, project).generated_dir == chosen


def test_outside_a_git_work_tree_nothing_can_be_committed(tmp_path):
    (tmp_path / "transcripts").mkdir()
    (tmp_path / "transcripts" / "school.jsonl").write_text(LINE, encoding="utf-8")
    settings = settings_for(tmp_path)
    assert corpus.untracked([tmp_path / "transcripts" / "school.jsonl"], tmp_path) == []
    assert corpus.for_the_corpus(settings, tmp_path) == settings

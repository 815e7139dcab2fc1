"""nbgrader's configuration from course.toml, through today's nbgrader_config.py and an older course's."""

import pytest
from traitlets.config import Config

from autograder.core import modules
from autograder.grading import nbconfig

OLD_CONFIG_TEXT = nbconfig.CONFIG_TEXT.replace("autograder.grading.nbconfig", "autograder.nbconfig")


@pytest.mark.parametrize("text", [nbconfig.CONFIG_TEXT, OLD_CONFIG_TEXT], ids=["today", "older course"])
def test_config_file_sets_nbgrader_from_course_toml(kit, monkeypatch, text):
    """Does nbgrader_config.py, as written today or by an older kit, configure nbgrader from course.toml?"""
    monkeypatch.chdir(kit.root)
    c = Config()
    exec(compile(text, "nbgrader_config.py", "exec"), {"get_config": lambda: c})
    assert c.CourseDirectory.course_id == kit.course.id and c.CourseDirectory.root == str(kit.root)
    assert c.GenerateFeedback.preprocessors[1] == modules.FEEDBACK_PREPROCESSOR
    assert c.AssignLatePenalties.plugin_class == modules.LATE_PENALTY
    assert c.Execute.timeout == kit.grading.cell_timeout


def test_config_file_stops_nbgrader_on_a_bad_course_toml(kit, tmp_path, monkeypatch):
    """Does a broken course.toml stop nbgrader with the file's name instead of running on defaults?"""
    (tmp_path / "course.toml").write_text((kit.root / "course.toml").read_text().replace("[grading]", "[gradin]"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match="nbgrader_config.py: .*gradin"):
        exec(compile(nbconfig.CONFIG_TEXT, "nbgrader_config.py", "exec"), {"get_config": Config})


def test_grading_kernels_are_killed_once_the_notebook_ran():
    """Does the kit's Execute kill the kernel when the notebook has run (no graceful shutdown to wait 5 s for),
    unless the configuration says otherwise?"""
    from autograder.grading.execute import WatchedExecute

    assert WatchedExecute().shutdown_kernel == "immediate"
    configured = Config()
    configured.WatchedExecute.shutdown_kernel = "graceful"
    assert WatchedExecute(config=configured).shutdown_kernel == "graceful"

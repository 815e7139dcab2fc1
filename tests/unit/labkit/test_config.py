"""course.toml: the kit's own file loads, and every kind of mistake names its key."""

from pathlib import Path

import pytest

import labkit
from labkit import config

GOOD = """
[course]
id = "c"
[colab]
repository = "o/r"
[labs.lab1]
title = "Lab 1"
points = 150
"""
SHA = "0123456789abcdef" * 4
HOSTED = f"""
[files."resnet50-cpu.ckpt"]
url = "https://example.org/course/resnet50-cpu.ckpt"
sha256 = "{SHA}"
"""


def test_the_kits_course_toml_loads(kit):
    """Does the committed course.toml validate, with lab 1 worth its tests' points?"""
    assert kit.lab("lab1").points == 170
    limits = kit.limits("lab1")
    assert limits["cell_timeout"] > 0 and limits["notebook_timeout"] >= limits["cell_timeout"]


@pytest.mark.parametrize("text, message", [
    (GOOD.replace("points = 150", "pionts = 150"), "unknown key labs.lab1.pionts (did you mean 'points'?)"),
    (GOOD.replace("points = 150", 'points = "many"'), "labs.lab1.points must be float"),
    (GOOD.replace("points = 150", "points = -3"), "labs.lab1.points must be positive"),
    (GOOD + "\n[grading]\ncell_timeout = true\n", "grading.cell_timeout must be int"),
    (GOOD + "\n[gradin]\ncell_timeout = 3\n", "unknown table [gradin] (did you mean 'grading'?)"),
    (GOOD.replace('[colab]\nrepository = "o/r"', ""), "missing table [colab]"),
    (GOOD.replace('title = "Lab 1"', ""), "missing key labs.lab1.title"),
    (GOOD.replace("[course]", "[course"), "is not valid TOML"),
    (GOOD + HOSTED.replace("https://", "ftp://"), 'files."resnet50-cpu.ckpt".url must be the http:// or https:// URL'),
    (GOOD + HOSTED.replace("https://example.org", "https://"), 'files."resnet50-cpu.ckpt".url must be the http://'),
    (GOOD + HOSTED.replace("example.org/", "example.org:http/"), 'files."resnet50-cpu.ckpt".url must be the http://'),
    (GOOD + HOSTED.replace(SHA, SHA[:-1]), "files.\"resnet50-cpu.ckpt\".sha256 must be the file's SHA-256 as 64 hex"),
    (GOOD + HOSTED.replace(SHA, "z" * 64), "files.\"resnet50-cpu.ckpt\".sha256 must be the file's SHA-256 as 64 hex"),
    (GOOD + HOSTED.replace("sha256 =", "sha265 ="),
     "unknown key files.\"resnet50-cpu.ckpt\".sha265 (did you mean 'sha256'?)"),
    (GOOD + HOSTED.replace("sha256 =", "# sha256 ="), 'missing key files."resnet50-cpu.ckpt".sha256'),
    (GOOD + HOSTED.replace("resnet50-cpu.ckpt", "../resnet50-cpu.ckpt", 1), "must be a file name without folders"),
    (GOOD + HOSTED.replace("resnet50-cpu.ckpt", "", 1), 'files."": the key must be a file name without folders'),
    (GOOD + '[files]\nweights = "https://example.org/w.pth"\n', "files.weights must be a table with url and sha256"),
    (GOOD + "\n[cluster]\npartiton = \"gpu\"\n", "unknown key cluster.partiton (did you mean 'partition'?)"),
    (GOOD + "\n[cluster]\ngpus = -1\n", "cluster.gpus must be a whole number from 0 up"),
    (GOOD + "\n[cluster]\nminutes = 0\n", "cluster.minutes must be positive"),
    (GOOD + '\n[cluster]\nshared = ["scratch"]\n', "cluster.shared must be a list of absolute folders"),
    (GOOD + '\n[cluster]\nsbatch = { qos = 3 }\n', "cluster.sbatch must be a table of strings"),
])
def test_a_wrong_key_or_value_is_named(tmp_path, text, message):
    """Does each typo in course.toml fail with the key's name and the file's path?"""
    (tmp_path / "course.toml").write_text(text)
    with pytest.raises(config.ConfigError) as error:
        config.load(tmp_path)
    assert message in str(error.value)
    assert str(tmp_path / "course.toml") in str(error.value)


def test_an_unknown_lab_lists_the_known_ones(tmp_path):
    """Does asking for a lab that is not configured say which labs exist?"""
    (tmp_path / "course.toml").write_text(GOOD)
    with pytest.raises(config.ConfigError, match=r"no lab 'lab2'.*labs are lab1"):
        config.load(tmp_path).lab("lab2")


def test_environment_overrides_data_root(tmp_path, monkeypatch):
    """Do LABKIT_DATA and relative roots resolve as documented?"""
    (tmp_path / "course.toml").write_text(GOOD)
    assert config.load(tmp_path).data_root == tmp_path / "data"
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path / "elsewhere"))
    assert config.load(tmp_path).data_root == tmp_path / "elsewhere"


def test_hosted_files_load_in_either_form(tmp_path):
    """Do [files."<name>"] tables and the inline form give the same entry, its sha256 in lower case?"""
    url = "https://example.org/course/resnet50-cpu.ckpt"
    inline = f'[files]\n"resnet50-cpu.ckpt" = {{ url = "{url}", sha256 = "{SHA.upper()}" }}\n'
    for text in (GOOD + HOSTED, GOOD + inline):
        (tmp_path / "course.toml").write_text(text)
        assert config.load(tmp_path).files == {"resnet50-cpu.ckpt": config.HostedFile(url, SHA)}
    (tmp_path / "course.toml").write_text(GOOD)
    assert config.load(tmp_path).files == {}


def test_the_kits_course_toml_hosts_no_file_yet(kit):
    """Does the committed course.toml have its (empty, commented) [files] table, which parses?"""
    assert kit.files == {} and "\n[files]\n" in (kit.root / "course.toml").read_text()


@pytest.fixture
def colab(tmp_path, monkeypatch):
    """A notebook folder with no course.toml above it (as on Colab); labkit's packaged copy at a temporary path."""
    monkeypatch.delenv("COURSE_ROOT", raising=False)
    monkeypatch.delenv("LABKIT_DATA", raising=False)
    packaged = tmp_path / "site-packages" / "labkit" / "course.toml"
    packaged.parent.mkdir(parents=True)
    monkeypatch.setattr(config, "packaged", lambda: packaged)
    (tmp_path / "content").mkdir()
    monkeypatch.chdir(tmp_path / "content")
    assert config.find_root() is None
    return packaged


def test_the_packaged_course_toml_stands_in_when_none_is_found(colab, tmp_path):
    """Without a course.toml upwards, is labkit's packaged copy read, its paths taken from the current folder?"""
    colab.write_text(GOOD + HOSTED)
    course = config.load_or_packaged()
    assert course.files["resnet50-cpu.ckpt"].sha256 == SHA
    assert course.root == tmp_path / "content" and course.data_root == tmp_path / "content" / "data"


def test_a_course_toml_upwards_wins_over_the_packaged_one(colab, tmp_path):
    """Is the course folder's own course.toml read, not the packaged copy, when there is one?"""
    colab.write_text(GOOD + HOSTED)
    (tmp_path / "content" / "course.toml").write_text(GOOD)
    course = config.load_or_packaged()
    assert course.root == tmp_path / "content" and course.files == {}


def test_without_any_course_toml_there_is_no_course(colab):
    """With no course.toml upwards and none packaged, is there no course (setup_lab's defaults)?"""
    assert config.load_or_packaged() is None


def test_a_wrong_packaged_course_toml_names_itself(colab):
    """Does a mistake in the packaged copy fail with the key and the packaged file's path?"""
    colab.write_text(GOOD + HOSTED.replace(SHA, "abc"))
    with pytest.raises(config.ConfigError, match=r'course.toml \(the course.toml packaged with labkit\): '
                                                 r'files\."resnet50-cpu\.ckpt"\.sha256 must be'):
        config.load_or_packaged()


def test_the_packaged_copy_is_looked_for_inside_labkit():
    """Is the packaged course.toml the file labkit/course.toml of the installed package?"""
    assert Path(str(config.packaged())) == Path(labkit.__file__).parent / "course.toml"

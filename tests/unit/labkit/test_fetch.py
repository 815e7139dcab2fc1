"""Hosted files ([files] in course.toml): fetched by hash from a real local HTTP server, with one-line failures."""

import hashlib
import http.server
import io
import json
import socket
import threading
import zipfile

import pytest
import torch

from labkit import config, fetch, fixtures, fundus
from labkit.setup import Lab, setup_lab

CHECKPOINT = b"a state dict standing in for resnet50-cpu.ckpt" * 100
RECORD = b'{"test_accuracy": 86.1, "epochs": 30}'


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Server:
    """127.0.0.1 on a free port: serves `routes` (URL path -> bytes), 404 for the rest, and counts requests."""

    def __init__(self):
        self.routes, self.requests = {}, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                body = server.routes.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.http.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http.server_port}{path}"

    def close(self):
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def server():
    running = Server()
    yield running
    running.close()


@pytest.fixture
def closed_port():
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def hosted(url: str, data: bytes = CHECKPOINT) -> config.HostedFile:
    return config.HostedFile(url=url, sha256=sha256(data))


def test_a_listed_file_is_downloaded_checked_and_kept(server, tmp_path, monkeypatch):
    """Is a listed file downloaded into the folder under its name, and read from disk the second time?"""
    monkeypatch.setenv("LABKIT_PROGRESS", "1")  # the progress bar's path too
    server.routes["/course/resnet50.bin"] = CHECKPOINT
    files = {"resnet50-cpu.ckpt": hosted(server.url("/course/resnet50.bin"))}
    path = fetch.fetch("resnet50-cpu.ckpt", tmp_path / "checkpoints", files)
    assert path == tmp_path / "checkpoints" / "resnet50-cpu.ckpt"
    assert path.read_bytes() == CHECKPOINT
    assert server.requests == ["/course/resnet50.bin"]
    assert fetch.fetch("resnet50-cpu.ckpt", tmp_path / "checkpoints", files) == path
    assert server.requests == ["/course/resnet50.bin"], "the second call must not download again"
    assert sorted(p.name for p in path.parent.iterdir()) == ["resnet50-cpu.ckpt"]


def test_a_file_on_disk_is_used_without_the_network(closed_port, tmp_path):
    """Is a file already on disk (put there by hand) returned as it is, without trying its URL?"""
    (tmp_path / "resnet50-cpu.ckpt").write_bytes(b"placed by hand")
    files = {"resnet50-cpu.ckpt": hosted(f"http://127.0.0.1:{closed_port}/resnet50.bin")}
    path = fetch.fetch("resnet50-cpu.ckpt", tmp_path, files)
    assert path.read_bytes() == b"placed by hand"


def test_a_download_that_differs_is_discarded(server, tmp_path):
    """Does a hosted file whose SHA-256 is not course.toml's fail clearly, leaving nothing behind?"""
    server.routes["/resnet50.bin"] = b"some other bytes" * 100
    files = {"resnet50-cpu.ckpt": hosted(server.url("/resnet50.bin"))}
    with pytest.raises(fetch.FetchFailed) as failed:
        fetch.fetch("resnet50-cpu.ckpt", tmp_path, files)
    message = str(failed.value)
    assert "differs from the one course.toml expects" in message and server.url("/resnet50.bin") in message
    assert '[files."resnet50-cpu.ckpt"]' in message and "Tell your instructor" in message
    assert server.requests == ["/resnet50.bin"]
    assert list(tmp_path.iterdir()) == [], "neither the file nor pooch's temporary download may stay"


def test_an_http_error_names_the_url_and_the_place_by_hand(server, tmp_path):
    """Does a 404 say which URL answered it and where the file can be put by hand?"""
    url = server.url("/gone/resnet50.bin")
    with pytest.raises(fetch.FetchFailed) as failed:
        fetch.fetch("resnet50-cpu.ckpt", tmp_path, {"resnet50-cpu.ckpt": hosted(url)})
    message = str(failed.value)
    assert f"{url} answered HTTP 404" in message
    assert f"put the file at {tmp_path / 'resnet50-cpu.ckpt'} by hand" in message
    assert server.requests == ["/gone/resnet50.bin"] and list(tmp_path.iterdir()) == []


def test_an_unreachable_server_names_the_url(closed_port, tmp_path):
    """Does a closed port fail with the URL and the place to put the file, not a requests traceback?"""
    url = f"http://127.0.0.1:{closed_port}/resnet50.bin"
    with pytest.raises(fetch.FetchFailed) as failed:
        fetch.fetch("resnet50-cpu.ckpt", tmp_path, {"resnet50-cpu.ckpt": hosted(url)})
    message = str(failed.value)
    assert f"{url} could not be reached" in message and "refused" in message.lower()
    assert f"put the file at {tmp_path / 'resnet50-cpu.ckpt'} by hand" in message
    assert failed.value.__cause__ is None and failed.value.__suppress_context__
    assert list(tmp_path.iterdir()) == []


def test_a_name_not_listed_says_which_key_to_add(server, tmp_path):
    """Does asking for a file [files] does not list name the table to add, without any request?"""
    files = {"vgg16-cpu.ckpt": hosted(server.url("/vgg16.bin"))}
    with pytest.raises(fetch.FetchFailed) as failed:
        fetch.fetch("resnet50-cpu.ckpt", tmp_path, files)
    message = str(failed.value)
    assert 'add [files."resnet50-cpu.ckpt"] with its url and sha256' in message and "listed: vgg16-cpu.ckpt" in message
    assert server.requests == []


def test_a_folder_that_cannot_be_written_is_named(server, tmp_path):
    """Does a checkpoint folder that cannot be created fail with the folder's name, before any request?"""
    (tmp_path / "checkpoints").write_text("a file where the folder should be")
    files = {"resnet50-cpu.ckpt": hosted(server.url("/resnet50.bin"))}
    with pytest.raises(fetch.FetchFailed, match=r"could not be saved in .*checkpoints.*LABKIT_CHECKPOINTS"):
        fetch.fetch("resnet50-cpu.ckpt", tmp_path / "checkpoints", files)
    assert server.requests == []


def test_a_failure_shows_as_one_line_in_jupyter(tmp_path):
    """Does IPython (which calls _render_traceback_) show the failure as one line, without a traceback?"""
    with pytest.raises(fetch.FetchFailed) as failed:
        fetch.fetch("resnet50-cpu.ckpt", tmp_path, {})
    lines = failed.value._render_traceback_()
    assert lines == [f"FetchFailed: {failed.value}"] and "\n" not in lines[0]
    assert isinstance(failed.value, FileNotFoundError)  # caught where notebooks catch a missing file


def make_lab(tmp_path, files, grading=False, download=True) -> Lab:
    return Lab(lab_id="lab1", seed=0, device=torch.device("cpu"), data_root=tmp_path / "data",
               checkpoint_root=tmp_path / "checkpoints", checkpoints={"resnet50": "resnet50-cpu.ckpt"}, weights={},
               download=download, on_colab=True, grading=grading, epochs=None, files=files)


def test_lab_checkpoint_fetches_a_listed_checkpoint_and_its_record(server, tmp_path):
    """Does Lab.checkpoint download a missing checkpoint that [files] lists, and the JSON record beside it?"""
    server.routes.update({"/resnet50.bin": CHECKPOINT, "/resnet50.json": RECORD})
    files = {"resnet50-cpu.ckpt": hosted(server.url("/resnet50.bin")),
             "resnet50-cpu.json": hosted(server.url("/resnet50.json"), RECORD)}
    lab = make_lab(tmp_path, files)
    path = lab.checkpoint("resnet50")
    assert path == tmp_path / "checkpoints" / "resnet50-cpu.ckpt" and path.read_bytes() == CHECKPOINT
    assert path.with_suffix(".json").read_bytes() == RECORD
    assert lab.checkpoint("resnet50") == path and server.requests == ["/resnet50.bin", "/resnet50.json"]


def test_the_checkpoint_record_alone_is_fetched_for_the_table(server, tmp_path):
    """Does Lab.checkpoint_record download the JSON record without the checkpoint (lab 1's table, when the notebook
    trains from scratch), and give None for a checkpoint course.toml does not name?"""
    server.routes.update({"/resnet50.bin": CHECKPOINT, "/resnet50.json": RECORD})
    files = {"resnet50-cpu.ckpt": hosted(server.url("/resnet50.bin")),
             "resnet50-cpu.json": hosted(server.url("/resnet50.json"), RECORD)}
    lab = make_lab(tmp_path, files)
    assert lab.checkpoint_record("resnet50") == json.loads(RECORD) and lab.checkpoint_record("vgg16") is None
    assert server.requests == ["/resnet50.json"] and not (tmp_path / "checkpoints" / "resnet50-cpu.ckpt").exists()


@pytest.mark.parametrize("grading, download", [(True, True), (False, False)])
def test_lab_checkpoint_does_not_fetch_while_grading_or_offline(server, tmp_path, grading, download):
    """While grading, or with [data] download = false, is the path returned without any request?"""
    server.routes["/resnet50.bin"] = CHECKPOINT
    lab = make_lab(tmp_path, {"resnet50-cpu.ckpt": hosted(server.url("/resnet50.bin"))}, grading, download)
    assert lab.checkpoint("resnet50") == tmp_path / "checkpoints" / "resnet50-cpu.ckpt"
    assert server.requests == [] and not (tmp_path / "checkpoints" / "resnet50-cpu.ckpt").exists()


def test_lab_checkpoint_prints_a_failure_once_and_returns_the_path(server, tmp_path, capsys):
    """Does a failed download print one line (not raise), and is it not retried by the same Lab?"""
    lab = make_lab(tmp_path, {"resnet50-cpu.ckpt": hosted(server.url("/missing.bin"))})
    path = lab.checkpoint("resnet50")
    assert path == tmp_path / "checkpoints" / "resnet50-cpu.ckpt" and not path.exists()
    printed = capsys.readouterr().out
    assert f"{server.url('/missing.bin')} answered HTTP 404" in printed and "Traceback" not in printed
    assert lab.checkpoint("resnet50") == path
    assert server.requests == ["/missing.bin"] and capsys.readouterr().out == ""


def test_lab_checkpoint_keeps_todays_messages_without_files(tmp_path):
    """Without [files], is a listed checkpoint's path returned and an unlisted one still a KeyError?"""
    lab = make_lab(tmp_path, {})
    assert lab.checkpoint("resnet50") == tmp_path / "checkpoints" / "resnet50-cpu.ckpt"
    with pytest.raises(KeyError, match=r"lists no checkpoint 'vgg16' for lab1.*\[labs.lab1\] checkpoints"):
        lab.checkpoint("vgg16")


def test_setup_lab_reads_files_from_the_packaged_course_toml(server, tmp_path, monkeypatch):
    """On Colab (no course.toml upwards), does setup_lab take [files] from labkit's packaged course.toml?"""
    server.routes["/resnet50.bin"] = CHECKPOINT
    packaged = tmp_path / "site-packages" / "labkit" / "course.toml"
    packaged.parent.mkdir(parents=True)
    packaged.write_text(f'[course]\nid = "c"\n[colab]\nrepository = "o/r"\n'
                        f'[labs.lab1]\ntitle = "Lab 1"\npoints = 1\n'
                        f'checkpoints = {{ resnet50 = "resnet50-cpu.ckpt" }}\n'
                        f'[files."resnet50-cpu.ckpt"]\nurl = "{server.url("/resnet50.bin")}"\n'
                        f'sha256 = "{sha256(CHECKPOINT)}"\n')
    monkeypatch.setattr(config, "packaged", lambda: packaged)
    for name in ("COURSE_ROOT", "LABKIT_CHECKPOINTS", "LABKIT_DATA", *("NBGRADER_EXECUTION", "LABKIT_GRADING")):
        monkeypatch.delenv(name, raising=False)
    content = tmp_path / "content"
    content.mkdir()
    monkeypatch.chdir(content)
    lab = setup_lab("lab1", device="cpu")
    assert lab.checkpoint_root == content / "checkpoints"
    assert lab.checkpoint("resnet50").read_bytes() == CHECKPOINT


# ---------------------------------------------------------------------------------------------
# Data samples: a zip whose top level holds fundus/, unpacked into the data root

SAMPLE = "fundus-sample.zip"


def sample_zip(tmp_path, top: str = "fundus", extra: dict[str, bytes] | None = None) -> bytes:
    """The zip an instructor hosts: fixtures.write_fundus's folder, its members under `top` ("" for its contents)."""
    source = fixtures.write_fundus(tmp_path / "source", n_train=6, n_test=4, size=16)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:  # stored, not deflated: a flipped byte is a CRC error
        for path in sorted(source.rglob("*")):
            archive.write(path, "/".join(filter(None, (top, path.relative_to(source).as_posix()))))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def left_in(folder) -> list[str]:
    """Every path under `folder` (none when it does not exist), relative to it."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def test_a_data_sample_is_unpacked_where_fundus_reads_it(server, tmp_path, capsys):
    """Does fetch_data unpack a listed zip into <data root>/fundus/, read by fundus.read_split, and keep no zip?"""
    data = sample_zip(tmp_path)
    server.routes["/samples/fundus.zip"] = data
    lab = make_lab(tmp_path, {SAMPLE: hosted(server.url("/samples/fundus.zip"), data)})
    assert lab.fetch_data(SAMPLE) is True
    folder = fundus.data_folder(lab.data_root)
    assert folder == tmp_path / "data" / "fundus" and (folder / "images").is_dir() and (folder / "train.csv").is_file()
    source = tmp_path / "source" / "fundus"
    for split in ("train", "test"):
        assert fundus.read_split(folder, split) == fundus.read_split(source, split) != []
    assert left_in(folder) == left_in(source)
    assert [p.name for p in lab.data_root.iterdir()] == ["fundus"], "neither the zip nor a scratch folder may stay"
    assert f"Unpacked {SAMPLE} into {folder}" in capsys.readouterr().out
    assert server.requests == ["/samples/fundus.zip"]


def test_a_data_sample_already_there_is_not_downloaded_again(server, tmp_path):
    """Does a second call, and a new Lab's call, find the unpacked folder without any request?"""
    data = sample_zip(tmp_path)
    server.routes["/fundus.zip"] = data
    files = {SAMPLE: hosted(server.url("/fundus.zip"), data)}
    assert make_lab(tmp_path, files).fetch_data(SAMPLE) is True
    (tmp_path / "data" / "fundus" / "test.csv").write_text("image,level\n", encoding="utf-8")  # a change it must keep
    lab = make_lab(tmp_path, files)
    assert lab.fetch_data(SAMPLE) is True and lab.fetch_data(SAMPLE) is True
    assert server.requests == ["/fundus.zip"]
    assert (tmp_path / "data" / "fundus" / "test.csv").read_text(encoding="utf-8") == "image,level\n"


def test_a_data_sample_with_a_wrong_hash_leaves_nothing(server, tmp_path, capsys):
    """Does a zip whose SHA-256 is not course.toml's print one line, unpack nothing, and not retry?"""
    server.routes["/fundus.zip"] = sample_zip(tmp_path)
    lab = make_lab(tmp_path, {SAMPLE: hosted(server.url("/fundus.zip"), b"the zip the instructor meant")})
    assert lab.fetch_data(SAMPLE) is False
    printed = capsys.readouterr().out
    assert "differs from the one course.toml expects" in printed and "Traceback" not in printed
    assert len(printed.splitlines()) == 2 and printed.startswith("Downloading ")  # what it fetches, why it failed
    assert left_in(tmp_path / "data") == []
    assert lab.fetch_data(SAMPLE) is False and server.requests == ["/fundus.zip"] and capsys.readouterr().out == ""


@pytest.mark.parametrize("member", ["../evil", "fundus/../../evil", "/evil"])
def test_a_data_sample_escaping_the_data_root_is_refused(server, tmp_path, capsys, member):
    """Is a zip with a member outside the data root (.., an absolute path) refused whole, writing nothing anywhere?"""
    data = sample_zip(tmp_path, extra={member: b"written where it must not be"})
    server.routes["/fundus.zip"] = data
    lab = make_lab(tmp_path, {SAMPLE: hosted(server.url("/fundus.zip"), data)})
    assert lab.fetch_data(SAMPLE) is False
    printed = capsys.readouterr().out
    assert f"was refused: its member {member!r} would be written outside {tmp_path / 'data'}" in printed
    assert "nothing was unpacked" in printed and "Tell your instructor" in printed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "source"], "nothing beside the data root"
    assert left_in(tmp_path / "data") == [], "not the good members, not the zip"


def test_a_data_sample_of_the_folders_contents_is_refused(server, tmp_path, capsys):
    """Is a zip of fundus/'s contents (train.csv at its top level) refused, saying how to zip the folder?"""
    data = sample_zip(tmp_path, top="")
    server.routes["/fundus.zip"] = data
    lab = make_lab(tmp_path, {SAMPLE: hosted(server.url("/fundus.zip"), data)})
    assert lab.fetch_data(SAMPLE) is False
    printed = capsys.readouterr().out
    assert "is not in the folder fundus/" in printed and f"`zip -r {SAMPLE} fundus`" in printed
    assert left_in(tmp_path / "data") == []


def test_a_damaged_data_sample_with_the_right_hash_says_so(server, tmp_path, capsys):
    """Does a hosted zip damaged before its sha256 was taken fail as damaged (not as a hash), unpacking nothing?"""
    data = bytearray(sample_zip(tmp_path))
    data[data.index(b"image,level") + 2] ^= 0xFF  # a byte of train.csv's stored data: a CRC error while unpacking
    server.routes["/fundus.zip"] = bytes(data)
    lab = make_lab(tmp_path, {SAMPLE: hosted(server.url("/fundus.zip"), bytes(data))})
    assert lab.fetch_data(SAMPLE) is False
    printed = capsys.readouterr().out
    assert f"{SAMPLE} (from {server.url('/fundus.zip')}) is not a readable zip archive" in printed
    assert "SHA-256 matches course.toml's, so the hosted file itself is damaged" in printed
    assert left_in(tmp_path / "data") == []


@pytest.mark.parametrize("grading, download", [(True, True), (False, False)])
def test_a_data_sample_is_not_fetched_while_grading_or_offline(server, tmp_path, grading, download):
    """While grading, or with [data] download = false, is nothing requested or written?"""
    data = sample_zip(tmp_path)
    server.routes["/fundus.zip"] = data
    lab = make_lab(tmp_path, {SAMPLE: hosted(server.url("/fundus.zip"), data)}, grading, download)
    assert lab.fetch_data(SAMPLE) is False
    assert server.requests == [] and not (tmp_path / "data").exists()


def test_a_fundus_folder_put_there_by_hand_is_used(closed_port, tmp_path):
    """Is a fundus/ folder already in the data root used as it is, without trying the URL (and unlisted: False)?"""
    lab = make_lab(tmp_path, {SAMPLE: hosted(f"http://127.0.0.1:{closed_port}/fundus.zip")})
    assert lab.fetch_data(SAMPLE) is False and lab.unfetched != {}
    fixtures.write_fundus(tmp_path / "data", n_train=4, n_test=4, size=8)
    assert make_lab(tmp_path, {}).fetch_data(SAMPLE) is True
    assert make_lab(tmp_path, {SAMPLE: hosted(f"http://127.0.0.1:{closed_port}/fundus.zip")}).fetch_data(SAMPLE)
    assert make_lab(tmp_path, {}).fetch_data("cifar-sample.zip") is False


def test_a_data_sample_name_must_be_a_folders_zip():
    """Is a name that is not <folder>[-<label>].zip a clear ValueError, and the folder read from the name?"""
    assert fetch.archive_folder(SAMPLE) == "fundus" and fetch.archive_folder("fundus.zip") == "fundus"
    for name in ("fundus", "fundus.tar.gz", "-sample.zip"):
        with pytest.raises(ValueError, match=r"must be <folder>.zip or <folder>-<label>.zip"):
            fetch.archive_folder(name)

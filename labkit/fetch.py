"""Files the instructor hosts (course.toml [files]), downloaded and hash-checked when a notebook needs one."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Mapping

from tqdm.auto import tqdm

from labkit import progress
from labkit.config import HostedFile, toml_key

TIMEOUT = 30  # s without an answer from the server before a download is given up


class FetchFailed(FileNotFoundError):
    """A file is not on disk and could not be downloaded; the message says why and what to do.

    In Jupyter (IPython, Colab) it shows as one line, without the traceback through pooch and requests."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


def fetch(name: str, target_dir: Path | str, files: Mapping[str, HostedFile]) -> Path:
    """target_dir/`name`: the file on disk when it is there (no network), else downloaded from `files[name]`'s URL
    and kept only when its SHA-256 matches. FetchFailed (one clear line) when it cannot be had."""
    target = Path(target_dir) / name
    if target.is_file():
        return target
    if name not in files:
        raise FetchFailed(f"{target} is missing and course.toml lists no file {name!r} to download: add "
                          f"[files.{toml_key(name)}] with its url and sha256 (listed: {', '.join(files) or 'none'}), "
                          f"or put the file at {target} by hand")
    hosted = files[name]
    print(f"Downloading {name} from {hosted.url} to {target.parent}")
    _download(hosted, target)
    return target


def archive_folder(name: str) -> str:
    """The folder the zip `name` unpacks to: its name up to the first "-" or ".zip" ("fundus-sample.zip": fundus)."""
    if not name.endswith(".zip") or not name[:-len(".zip")].split("-", 1)[0]:
        raise ValueError(f"{name!r} is not a data sample's name: it must be <folder>.zip or <folder>-<label>.zip "
                         f"(e.g. \"fundus-sample.zip\", unpacked to <data root>/fundus/)")
    return name[:-len(".zip")].split("-", 1)[0]


def fetch_archive(name: str, data_root: Path | str, files: Mapping[str, HostedFile]) -> Path:
    """data_root/<folder>: the folder when it is there (no network), else the zip `name` fetched like `fetch` (from
    `files[name]`'s URL, hash-checked) into data_root and unpacked there. FetchFailed (one line) when it cannot be had.

    Layout: `<folder>.zip` or `<folder>-<label>.zip` holds exactly one folder at its top level, <folder>/, and
    nothing else ("fundus-sample.zip": fundus/images/<name>.jpeg, fundus/train.csv, fundus/test.csv; made in the data
    root with `zip -r fundus-sample.zip fundus`). Every member is checked before anything is written: one outside
    <folder>/ (an absolute path, a "..", a file at the top level) refuses the whole zip. The folder appears whole or
    not at all. A zip this call downloaded is deleted afterwards; one put in data_root by hand is left there."""
    root = Path(data_root)
    folder = root / archive_folder(name)
    if folder.is_dir():
        return folder
    zip_path = root / name
    downloaded = not zip_path.is_file()
    fetch(name, root, files)
    try:
        _unpack(zip_path, folder, files[name] if downloaded else None)  # a zip put there by hand was never hash-checked
    finally:
        if downloaded:
            zip_path.unlink(missing_ok=True)
    return folder


def _unpack(zip_path: Path, folder: Path, hosted: HostedFile | None) -> None:
    """Unpack `zip_path` (members all under folder.name/) into a scratch folder beside `folder`, then move it there."""
    source = f"{zip_path.name} (from {hosted.url})" if hosted else str(zip_path)
    tell = "Tell your instructor: the hosted zip needs to be made again." if hosted else "Replace or remove it."
    scratch = None
    try:
        with zipfile.ZipFile(zip_path) as archive:
            members = _members(archive, folder, source, tell)
            scratch = Path(tempfile.mkdtemp(prefix=f".{zip_path.name}.", dir=folder.parent))
            for member in members:
                archive.extract(member, scratch)
        os.replace(scratch / folder.name, folder)
    except FetchFailed:  # a refused member (FetchFailed is an OSError too)
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
        same = " although its SHA-256 matches course.toml's, so the hosted file itself is damaged" if hosted else ""
        raise FetchFailed(f"{source} is not a readable zip archive ({error}){same}; nothing was unpacked. "
                          f"{tell}") from None
    except OSError as error:
        raise FetchFailed(f"{zip_path.name} could not be unpacked in {folder.parent} ({error.strerror or error}): "
                          f"choose a folder you can write to (LABKIT_DATA)") from None
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _members(archive: zipfile.ZipFile, folder: Path, source: str, tell: str) -> list[zipfile.ZipInfo]:
    """The members to unpack, all under folder.name/ (macOS's __MACOSX/ left out); FetchFailed for any other."""
    members = []
    for member in archive.infolist():
        name = member.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
            raise FetchFailed(f"{source} was refused: its member {name!r} would be written outside {folder.parent}; "
                              f"nothing was unpacked. {tell}")
        if parts and parts[0] == "__MACOSX":
            continue
        if parts[:1] != (folder.name,) or len(parts) == 1 and not member.is_dir():
            raise FetchFailed(f"{source} was refused: its member {name!r} is not in the folder {folder.name}/, the "
                              f"only thing its top level may hold (make it in the data root with `zip -r "
                              f"{Path(archive.filename).name} {folder.name}`); nothing was unpacked. {tell}")
        members.append(member)
    if not members:
        raise FetchFailed(f"{source} holds no folder {folder.name}/; nothing was unpacked. {tell}")
    return members


def _download(hosted: HostedFile, target: Path) -> None:
    """pooch's download into a temporary file beside `target`, moved there only when the hash matches."""
    import pooch  # imported here: every lab's set-up imports this module, few download anything
    import requests  # pooch's own HTTP client

    bar = tqdm(total=0, unit="B", unit_scale=True, desc=target.name, disable=not progress.interactive(), leave=True)
    by_hand = f"You can also put the file at {target} by hand."
    try:
        with _quiet_pooch():
            pooch.retrieve(hosted.url, known_hash=f"sha256:{hosted.sha256}", fname=target.name, path=target.parent,
                           downloader=pooch.HTTPDownloader(progressbar=bar, timeout=TIMEOUT))
    except requests.HTTPError as error:
        raise FetchFailed(f"{target.name}: {hosted.url} answered {_status(error)}. {by_hand}") from None
    except requests.RequestException as error:
        raise FetchFailed(f"{target.name}: {hosted.url} could not be reached ({type(error).__name__}: "
                          f"{_reason(error)}). Check the connection and try again. {by_hand}") from None
    except ValueError:  # pooch's hash check; the download is already deleted
        raise FetchFailed(f"{target.name}: the file at {hosted.url} differs from the one course.toml expects "
                          f"(its SHA-256 is not the sha256 {hosted.sha256[:12]}... of [files.{toml_key(target.name)}]),"
                          f" so the download was discarded. Tell your instructor: the hosted file or its sha256 in "
                          f"course.toml needs updating. {by_hand}") from None
    except OSError as error:
        raise FetchFailed(f"{target.name} could not be saved in {target.parent} ({error.strerror or error}): "
                          f"choose a folder you can write to (LABKIT_CHECKPOINTS / LABKIT_DATA)") from None
    finally:
        bar.close()


@contextmanager
def _quiet_pooch():
    """pooch logs 'Downloading data from ...' to stderr, which Jupyter shows in red; fetch prints its own line."""
    import pooch

    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _status(error) -> str:
    response = error.response
    if response is None:
        return "with an HTTP error"
    return f"HTTP {response.status_code}{' ' + response.reason if response.reason else ''}"


def _reason(error) -> str:
    """The innermost cause of a requests error ('Connection refused'), not urllib3's nested repr."""
    cause = error
    while cause.__context__ is not None and cause.__context__ is not cause:
        cause = cause.__context__
    text = str(getattr(cause, "strerror", None) or cause)
    return text if len(text) <= 200 else text[:200] + "..."

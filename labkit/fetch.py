"""Files the instructor hosts (course.toml [files]), downloaded and hash-checked when a notebook needs one."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
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

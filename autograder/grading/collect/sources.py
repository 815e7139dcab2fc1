"""The files of an LMS download: a .zip or the folder it was extracted to, read in place (never changed)."""

from __future__ import annotations

import contextlib
import io
import os
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from autograder.core.errors import CourseError

MAX_BYTES = 1 << 30  # a larger file is not read (a zip bomb, or not a submission)
NESTED = 3           # zips inside zips opened this deep (Blackboard's download holding a student's StudentID_Name.zip)
NOT_SUBMITTED = {"__MACOSX", ".ipynb_checkpoints", ".DS_Store", "Thumbs.db", "desktop.ini"}  # written by tools


class CollectError(CourseError, ValueError):
    """The download cannot be read or recognised, or a file given with it (--times, --worksheet) is wrong."""


@dataclass(frozen=True)
class Entry:
    """One file of the download. `path` is "/"-separated from the download's top; inside a student's zip it is
    "<the zip's path>/<member>"."""

    path: str
    size: int
    reader: Callable[[], bytes] = field(repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def read(self) -> bytes:
        return self.reader()


def written_by_tools(path: str) -> bool:
    """macOS resource forks, Jupyter checkpoints, Finder and Explorer files: never a student's own file."""
    return any(part in NOT_SUBMITTED or part.startswith("._") for part in path.split("/"))


def zip_entries(archive: zipfile.ZipFile, prefix: str = "") -> list[Entry]:
    """The files of `archive`, their paths under `prefix` (folders and tools' files left out)."""
    entries = []
    for info in archive.infolist():
        path = info.filename.replace("\\", "/").strip("/")
        if info.is_dir() or not path or written_by_tools(path):
            continue
        entries.append(Entry(f"{prefix}{path}", info.file_size, lambda info=info: archive.read(info)))
    return entries


def folder_entries(folder: Path) -> list[Entry]:
    """The files under `folder` (links to folders not followed), in name order."""
    entries = []
    for top, folders, files in os.walk(folder):
        folders.sort()
        for name in sorted(files):
            path = Path(top) / name
            relative = path.relative_to(folder).as_posix()
            if not written_by_tools(relative) and path.is_file():
                entries.append(Entry(relative, path.stat().st_size, path.read_bytes))
    return entries


@contextlib.contextmanager
def opened(source: Path) -> Iterator[list[Entry]]:
    """The files of `source` (a .zip or a folder) while the block runs; CollectError says what `source` should be."""
    if not source.exists():
        raise CollectError(f"{source} does not exist: give the .zip downloaded from Canvas, Moodle or Blackboard, "
                           f"or the folder it was extracted to")
    if source.is_dir():
        yield folder_entries(source)
        return
    if not zipfile.is_zipfile(source):
        if source.suffix.lower() == ".zip":
            raise CollectError(f"{source} is not a readable zip (corrupt, or cut off while downloading): download it "
                               f"from the LMS again, or extract it with another tool and give the folder")
        raise CollectError(f"{source} is neither a .zip nor a folder: give the .zip downloaded from Canvas, Moodle or "
                           f"Blackboard, or the folder it was extracted to")
    try:
        with zipfile.ZipFile(source) as archive:
            yield zip_entries(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as error:
        raise CollectError(f"{source} is a corrupt zip ({error}): download it from the LMS again") from None


def unzipped(entry: Entry, depth: int = 1) -> list[Entry]:
    """The files of a student's own zip `entry` (zips inside it opened up to NESTED deep); ValueError when it
    cannot be opened."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(entry.read()))
        members = zip_entries(archive, f"{entry.path}/")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as error:
        raise ValueError(f"a zip that cannot be opened ({error})") from None
    found = []
    for member in members:
        if is_zip(member) and depth < NESTED:
            with contextlib.suppress(ValueError):
                found += unzipped(member, depth + 1)
                continue
        found.append(member)
    return found


def is_zip(entry: Entry) -> bool:
    return entry.name.lower().endswith(".zip") and entry.size <= MAX_BYTES

"""course.toml: load it, validate every key and value, and expose it as dataclasses."""

from __future__ import annotations

import difflib
import os
import re
import tomllib
import types
import typing
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime, timezone
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from urllib.parse import urlsplit

CONFIG_NAME = "course.toml"
GRADEBOOK = "gradebook.db"
DB_SCHEMES = ("sqlite:", "postgresql:", "postgresql+psycopg2:", "mysql:", "mysql+pymysql:")


class ConfigError(ValueError):
    """course.toml is missing, unreadable, or has a wrong key or value."""


@dataclass(frozen=True)
class CourseInfo:
    id: str
    title: str = ""


NOT_SET = ""  # [colab] repository while the course has no public repository yet
REPOSITORY = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}")


def _repository(value, where: str) -> str:
    """GitHub's "owner/name", or NOT_SET."""
    if not isinstance(value, str) or value != NOT_SET and not REPOSITORY.fullmatch(value):
        raise ConfigError(f"{where} must be the GitHub repository students open the notebooks from, as "
                          f"\"owner/name\" (e.g. \"my-university/resnet-labs\"), or \"{NOT_SET}\" while there is none; "
                          f"got {value!r}")
    return value


@dataclass(frozen=True)
class Colab:
    repository: str = field(metadata={"check": _repository})
    branch: str = "main"

    @property
    def is_set(self) -> bool:
        return self.repository != NOT_SET


@dataclass(frozen=True)
class Roster:
    file: str = ""  # the class list (CSV), relative to the course folder; "" for none


@dataclass(frozen=True)
class Data:
    root: str = "data"
    checkpoints: str = "checkpoints"
    download: bool = True


BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def toml_key(name: str) -> str:
    """`name` as TOML writes a key: bare when it can be, else quoted ("resnet50-cpu.ckpt")."""
    return name if BARE_KEY.fullmatch(name) else '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _url(value, where: str) -> str:
    """An http:// or https:// URL with a host."""
    parts = None
    if isinstance(value, str) and not re.search(r"\s", value):
        try:
            parts = urlsplit(value)
            _ = parts.port  # ValueError for a port that is no number or out of range
        except ValueError:  # also an unclosed [IPv6 host
            parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where} must be the http:// or https:// URL the file is downloaded from (e.g. "
                          f"\"https://example.org/resnet-course/resnet50-cpu.ckpt\"), got {value!r}")
    return value


def _sha256(value, where: str) -> str:
    """A SHA-256 digest as 64 hex digits, kept in lower case."""
    if not isinstance(value, str) or not SHA256.fullmatch(value):
        raise ConfigError(f"{where} must be the file's SHA-256 as 64 hex digits (what `sha256sum FILE` prints "
                          f"first), got {value!r}")
    return value.lower()


@dataclass(frozen=True)
class HostedFile:
    """A file the instructor hosts: fetched from `url` when a notebook needs it, kept only if its SHA-256 matches."""

    url: str = field(metadata={"check": _url})
    sha256: str = field(metadata={"check": _sha256})


def _files(table, where: str = "files") -> dict[str, HostedFile]:
    """[files]: one table per file, keyed by the file name the notebooks use."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table of files ([files.\"<name>\"] with url and sha256), got {table!r}")
    hosted = {}
    for name, entry in table.items():
        at = f"{where}.{toml_key(name)}"
        if not name.strip() or name in (".", "..") or any(c in name for c in "/\\\0"):
            raise ConfigError(f"{at}: the key must be a file name without folders (e.g. \"resnet50-cpu.ckpt\"), "
                              f"got {name!r}")
        if not isinstance(entry, dict):
            raise ConfigError(f"{at} must be a table with url and sha256 (e.g. {at} = "
                              f"{{ url = \"https://...\", sha256 = \"...\" }}), got {entry!r}")
        hosted[name] = _build(HostedFile, entry, at)
    return hosted


def _db_url(value, where: str) -> str:
    """A SQLAlchemy database URL nbgrader can use, or "" for the course's SQLite file."""
    if not isinstance(value, str) or value and not value.startswith(DB_SCHEMES):
        raise ConfigError(f"{where} must be a database URL starting with one of {', '.join(DB_SCHEMES)} (e.g. "
                          f"\"postgresql://grader@dbhost/course\"), or \"\" for gradebook.db; got {value!r}")
    return value


LIMIT_KEYS = ("cell_timeout", "notebook_timeout", "cpu_time", "memory", "processes", "output")


@dataclass(frozen=True)
class Grading:
    cell_timeout: int = 120       # s of wall-clock time per cell
    notebook_timeout: int = 900   # s of wall-clock time per submission
    cpu_time: int = 900           # CPU seconds per kernel process
    memory: int = 4096            # MiB of data memory per kernel process
    processes: int = 64           # processes and threads of one submission at once
    output: int = 256             # KiB of output kept per cell
    db_url: str = field(default="", metadata={"check": _db_url})  # "" is sqlite:///<course>/gradebook.db


def _count(value, where: str) -> int:
    """A whole number from 0 (none, or no limit) up."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where} must be a whole number from 0 up, got {value!r}")
    return value


def _folders(value, where: str) -> tuple[str, ...]:
    """Absolute folder paths."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v.startswith("/") for v in value):
        raise ConfigError(f"{where} must be a list of absolute folders every node mounts at the same place "
                          f"(e.g. [\"/home\", \"/scratch\"]), got {value!r}")
    return tuple(value)


@dataclass(frozen=True)
class Cluster:
    """[cluster]: how `course autograde --executor slurm` asks Slurm for one task per submission."""

    partition: str = ""           # "" is the cluster's default partition
    account: str = ""             # "" is the user's default account
    minutes: int = 20             # time limit of one task (one submission), above the lab's notebook_timeout
    memory: int = 8192            # MiB per task, above [grading] memory (the kernel's)
    cpus: int = 2                 # CPUs per task: the grading kernel and the clean re-run of the hidden tests
    gpus: int = field(default=0, metadata={"check": _count})         # GPUs per task (smoke runs use one)
    parallelism: int = field(default=0, metadata={"check": _count})  # tasks of the array at once; 0: no limit
    sbatch: dict[str, str] = field(default_factory=dict)  # other sbatch options, e.g. { qos = "short" }
    # folders the nodes see at the same paths (the course folder and the kit's Python must be under one);
    # empty: anything but a node's own /tmp, /var/tmp, /dev/shm and /run
    shared: tuple[str, ...] = field(default=(), metadata={"check": _folders})


def _due(value, where: str) -> str:
    """An ISO-8601 date-time (a TOML date-time or a string), kept as its ISO string."""
    if isinstance(value, datetime):
        value = value.isoformat()
    example = 'like "2025-03-14T23:59:00+01:00" (UTC when no offset is given)'
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be an ISO-8601 date-time {example}, got {type(value).__name__} {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or len(value.strip()) <= 10:
        raise ConfigError(f"{where} must be an ISO-8601 date-time with a time of day {example}, got {value!r}")
    return value


def _fraction(value, where: str) -> float:
    """A number from 0 to 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ConfigError(f"{where} must be a fraction of the lab's points from 0 to 1, got {value!r}")
    return float(value)


def _percent(value, where: str) -> float:
    """A test accuracy in % (above 0, at most 100)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 100:
        raise ConfigError(f"{where} must be a test accuracy in % (above 0, at most 100), got {value!r}")
    return float(value)


@dataclass(frozen=True)
class LabConfig:
    id: str
    title: str
    points: float
    checkpoints: dict[str, str] = field(default_factory=dict)
    weights: dict[str, str] = field(default_factory=dict)
    cell_timeout: int | None = None
    notebook_timeout: int | None = None
    cpu_time: int | None = None
    memory: int | None = None
    processes: int | None = None
    output: int | None = None
    due: str | None = field(default=None, metadata={"check": _due})
    late_penalty: float = field(default=0.0, metadata={"check": _fraction})
    # The accuracy points of a lab that grades the student's saved model: none at accuracy_zero %, all at accuracy_full %.
    accuracy_zero: float | None = field(default=None, metadata={"check": _percent})
    accuracy_full: float | None = field(default=None, metadata={"check": _percent})
    # Canvas's assignment id (the number in its URL .../assignments/<id>): the Canvas import CSV's column is then
    # "<title> (<id>)", which Canvas matches by id; without one it matches an assignment titled <title> or creates it.
    canvas_id: int | None = None

    def __post_init__(self):
        if (self.accuracy_zero is None) != (self.accuracy_full is None):
            raise ConfigError(f"labs.{self.id}: set both accuracy_zero and accuracy_full (the test accuracies in % "
                              f"worth no accuracy point and every one), or neither")
        if self.accuracy_zero is not None and self.accuracy_zero >= self.accuracy_full:
            raise ConfigError(f"labs.{self.id}.accuracy_zero ({self.accuracy_zero:g}) must be below accuracy_full "
                              f"({self.accuracy_full:g})")

    @property
    def due_utc(self) -> datetime | None:
        """The due date as an aware UTC datetime (a due without an offset is read as UTC)."""
        if self.due is None:
            return None
        due = datetime.fromisoformat(self.due)
        return (due if due.tzinfo else due.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


@dataclass(frozen=True)
class Course:
    root: Path
    course: CourseInfo
    colab: Colab
    data: Data
    grading: Grading
    roster: Roster
    cluster: Cluster
    labs: dict[str, LabConfig]
    files: dict[str, HostedFile] = field(default_factory=dict)  # [files]: hosted files by name

    def lab(self, lab_id: str) -> LabConfig:
        """The lab named `lab_id`; a clear error names the labs that exist."""
        if lab_id not in self.labs:
            raise ConfigError(f"{self.root / CONFIG_NAME}: no lab {lab_id!r}{_suggest(lab_id, self.labs)}; "
                              f"labs are {', '.join(self.labs) or 'none'} (tables [labs.<id>])")
        return self.labs[lab_id]

    @property
    def gradebook_url(self) -> str:
        """The gradebook's database URL: [grading] db_url, else the SQLite file gradebook.db in the course folder."""
        return self.grading.db_url or f"sqlite:///{self.root / GRADEBOOK}"

    @property
    def gradebook_missing(self) -> str | None:
        """Why the gradebook cannot be there yet (a SQLite file not created), or None."""
        path = self.root / GRADEBOOK
        if not self.grading.db_url and not path.is_file():
            return f"{path} is missing"
        return None

    def limits(self, lab_id: str) -> dict[str, int]:
        """Each grading limit of `lab_id`: [labs.<id>]'s value where set, else [grading]'s."""
        lab = self.lab(lab_id)
        return {key: getattr(lab, key) or getattr(self.grading, key) for key in LIMIT_KEYS}

    @property
    def data_root(self) -> Path:
        """Where data sets live: $LABKIT_DATA, else [data] root relative to the course root."""
        return self._path("LABKIT_DATA", self.data.root)

    @property
    def checkpoint_root(self) -> Path:
        """Where instructor checkpoints live: $LABKIT_CHECKPOINTS, else [data] checkpoints."""
        return self._path("LABKIT_CHECKPOINTS", self.data.checkpoints)

    @property
    def roster_path(self) -> Path | None:
        """The class list named by [roster] file (relative to the course folder), or None when none is named."""
        return self.root / self.roster.file if self.roster.file else None

    def _path(self, env: str, configured: str) -> Path:
        return resolve_path(env, configured, self.root)


def resolve_path(env: str, configured: str, root: Path) -> Path:
    """$`env` when set, else `configured`; relative paths are taken from `root`."""
    path = Path(os.environ.get(env) or configured).expanduser()
    return path if path.is_absolute() else root / path


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_type(value, expected, where: str):
    """Raise ConfigError unless `value` fits the annotation `expected`."""
    origin = typing.get_origin(expected)
    if origin in (types.UnionType, typing.Union):
        options = typing.get_args(expected)
        if value is None and type(None) in options:
            return value
        return _check_type(value, next(o for o in options if o is not type(None)), where)
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigError(f"{where} must be a table of strings, got {value!r}")
        return dict(value)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if expected is int and isinstance(value, bool) or not isinstance(value, expected):
        raise ConfigError(f"{where} must be {expected.__name__}, got {type(value).__name__} {value!r}")
    if expected in (int, float) and value <= 0:
        raise ConfigError(f"{where} must be positive, got {value!r}")
    return value


def _build(cls, table, where: str, **given):
    """Build dataclass `cls` from TOML `table`, naming any unknown, missing or mistyped key."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table, got {table!r}")
    hints = typing.get_type_hints(cls)
    known = [f.name for f in fields(cls) if f.name not in given]
    for key in table:
        if key not in known:
            raise ConfigError(f"unknown key {where}.{key}{_suggest(key, known)}; "
                              f"known keys: {', '.join(known)}")
    values = dict(given)
    for f in fields(cls):
        if f.name in given:
            continue
        if f.name in table:
            check = f.metadata.get("check") or (lambda value, at: _check_type(value, hints[f.name], at))
            values[f.name] = check(table[f.name], f"{where}.{f.name}")
        elif f.default is MISSING and f.default_factory is MISSING:
            raise ConfigError(f"missing key {where}.{f.name}")
    return cls(**values)


def parse(text: str, root: Path, source: str = CONFIG_NAME) -> Course:
    """Validate the TOML `text` of a course.toml whose folder is `root`."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source} is not valid TOML: {error}") from None
    sections = {"course": CourseInfo, "colab": Colab, "data": Data, "grading": Grading, "roster": Roster,
                "cluster": Cluster, "labs": None, "files": None}
    for key in raw:
        if key not in sections:
            raise ConfigError(f"{source}: unknown table [{key}]{_suggest(key, sections)}; "
                              f"known tables: {', '.join(sections)}")
    for required in ("course", "colab", "labs"):
        if required not in raw:
            raise ConfigError(f"{source}: missing table [{required}]")
    try:
        labs = {lab_id: _build(LabConfig, table, f"labs.{lab_id}", id=lab_id)
                for lab_id, table in raw["labs"].items()}
        return Course(root=root, labs=labs, files=_files(raw.get("files", {})),
                      **{name: _build(cls, raw.get(name, {}), name)
                         for name, cls in sections.items() if cls is not None})
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from None


def find_root(start: Path | None = None) -> Path | None:
    """The course root: $COURSE_ROOT, else the nearest folder upwards holding course.toml."""
    if os.environ.get("COURSE_ROOT"):
        return Path(os.environ["COURSE_ROOT"]).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    return None


def packaged() -> Traversable:
    """Where a student package carries its course's course.toml: labkit/course.toml (`course publish` puts it there)."""
    return resources.files("labkit") / CONFIG_NAME


def load_or_packaged(start: Path | None = None) -> Course | None:
    """course.toml found by `find_root`; else the copy packaged with labkit (Colab, a pip-installed kit), its
    relative paths taken from `start` (default: the current folder); else None."""
    root = find_root(start)
    if root is not None:
        return load(root)
    copy = packaged()
    if not copy.is_file():
        return None
    return parse(copy.read_text(encoding="utf-8"), (start or Path.cwd()).resolve(),
                 source=f"{copy} (the course.toml packaged with labkit)")


def load(root: Path | str | None = None) -> Course:
    """Load and validate `root`/course.toml (root found by `find_root` when not given)."""
    root = Path(root) if root is not None else find_root()
    if root is None or not (root / CONFIG_NAME).is_file():
        raise ConfigError(f"no {CONFIG_NAME} found (looked in {root or Path.cwd()} and above); "
                          f"run from the course folder or set COURSE_ROOT")
    path = root / CONFIG_NAME
    return parse(path.read_text(encoding="utf-8"), root.resolve(), source=str(path))

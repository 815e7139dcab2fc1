"""A real one-node Slurm cluster for the tests: Debian's slurmctld and slurmd, munged for their credentials and
slurmdbd on a MariaDB so that `sacct` (where submitit reads job states) answers; everything in one temporary
folder, on free ports of 127.0.0.1, stopped and removed at the end."""

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PACKAGES = ("slurmctld", "slurmd", "slurm-client", "slurmdbd", "munge", "mariadb-server")
PROGRAMS = ("slurmctld", "slurmd", "slurmdbd", "sbatch", "sacct", "munged", "mungekey", "mariadbd",
            "mariadb-install-db")
PARTITION = "debug"
EXTRA_CPUS = 1  # a CPU more than the machine has: a task that sleeps (the time-limit test) holds no real one
CGROUPS = Path("/sys/fs/cgroup")
CGROUP_CONF = "CgroupPlugin=autodetect\nConstrainRAMSpace=yes\nConstrainSwapSpace=yes\nAllowedSwapSpace=0\n"
ENFORCED = "task/cgroup with ConstrainRAMSpace=yes: a job over its --mem is killed (OUT_OF_MEMORY)"


class Unavailable(Exception):
    """This machine cannot run the cluster; the message says why."""


@dataclass(frozen=True)
class Cluster:
    """The running cluster as the tests see it."""

    partition: str
    conf_dir: Path  # slurm.conf, cgroup.conf, slurmdbd.conf and the daemons' logs
    cpus: int
    memory_mb: int
    memory_enforced: bool  # whether a job's --mem is a hard limit
    memory_reason: str
    env: dict[str, str]  # what Slurm's clients (sbatch, sacct, submitit) need in their environment


def hostname() -> str:
    """This host's short name: the node's name, as slurmd finds it."""
    return socket.gethostname().split(".")[0]


@dataclass(frozen=True)
class Settings:
    """Where the daemons live and listen, and what the node offers."""

    folder: Path
    munge_socket: Path
    ports: dict[str, int]
    cpus: int
    memory_mb: int
    host: str = field(default_factory=hostname)


@dataclass
class Daemons:
    """The daemons started so far, each a foreground child process, stopped in reverse order."""

    folder: Path
    running: list[tuple[str, subprocess.Popen]] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        """The environment of the daemons and of Slurm's clients."""
        return {**os.environ, "SLURM_CONF": str(self.folder / "slurm.conf")}

    def start(self, name: str, command: list[str], **popen) -> None:
        """Start `command`, its output in `name`.out."""
        with open(self.folder / f"{name}.out", "ab") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env=self.env, start_new_session=True, **popen)
        self.running.append((name, process))

    def stop(self, name: str) -> None:
        """Stop one daemon: SIGTERM, SIGKILL after 30 s."""
        for entry in [entry for entry in self.running if entry[0] == name]:
            entry[1].terminate()
            try:
                entry[1].wait(timeout=30)
            except subprocess.TimeoutExpired:
                entry[1].kill()
                entry[1].wait()
            self.running.remove(entry)

    def stop_all(self) -> None:
        """Stop every daemon, the last started first."""
        for name, _ in reversed(list(self.running)):
            self.stop(name)

    def client(self, *command: str) -> subprocess.CompletedProcess:
        """Run one of Slurm's commands against this cluster."""
        return subprocess.run(command, capture_output=True, text=True, env=self.env)

    def wait(self, ready, what: str, timeout: float = 60) -> None:
        """Poll `ready()` until true; RuntimeError with the logs if a daemon exits or `timeout` passes."""
        deadline = time.monotonic() + timeout
        while not ready():
            dead = [name for name, process in self.running if process.poll() is not None]
            if dead or time.monotonic() > deadline:
                why = f"{', '.join(dead)} exited" if dead else f"not ready within {timeout:.0f} s"
                raise RuntimeError(f"{what}: {why}\n{self.logs()}")
            time.sleep(0.2)

    def logs(self) -> str:
        """The last lines of the daemons' outputs."""
        return "\n".join(f"--- {path.name}\n{tail(path)}" for path in sorted(self.folder.glob("*.out")))


def tail(path: Path, lines: int = 15) -> str:
    """The last lines of a text file."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def missing_programs() -> list[str]:
    """The programs the cluster needs that are not on PATH."""
    return [program for program in PROGRAMS if shutil.which(program) is None]


def install() -> None:
    """Install the Debian packages with apt-get when a program is missing; Unavailable where that cannot be done."""
    if os.geteuid() != 0:
        raise Unavailable("Slurm's daemons need root (slurmd runs each job as its user)")
    if not missing_programs():
        return
    if not shutil.which("apt-get"):
        raise Unavailable(f"{', '.join(missing_programs())} not on PATH and no apt-get to install {' '.join(PACKAGES)}")
    result = subprocess.run(f"apt-get update && apt-get install -y --no-install-recommends {' '.join(PACKAGES)}",
                            shell=True, capture_output=True, text=True, timeout=900,
                            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    if missing_programs():
        raise RuntimeError(f"`apt-get install {' '.join(PACKAGES)}` (exit {result.returncode}) left "
                           f"{', '.join(missing_programs())} missing:\n{(result.stdout + result.stderr)[-3000:]}")


def free_ports(names: tuple[str, ...]) -> dict[str, int]:
    """A distinct TCP port of 127.0.0.1 that nothing listens on now for each name."""
    with contextlib.ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in names]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return {name: probe.getsockname()[1] for name, probe in zip(names, probes)}


def listening(port: int) -> bool:
    """Whether something accepts connections on a port of 127.0.0.1."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def node_hardware() -> tuple[int, int]:
    """CPUs and memory (MB) as slurmd detects them (`slurmd -C`), so that the node registers as configured."""
    line = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True).stdout
    return tuple(int(re.search(rf"\b{key}=(\d+)", line).group(1)) for key in ("CPUs", "RealMemory"))


def memory_cgroup_problem() -> str | None:
    """Why no cgroup can limit a job's memory here, or None when slurmd may try (its error is the last word)."""
    if (CGROUPS / "cgroup.controllers").is_file():  # cgroup v2 alone
        controllers = (CGROUPS / "cgroup.controllers").read_text().split()
        return None if "memory" in controllers else f"cgroup v2 at {CGROUPS} without its memory controller"
    memory = CGROUPS / "memory"
    if not (memory / "memory.limit_in_bytes").is_file():
        return f"no memory cgroup controller mounted at {memory}"
    probe = memory / f"slurm-probe-{os.getpid()}"
    try:
        probe.mkdir()
        (probe / "memory.limit_in_bytes").write_text("104857600")
    except OSError as error:
        return f"cannot set a limit in a new memory cgroup under {memory}: {error}"
    finally:
        with contextlib.suppress(OSError):
            probe.rmdir()
    return None


def start_mariadb(daemons: Daemons, port: int) -> None:
    """A MariaDB server for slurmdbd, its data in the folder, on `port`."""
    data = daemons.folder / "mariadb"
    data.mkdir()
    shutil.chown(data, "mysql", "mysql")
    subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--user=mysql", "--skip-test-db",
                    "--auth-root-authentication-method=normal"], check=True, capture_output=True)
    daemons.start("mariadbd", ["mariadbd", "--no-defaults", f"--datadir={data}", "--user=mysql", f"--port={port}",
                               "--bind-address=127.0.0.1", f"--socket={data}/mysqld.sock",
                               f"--pid-file={data}/mysqld.pid", "--innodb-lock-wait-timeout=900", "--skip-log-bin"])
    daemons.wait(lambda: listening(port), "mariadbd")


def start_munge(daemons: Daemons) -> Path:
    """munged as the munge user, with a key, socket and seed of its own; the socket."""
    folder = daemons.folder / "munge"
    folder.mkdir(mode=0o755)  # munged wants its socket's folder open to all
    shutil.chown(folder, "munge", "munge")
    as_munge = {"user": "munge", "group": "munge", "extra_groups": []}
    subprocess.run(["mungekey", "--create", f"--keyfile={folder}/munge.key"], check=True, capture_output=True,
                   **as_munge)
    sock = folder / "munge.socket"
    daemons.start("munged", ["munged", "--foreground", f"--socket={sock}", f"--key-file={folder}/munge.key",
                             f"--pid-file={folder}/munged.pid", f"--seed-file={folder}/munged.seed"], **as_munge)
    daemons.wait(sock.exists, "munged")
    return sock


def slurmdbd_conf(settings: Settings) -> str:
    """slurmdbd.conf: accounting kept in the MariaDB."""
    folder = settings.folder
    return "\n".join([
        "AuthType=auth/munge", f"AuthInfo=socket={settings.munge_socket}", f"DbdHost={settings.host}",
        "DbdAddr=127.0.0.1", f"DbdPort={settings.ports['slurmdbd']}", "SlurmUser=root",
        f"PidFile={folder}/slurmdbd.pid", f"LogFile={folder}/slurmdbd.log",
        "StorageType=accounting_storage/mysql", "StorageHost=127.0.0.1", f"StoragePort={settings.ports['mariadb']}",
        "StorageUser=root", "StorageLoc=slurm_acct_db", ""])


def slurm_conf(settings: Settings, cgroup: bool) -> str:
    """slurm.conf: one node, this host, in one default partition; memory limits by cgroup or not at all."""
    folder, host, ports = settings.folder, settings.host, settings.ports
    return "\n".join([
        "ClusterName=tests", f"SlurmctldHost={host}(127.0.0.1)", f"SlurmctldPort={ports['slurmctld']}",
        f"SlurmdPort={ports['slurmd']}", "SlurmUser=root", "SlurmdUser=root",
        "AuthType=auth/munge", "CredType=cred/munge", f"AuthInfo=socket={settings.munge_socket}",
        f"StateSaveLocation={folder}/state", f"SlurmdSpoolDir={folder}/spool",
        f"SlurmctldPidFile={folder}/slurmctld.pid", f"SlurmdPidFile={folder}/slurmd.pid",
        f"SlurmctldLogFile={folder}/slurmctld.log", f"SlurmdLogFile={folder}/slurmd.log",
        f"ProctrackType=proctrack/{'cgroup' if cgroup else 'linuxproc'}",
        f"TaskPlugin=task/{'cgroup' if cgroup else 'none'}",
        f"JobAcctGatherType=jobacct_gather/{'cgroup' if cgroup else 'linux'}", "JobAcctGatherFrequency=5",
        "AccountingStorageType=accounting_storage/slurmdbd", "AccountingStorageHost=127.0.0.1",
        f"AccountingStoragePort={ports['slurmdbd']}",
        f"AccountingStoragePass={settings.munge_socket}",  # the munge socket for slurmdbd (AuthInfo is not used)
        "SelectType=select/cons_tres", "SelectTypeParameters=CR_CPU_Memory",
        f"DefMemPerCPU={settings.memory_mb // settings.cpus}",
        "SlurmdParameters=config_overrides",  # the node offers the CPUs configured, EXTRA_CPUS included
        "KillWait=2", "OverTimeLimit=0", "InactiveLimit=0", "ReturnToService=2", "MpiDefault=none",
        "MailProg=/bin/true",
        f"NodeName={host} NodeAddr=127.0.0.1 CPUs={settings.cpus} RealMemory={settings.memory_mb} State=UNKNOWN",
        f"PartitionName={PARTITION} Nodes={host} Default=YES MaxTime=INFINITE State=UP", ""])


def start_slurmdbd(daemons: Daemons, settings: Settings) -> None:
    """slurmdbd, once it listens."""
    conf = settings.folder / "slurmdbd.conf"
    conf.write_text(slurmdbd_conf(settings))
    conf.chmod(0o600)  # slurmdbd refuses a config others can read
    daemons.start("slurmdbd", ["slurmdbd", "-D"])
    daemons.wait(lambda: listening(settings.ports["slurmdbd"]), "slurmdbd")


def start_slurm(daemons: Daemons, settings: Settings, cgroup: bool) -> None:
    """slurmctld and slurmd; returns once the node is idle and sacct answers."""
    (settings.folder / "slurm.conf").write_text(slurm_conf(settings, cgroup))
    if cgroup:
        (settings.folder / "cgroup.conf").write_text(CGROUP_CONF)
    else:  # slurmd loads the cgroup plugin it names even with task/none
        (settings.folder / "cgroup.conf").unlink(missing_ok=True)
    daemons.start("slurmctld", ["slurmctld", "-D", "-c"])
    daemons.wait(lambda: daemons.client("scontrol", "ping").returncode == 0, "slurmctld")
    daemons.start("slurmd", ["slurmd", "-D"])
    daemons.wait(lambda: daemons.client("sinfo", "-h", "-o", "%t").stdout.strip() == "idle", "slurmd")
    daemons.wait(lambda: daemons.client("sacct", "-n").returncode == 0, "sacct")


def start_slurm_limiting_memory(daemons: Daemons, settings: Settings) -> str | None:
    """slurmctld and slurmd with task/cgroup, or, where that fails, task/none; None, or why memory is not limited."""
    problem = memory_cgroup_problem()
    if problem is None:
        try:
            start_slurm(daemons, settings, cgroup=True)
            return None
        except RuntimeError:
            daemons.stop("slurmd")
            daemons.stop("slurmctld")
            problem = f"slurmd does not start with task/cgroup: {last_error(settings.folder / 'slurmd.out')}"
    start_slurm(daemons, settings, cgroup=False)
    return problem


def last_error(path: Path) -> str:
    """The last error or fatal line of a daemon's output."""
    lines = [line for line in path.read_text(errors="replace").splitlines() if "error" in line or "fatal" in line]
    return lines[-1] if lines else f"no error in {path}"


def cancel_jobs(daemons: Daemons) -> None:
    """Cancel every job still in the queue, and wait (10 s at most) until they have left it."""
    daemons.client("scancel", f"--partition={PARTITION}")
    deadline = time.monotonic() + 10
    while daemons.client("squeue", "-h").stdout.strip() and time.monotonic() < deadline:
        time.sleep(0.5)


def remove_cgroups(host: str) -> None:
    """Remove the empty cgroups slurmd leaves behind (slurm_<host> under each controller)."""
    for top in CGROUPS.glob(f"*/slurm_{host}"):
        for folder in sorted((path for path in top.rglob("*") if path.is_dir()), reverse=True) + [top]:
            with contextlib.suppress(OSError):
                folder.rmdir()


def point_course_at(path: Path, database: str, partition: str, extra: str = "") -> None:
    """Rewrite the course.toml at `path` to grade into `database` and as tasks on `partition`: one CPU and 6 GiB each
    (the node runs three at once), every folder shared (one node), and the [cluster] lines `extra`."""
    text = path.read_text().replace("[grading]\n", f'[grading]\ndb_url = "{database}"\n', 1)
    start = text.index("[cluster]")
    cluster = f'[cluster]\npartition = "{partition}"\ncpus = 1\nmemory = 6144\nshared = ["/"]\n{extra}'
    path.write_text(text[:start] + cluster + text[text.index("\n[", start):])


@contextlib.contextmanager
def running():
    """Start the cluster in a new temporary folder; stop it and remove the folder on exit."""
    cpus, memory_mb = node_hardware()
    cpus += EXTRA_CPUS
    folder = Path(tempfile.mkdtemp(prefix="course-slurm-"))  # pytest's folders are closed to munge and mysql
    daemons = Daemons(folder)
    try:
        folder.chmod(0o755)
        for name in ("state", "spool"):
            (folder / name).mkdir()
        ports = free_ports(("mariadb", "slurmdbd", "slurmctld", "slurmd"))
        start_mariadb(daemons, ports["mariadb"])
        settings = Settings(folder, start_munge(daemons), ports, cpus, memory_mb)
        start_slurmdbd(daemons, settings)
        problem = start_slurm_limiting_memory(daemons, settings)
        yield Cluster(PARTITION, folder, cpus, memory_mb, problem is None, problem or ENFORCED,
                      {"SLURM_CONF": str(folder / "slurm.conf")})
    finally:
        if any(name == "slurmctld" for name, _ in daemons.running):
            cancel_jobs(daemons)
        daemons.stop_all()
        remove_cgroups(hostname())
        shutil.rmtree(folder, ignore_errors=True)

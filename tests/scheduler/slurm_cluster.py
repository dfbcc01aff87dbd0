"""A throwaway Slurm cluster on this host: munged, slurmctld and one slurmd per node.

Four or more simulated nodes (``gpu01``...) share ``localhost``, each slurmd on its
own port (``slurmd -N gpuNN``). Everything lives in one temporary directory: the
munge key and socket, slurm.conf, state, spools and logs. Start is bounded; stop
cancels every job first so no slurmstepd outlives the cluster.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from tests.conftest import free_port

__all__ = ["SlurmCluster", "missing_tools"]

TOOLS = ("munged", "slurmctld", "slurmd", "sinfo", "squeue", "scontrol", "sbatch", "scancel")


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


class SlurmCluster:
    def __init__(self, root: Path, nodes: int = 4) -> None:
        self.root = root
        self.names = [f"gpu{i:02d}" for i in range(1, nodes + 1)]
        self.conf = root / "slurm.conf"
        self.jobs_dir = root / "jobs"
        self._procs: list[subprocess.Popen[bytes]] = []
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}

    # Commands -------------------------------------------------------------------------

    def run(self, *argv: str, timeout: float = 15) -> str:
        done = subprocess.run(
            argv, env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip()}")
        return done.stdout

    def submit(self, *, node: str, partition: str, comment: str = "", requeue: bool = True) -> int:
        """A batch job that records a checkpoint on USR1 and keeps running."""
        script = (
            f'trap "echo ckpt >> {self.jobs_dir}/ckpt.$SLURM_JOB_ID" USR1; '
            f"echo start >> {self.jobs_dir}/start.$SLURM_JOB_ID; "
            "for i in $(seq 600); do sleep 1 & wait $!; done"
        )
        args = [
            "sbatch",
            "--parsable",
            "-p",
            partition,
            "-w",
            node,
            "-o",
            f"{self.jobs_dir}/%j.out",
        ]
        args += ["--requeue" if requeue else "--no-requeue"]
        if comment:
            args.append(f"--comment={comment}")
        return int(self.run(*args, "--wrap", script).strip().split(";")[0])

    def checkpointed(self, job_id: int) -> bool:
        return (self.jobs_dir / f"ckpt.{job_id}").exists()

    def job_state(self, job_id: int) -> tuple[str, str]:
        out = self.run("squeue", "-h", "-j", str(job_id), "-o", "%T %N").split()
        return (out[0], out[1] if len(out) > 1 else "") if out else ("GONE", "")

    def nodes(self) -> dict[str, tuple[str, str]]:
        """Each node's state and drain reason, as sinfo reports them."""
        out = self.run("sinfo", "-h", "-N", "-o", "%N|%T|%E")
        rows = (line.split("|") for line in out.splitlines())
        return {name: (state, reason) for name, state, reason in rows}

    def reset(self) -> None:
        """Back to how every test expects it: no jobs, no drained nodes."""
        ids = self.run("squeue", "-h", "-o", "%i").split()
        if ids:
            self.run("scancel", *ids)
        self.wait_for("no jobs", lambda: not self.run("squeue", "-h").strip())

        def all_resumed() -> bool:
            # A node still completing its last job refuses RESUME; try again until it takes.
            for name, (state, _) in self.nodes().items():
                if "drain" in state:
                    try:
                        self.run("scontrol", "update", f"NodeName={name}", "State=RESUME")
                    except RuntimeError:
                        return False
            return all(state == "idle" for state, _ in self.nodes().values())

        self.wait_for("every node idle again", all_resumed)

    def wait_for(self, what: str, check: object, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():  # type: ignore[operator]
                return
            time.sleep(0.2)
        raise TimeoutError(f"slurm test cluster: {what} not seen in {timeout:g} s")

    # Lifecycle ------------------------------------------------------------------------

    def _write_config(self) -> None:
        for sub in ("state", "log", "munge", "jobs", *(f"spool/{n}" for n in self.names)):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        munge = self.root / "munge"
        munge.chmod(0o700)
        key = munge / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        ctld_port, base = free_port(), free_port()
        node_lines = "\n".join(
            f"NodeName={name} NodeHostname=localhost NodeAddr=127.0.0.1 Port={free_port()} "
            "CPUs=1 RealMemory=500 State=UNKNOWN"
            for name in self.names
        )
        nodes = ",".join(self.names)
        r = self.root
        self.conf.write_text(
            f"""ClusterName=hashpivot-test
SlurmctldHost=localhost
# Both address families make Slurm ask getaddrinfo for AF_UNSPEC. An AF_INET query with
# AI_ADDRCONFIG (as Slurm makes it) fails where loopback is the only interface (glibc
# counts no 127.0.0.1 as configured), as on network-isolated CI runners; AF_UNSPEC is
# not filtered there, and elsewhere it still returns the IPv4 addresses.
CommunicationParameters=EnableIPv6
SlurmctldPort={ctld_port}
SlurmdPort={base}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={munge}/munge.sock
CryptoType=crypto/munge
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool/%n
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.%n.pid
SlurmctldLogFile={r}/log/slurmctld.log
SlurmdLogFile={r}/log/slurmd.%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/linear
MpiDefault=none
SwitchType=switch/none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobRequeue=1
ReturnToService=2
KillWait=5
SlurmdTimeout=60
{node_lines}
PartitionName=contracted Nodes={nodes} Default=YES MaxTime=INFINITE State=UP
PartitionName=interruptible Nodes={nodes} MaxTime=INFINITE State=UP
"""
        )

    def _spawn(self, *argv: str) -> None:
        log = (self.root / "log" / f"{Path(argv[0]).name}.{len(self._procs)}.out").open("wb")
        self._procs.append(
            subprocess.Popen(argv, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        )

    def start(self, timeout: float = 45) -> None:
        self._write_config()
        munge = self.root / "munge"
        self._spawn(
            "munged",
            "--foreground",
            f"--key-file={munge}/munge.key",
            f"--socket={munge}/munge.sock",
            f"--pid-file={munge}/munged.pid",
            f"--seed-file={munge}/seed",
            f"--log-file={munge}/munged.log",
            "--force",
        )
        self.wait_for("munge socket", (munge / "munge.sock").exists, 10)
        self._spawn("slurmctld", "-D", "-f", str(self.conf))
        for name in self.names:
            self._spawn("slurmd", "-D", "-f", str(self.conf), "-N", name)

        def all_idle() -> bool:
            try:
                out = self.run("sinfo", "-h", "-N", "-o", "%N %T", timeout=5)
            except (RuntimeError, subprocess.TimeoutExpired):
                return False
            states = dict(line.split() for line in out.splitlines() if line.strip())
            return all(states.get(n) == "idle" for n in self.names)

        try:
            self.wait_for("every node idle", all_idle, timeout)
        except TimeoutError:
            logs = (self.root / "log" / "slurmctld.log").read_text(errors="replace")[-2000:]
            self.stop()
            raise TimeoutError(
                f"slurm test cluster did not come up; slurmctld log:\n{logs}"
            ) from None

    def stop(self) -> None:
        try:
            ids = self.run("squeue", "-h", "-o", "%i", timeout=5).split()
            if ids:
                self.run("scancel", *ids, timeout=10)
            self.wait_for("no jobs", lambda: not self.run("squeue", "-h", timeout=5).strip(), 20)
        except (RuntimeError, TimeoutError, subprocess.TimeoutExpired):
            pass  # best effort: the daemons go regardless
        for proc in reversed(self._procs):  # slurmd first, munged last
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self._procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self._procs.clear()

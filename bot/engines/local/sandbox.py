"""The command line that starts a kernel inside bubblewrap, and the check that it can.

Why two layers when the bot runs as root: bubblewrap alone does not confine a root process
(without a user namespace it keeps root's capabilities, can remount ``/`` and the process
limit does not apply to root). So the kernel must run as an unprivileged host uid. An
unprivileged bwrap cannot bind paths that uid cannot reach (a Python under ``/root``), so a
privileged outer bwrap first builds a tree with only the paths Python needs, then ``setpriv``
drops to the uid (no capabilities, no groups, no_new_privs) and the inner, unprivileged bwrap
makes the real sandbox with every namespace unshared. When the bot is not root, only the inner
layer runs (the host uid is then the bot's own; the user namespace still hides it).

``prlimit`` sets the resource limits before anything else runs (no ``preexec_fn``: the bot has
threads). Everything here is pure except ``probe_sandbox``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.engines.local.limits import KernelLimits
from bot.errors import ConfigError

MOUNT_DATA = "/mnt/data"
FONT_INSIDE = "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"
_SYSTEM_LIBS = ("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/share/zoneinfo")


@dataclass(frozen=True)
class SandboxSpec:
    """What one kernel's sandbox contains. Paths are host paths."""

    data_dir: Path  # writable, seen as /mnt/data
    ipc_dir: Path  # writable, seen at the same path (jupyter's ipc sockets live there)
    readable: tuple[Path, ...]  # read-only, seen at the same path
    font: Path  # read-only, seen at FONT_INSIDE
    uid: int
    gid: int
    limits: KernelLimits


@dataclass(frozen=True)
class Tools:
    """Host programs the sandbox needs, looked up on PATH."""

    bwrap: str
    setpriv: str
    prlimit: str


def python_paths() -> tuple[Path, ...]:
    """What this interpreter needs to run: its prefixes (bound on purpose: a venv under /tmp
    would vanish behind the sandbox's own /tmp) and the system's shared libraries."""
    found: list[Path] = []
    for raw in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        for path in (Path(raw), Path(os.path.realpath(raw))):
            if path not in found and str(path) != "/":
                found.append(path)
    for raw in _SYSTEM_LIBS:
        path = Path(raw)
        if path.is_dir() and not path.is_symlink() and path not in found:
            found.append(path)
    return tuple(found)


def kernel_environment(*, data_path: str) -> dict[str, str]:
    """The whole environment the kernel gets: nothing of the bot's."""
    return {
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "PATH": f"{sys.prefix}/bin",
        "LANG": "C.UTF-8",
        "MPLCONFIGDIR": "/tmp/.matplotlib",
        "IPYTHONDIR": "/tmp/.ipython",
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        # glibc reserves 64 MB of address space per thread arena; the memory limit is on
        # address space, so fewer arenas leave more of it for data.
        "MALLOC_ARENA_MAX": "2",
        "INSIGHTBOT_DATA": data_path,
    }


def limit_argv(tools: Tools, limits: KernelLimits) -> list[str]:
    return [
        tools.prlimit,
        f"--as={limits.memory_bytes}",
        f"--nproc={limits.processes}",
        f"--cpu={limits.cpu_seconds}",
        f"--fsize={limits.file_bytes}",
        "--core=0",
        "--",
    ]


def _parents(paths: Sequence[str]) -> list[str]:
    """Every ancestor directory of ``paths``, shortest first (created 0755 before binding,
    because bwrap makes missing parents 0700 and the unprivileged uid could not pass them)."""
    seen: set[str] = set()
    for raw in paths:
        for parent in Path(raw).parents:
            if str(parent) != "/":
                seen.add(str(parent))
    return sorted(seen, key=lambda p: (p.count("/"), p))


def _tree(
    *,
    read_only: Sequence[tuple[str, str]],
    writable: Sequence[tuple[str, str]],
    tmp_bytes: int | None = None,
) -> list[str]:
    argv = ["--tmpfs", "/"]
    made = set()
    if tmp_bytes is not None:
        # Before the binds: the ipc directory may live under /tmp and must stay visible.
        argv += ["--perms", "1777", "--size", str(tmp_bytes), "--tmpfs", "/tmp"]
        made.add("/tmp")
    for parent in _parents([dest for _src, dest in (*read_only, *writable)]):
        if parent in made:
            continue
        argv += ["--perms", "0755", "--dir", parent]
    for src, dest in read_only:
        argv += ["--ro-bind", src, dest]
    for src, dest in writable:
        argv += ["--bind", src, dest]
    # Merged-/usr systems: /lib and /lib64 are links into /usr.
    for link in ("/lib", "/lib64"):
        if os.path.islink(link) and not any(dest == link for _s, dest in read_only):
            argv += ["--symlink", os.readlink(link), link]
    return argv


def _inner_argv(spec: SandboxSpec, *, bwrap: str, command: Sequence[str]) -> list[str]:
    read_only = [(str(p), str(p)) for p in spec.readable] + [(str(spec.font), FONT_INSIDE)]
    writable = [(str(spec.data_dir), MOUNT_DATA), (str(spec.ipc_dir), str(spec.ipc_dir))]
    argv = [
        bwrap,
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--uid",
        str(spec.uid),
        "--gid",
        str(spec.gid),
        "--die-with-parent",
        "--new-session",
        "--clearenv",
    ]
    for key, value in kernel_environment(data_path=MOUNT_DATA).items():
        argv += ["--setenv", key, value]
    argv += _tree(read_only=read_only, writable=writable, tmp_bytes=spec.limits.tmp_bytes)
    argv += ["--proc", "/proc", "--dev", "/dev"]
    argv += ["--chdir", MOUNT_DATA, "--remount-ro", "/", "--", *command]
    return argv


def _outer_argv(spec: SandboxSpec, tools: Tools) -> list[str]:
    programs = [(tools.bwrap, "/usr/bin/bwrap"), (tools.setpriv, "/usr/bin/setpriv")]
    read_only = [(str(p), str(p)) for p in spec.readable] + programs + [(str(spec.font),) * 2]
    writable = [(str(spec.data_dir),) * 2, (str(spec.ipc_dir),) * 2]
    argv = [
        tools.bwrap,
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--clearenv",
    ]
    argv += _tree(read_only=read_only, writable=writable)
    # The host's own /proc, not a new one: bwrap covers parts of a new one, and the inner,
    # unprivileged bwrap may only mount its /proc where a fully visible one exists.
    argv += ["--bind", "/proc", "/proc", "--dev", "/dev", "--remount-ro", "/"]
    argv += [
        "/usr/bin/setpriv",
        f"--reuid={spec.uid}",
        f"--regid={spec.gid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
    ]
    return argv


def sandbox_argv(
    spec: SandboxSpec, *, tools: Tools, command: Sequence[str], as_root: bool
) -> list[str]:
    """The full command line that runs ``command`` (paths as seen inside) in the sandbox."""
    if as_root:
        inner = _inner_argv(spec, bwrap="/usr/bin/bwrap", command=command)
        return [*limit_argv(tools, spec.limits), *_outer_argv(spec, tools), *inner]
    return [*limit_argv(tools, spec.limits), *_inner_argv(spec, bwrap=tools.bwrap, command=command)]


def find_tools() -> Tools:
    """bwrap, setpriv and prlimit from PATH; raises ConfigError with one line naming what to
    install."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise ConfigError(
            "bubblewrap (bwrap) is not on PATH: install it (apt-get install bubblewrap) or set "
            "INSIGHTBOT_LOCAL_SANDBOX=none to run analysis code unconfined."
        )
    setpriv, prlimit = shutil.which("setpriv"), shutil.which("prlimit")
    if setpriv is None or prlimit is None:
        raise ConfigError("setpriv and prlimit are not on PATH: install util-linux.")
    return Tools(bwrap=os.path.realpath(bwrap), setpriv=setpriv, prlimit=prlimit)


def probe_sandbox(spec: SandboxSpec, *, tools: Tools, as_root: bool) -> None:
    """Start the sandbox once with a trivial command (blocking, about 50 ms).

    Raises ConfigError with one line saying what to allow when namespaces cannot be created.
    """
    command = [str(Path(sys.prefix) / "bin" / "python"), "-S", "-c", "0"]
    argv = sandbox_argv(spec, tools=tools, command=command, as_root=as_root)
    done = subprocess.run(argv, env={}, capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1][:200]
        raise ConfigError(
            f"bubblewrap cannot build the sandbox here ({reason}): allow user namespaces "
            "(sysctl user.max_user_namespaces>0, kernel.unprivileged_userns_clone=1, "
            "kernel.apparmor_restrict_unprivileged_userns=0; in Docker run with "
            "--security-opt seccomp=unconfined --security-opt apparmor=unconfined) or set "
            "INSIGHTBOT_LOCAL_SANDBOX=none to run analysis code unconfined."
        )

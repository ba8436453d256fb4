"""The local engine's sandboxed kernel: real ipykernel under bubblewrap, real pandas and
matplotlib, and escape attempts that must fail.

The tests run as root (as CI does), so every kernel first proves that it runs as the
unprivileged uid with no capabilities before any destructive code runs in it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.engines.local import CellResult, KernelPool, kernel_config_for, trimmed
from bot.engines.local.limits import KernelLimits, default_max_kernels, limit_from_error
from bot.engines.local.sandbox import SandboxSpec, Tools, find_tools, sandbox_argv
from bot.errors import ConfigError
from bot.messages import local_limit

pytest.importorskip("ipykernel", reason="needs the local extra: pip install -e '.[local]'")

UID = 65534
DECOY_TOKEN = "xoxb-decoy-4242-sandbox-must-not-see-this"
HAS_BWRAP = shutil.which("bwrap") is not None
needs_bwrap = pytest.mark.skipif(
    not HAS_BWRAP, reason="bubblewrap is not installed (apt-get install bubblewrap); CI installs it"
)
AS_ROOT = os.geteuid() == 0


def _settings(**env: str) -> Settings:
    base = {
        "INSIGHTBOT_LOCAL_MEMORY_MB": "1024",
        "INSIGHTBOT_LOCAL_MAX_KERNELS": "2",
        "INSIGHTBOT_LOCAL_CELL_TIMEOUT_S": "30",
    }
    return load_settings({**base, **env}, dotenv_path=None)


def _everything(result: CellResult) -> str:
    return "\n".join([result.stdout, result.stderr, result.value or "", result.error or ""])


PROOF = """
import os
caps = [l.split()[1] for l in open('/proc/self/status') if l.startswith('CapEff')][0]
print(os.getuid(), os.getgid(), caps)
"""


async def _prove_unprivileged(pool: KernelPool, thread: str) -> None:
    """The guard every destructive test runs first."""
    result = await pool.execute(thread, PROOF)
    assert result.stdout.split() == [str(UID), str(UID), "0000000000000000"], _everything(result)
    kernel = pool.kernel_of(thread)
    assert kernel is not None and kernel.pid is not None
    if AS_ROOT:  # seen from the host: every process of the sandbox runs as the uid
        uids = _descendant_uids(kernel.pid)
        assert uids and uids == {UID}


def _descendant_uids(root: int) -> set[int]:
    """Real uids of the processes below ``root`` other than bwrap itself (the outer bwrap and
    its pid-1 helper stay root to build the tree; the inner one already runs as the uid)."""
    parents: dict[int, int] = {}
    uids: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = dict(
                    line.split(":", 1) for line in (entry / "status").read_text().splitlines()
                )
            except (OSError, ValueError):
                continue
            parents[int(entry.name)] = int(fields["PPid"])
            if fields["Name"].strip() != "bwrap":  # bwrap's own setup processes
                uids[int(entry.name)] = int(fields["Uid"].split()[0])
    below, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - below
        below |= frontier
    return {uids[pid] for pid in below if pid in uids}


def _any_exists(paths: list[Path]) -> bool:
    return any(path.exists() for path in paths)


def _can_start_a_process() -> bool:
    return subprocess.run(["true"], check=False).returncode == 0


@pytest.fixture
async def make_pool(tmp_path: Path) -> AsyncIterator[object]:
    pools: list[KernelPool] = []

    def make(*, idle_s: float = 600.0, max_kernels: int = 2, **env: str) -> KernelPool:
        settings = _settings(INSIGHTBOT_LOCAL_MAX_KERNELS=str(max_kernels), **env)
        pool = KernelPool(
            root=tmp_path / "kernels",
            config=kernel_config_for(settings),
            max_kernels=max_kernels,
            idle_s=idle_s,
        )
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        await pool.aclose()


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "upload-sales.csv"
    path.write_text("region,amount\n서울,10\n부산,32\n서울,5\n", encoding="utf-8")
    return path


# -- pure parts --------------------------------------------------------------------------


def test_long_output_keeps_its_head_and_tail() -> None:
    text = "HEAD" + "x" * 20_000 + "TAIL"
    cut = trimmed(text, limit=8000)
    assert cut.startswith("HEAD") and cut.endswith("TAIL")
    assert len(cut) < 8100 and "characters cut" in cut
    assert trimmed("short") == "short"


def test_default_kernel_count_is_half_the_memory_over_one_kernel_at_least_one() -> None:
    gib = 1024**3
    assert default_max_kernels(memory_bytes=2 * gib, machine_bytes=24 * gib) == 6
    assert default_max_kernels(memory_bytes=2 * gib, machine_bytes=1 * gib) == 1


@pytest.mark.parametrize(
    ("ename", "evalue", "limit"),
    [
        ("MemoryError", "", "memory"),
        ("BlockingIOError", "[Errno 11] Resource temporarily unavailable", "processes"),
        ("RuntimeError", "can't start new thread", "processes"),
        ("OSError", "[Errno 27] File too large", "file_size"),
        ("ValueError", "could not convert string to float", None),
    ],
)
def test_errors_that_mean_a_broken_limit(ename: str, evalue: str, limit: str | None) -> None:
    assert limit_from_error(ename, evalue) == limit


def test_every_limit_is_worded_for_people_in_both_languages() -> None:
    for limit in ("time", "memory", "processes", "file_size", "disk", "cpu", "crash"):
        assert local_limit("en", limit) != local_limit("ko", limit)
    assert "memory" in local_limit("en", "memory") and "메모리" in local_limit("ko", "memory")


def test_as_root_the_kernel_drops_to_the_uid_inside_every_namespace(tmp_path: Path) -> None:
    spec = SandboxSpec(
        data_dir=tmp_path / "data",
        ipc_dir=tmp_path / "ipc",
        readable=(Path("/opt/py"),),
        font=tmp_path / "font.ttf",
        uid=UID,
        gid=UID,
        limits=KernelLimits(),
    )
    tools = Tools(bwrap="/usr/bin/bwrap", setpriv="/usr/bin/setpriv", prlimit="/usr/bin/prlimit")
    argv = sandbox_argv(spec, tools=tools, command=["python"], as_root=True)
    drop = argv.index(f"--reuid={UID}") - 1
    assert argv[drop] == "/usr/bin/setpriv"
    assert argv[drop + 1 : drop + 3] == [f"--reuid={UID}", f"--regid={UID}"]
    assert {"--bounding-set=-all", "--no-new-privs", "--clear-groups"} <= set(argv[drop:])
    inner = argv[argv.index("/usr/bin/bwrap", drop) :]
    for flag in ("--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent"):
        assert flag in inner
    assert {"--new-session", "--clearenv"} <= set(inner)
    assert inner[inner.index("--uid") + 1] == str(UID)
    # Only the data directory is writable, and it is /mnt/data.
    binds = [inner[i + 1 : i + 3] for i, a in enumerate(inner) if a == "--bind"]
    assert [str(spec.data_dir), "/mnt/data"] in binds and len(binds) == 2
    assert argv[0] == "/usr/bin/prlimit" and f"--as={2048 * 1024 * 1024}" in argv


def test_without_bubblewrap_starting_refuses_with_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigError) as raised:
        find_tools()
    assert "apt-get install bubblewrap" in str(raised.value)
    assert "INSIGHTBOT_LOCAL_SANDBOX=none" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_local_settings_are_read_and_checked() -> None:
    settings = _settings(INSIGHTBOT_LOCAL_IDLE_MINUTES="5", INSIGHTBOT_LOCAL_SANDBOX="none")
    assert settings.local_idle_s == 300 and settings.local_sandbox == "none"
    assert Settings().local_uid == UID and Settings().local_cell_timeout_s == 120
    with pytest.raises(ConfigError, match="INSIGHTBOT_LOCAL_SANDBOX"):
        _settings(INSIGHTBOT_LOCAL_SANDBOX="docker")


# -- real kernels ---------------------------------------------------------------------------


@pytest.mark.slow
@needs_bwrap
async def test_a_csv_and_an_excel_file_are_read_with_pandas(
    make_pool: object, csv_file: Path, tmp_path: Path
) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["품목", "수량"])
    sheet.append(["사과", 3])
    sheet.append(["배", 4])
    book.save(tmp_path / "stock.xlsx")
    pool: KernelPool = make_pool()  # type: ignore[operator]
    files = {"sales.csv": csv_file, "stock.xlsx": tmp_path / "stock.xlsx"}
    result = await pool.execute(
        "T1",
        "import pandas as pd\n"
        "s = pd.read_csv('/mnt/data/sales.csv').groupby('region').amount.sum()\n"
        "x = pd.read_excel('/mnt/data/stock.xlsx')\n"
        "print({k: int(v) for k, v in s.items()}); int(x['수량'].sum())",
        files=files,
    )
    assert result.error is None, result.error
    assert "'서울': 15" in result.stdout and "'부산': 32" in result.stdout
    assert result.value == "7"


CHART = """
import matplotlib.pyplot as plt
from matplotlib import rcParams
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.ft2font import FT2Font
title = "지역별 매출 합계"
used = findfont(FontProperties(family=rcParams["font.sans-serif"][0]))
font = FT2Font(used)
print(used, all(font.get_char_index(ord(c)) for c in title if not c.isspace()))
fig, ax = plt.subplots()
ax.bar(["서울", "부산"], [15, 32]); ax.set_title(title)
fig.savefig("/mnt/data/chart.png")
ax.set_title(title, fontfamily="DejaVu Sans")  # no Hangul glyphs: drawn as boxes
fig.savefig("/mnt/data/boxes.png")
ax.set_title(title)
plt.show()
"""


@pytest.mark.slow
@needs_bwrap
async def test_a_korean_chart_title_is_drawn_with_real_glyphs(make_pool: object) -> None:
    pool: KernelPool = make_pool()  # type: ignore[operator]
    result = await pool.execute("T1", CHART)
    assert result.error is None, result.error
    assert result.stdout.split()[-2:] == [
        "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
        "True",
    ], _everything(result)
    assert set(result.files) == {"chart.png", "boxes.png"}
    kernel = pool.kernel_of("T1")
    assert kernel is not None
    chart = (kernel.data_dir / "chart.png").read_bytes()
    assert chart.startswith(b"\x89PNG") and chart != (kernel.data_dir / "boxes.png").read_bytes()
    assert len(result.images) == 1 and result.images[0].read_bytes().startswith(b"\x89PNG")


@pytest.mark.slow
@needs_bwrap
async def test_state_is_kept_across_cells(make_pool: object) -> None:
    pool: KernelPool = make_pool()  # type: ignore[operator]
    await _prove_unprivileged(pool, "T1")
    first = await pool.execute("T1", "total = 41")
    second = await pool.execute("T1", "total + 1")
    assert first.error is None and second.value == "42" and not second.state_reset


@pytest.mark.slow
@needs_bwrap
async def test_an_idle_kernel_restarts_fresh_with_the_files_back(
    make_pool: object, csv_file: Path
) -> None:
    pool: KernelPool = make_pool(idle_s=0.5)  # type: ignore[operator]
    await pool.execute(
        "T1", "x = 1\nopen('/mnt/data/out.txt', 'w').write('made')", files={"s.csv": csv_file}
    )
    await asyncio.sleep(1.0)
    await pool.sweep()
    kernel = pool.kernel_of("T1")
    assert kernel is not None and not kernel.running
    result = await pool.execute(
        "T1", "import os; print(sorted(os.listdir('/mnt/data'))); 'x' in dir()"
    )
    assert result.state_reset
    assert result.stdout.strip() == "['s.csv']" and result.value == "False"


@pytest.mark.slow
@needs_bwrap
async def test_the_network_is_unreachable_even_on_localhost(make_pool: object) -> None:
    reached: list[bool] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        reached.append(True)
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pool: KernelPool = make_pool()  # type: ignore[operator]
    try:
        await _prove_unprivileged(pool, "T1")
        result = await pool.execute(
            "T1",
            "import socket\n"
            "for host in ('127.0.0.1', 'localhost', '8.8.8.8'):\n"
            "    try:\n"
            f"        socket.create_connection((host, {port}), timeout=2); print('CONNECTED')\n"
            "    except OSError as e:\n"
            "        print('refused', type(e).__name__)\n",
        )
    finally:
        server.close()
        await server.wait_closed()
    assert "CONNECTED" not in result.stdout and result.stdout.count("refused") == 3
    assert reached == []


@pytest.mark.slow
@needs_bwrap
async def test_the_bots_database_env_home_and_variables_are_invisible(
    make_pool: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", DECOY_TOKEN)
    monkeypatch.setenv("OPENAI_API_KEY", DECOY_TOKEN)
    database, dotenv = tmp_path / "insightbot.db", tmp_path / ".env"
    database.write_text(f"rows {DECOY_TOKEN}")
    dotenv.write_text(f"SLACK_BOT_TOKEN={DECOY_TOKEN}\n")
    pool: KernelPool = make_pool()  # type: ignore[operator]
    await _prove_unprivileged(pool, "T1")
    probe = f"""
import glob, os
for path in [{str(database)!r}, {str(dotenv)!r}, os.path.expanduser('~root/.bashrc'),
             os.path.join({str(Path.cwd())!r}, '.env'), '/proc/1/environ']:
    try:
        print(path, open(path, 'rb').read())
    except OSError as e:
        print(path, type(e).__name__)
for path in glob.glob('/proc/*/environ'):
    try:
        print(path, open(path, 'rb').read())
    except OSError as e:
        print(path, type(e).__name__)
print(dict(os.environ))
print(os.listdir('/'), os.listdir({str(tmp_path.parent)!r}) if os.path.exists({str(tmp_path.parent)!r}) else 'no host tmp')
"""
    result = await pool.execute("T1", probe)
    everything = _everything(result)
    assert DECOY_TOKEN not in everything
    assert f"{database} FileNotFoundError" in result.stdout
    assert f"{dotenv} FileNotFoundError" in result.stdout
    assert "no host tmp" in result.stdout


@pytest.mark.slow
@needs_bwrap
async def test_writing_outside_mnt_data_and_remounting_fail(
    make_pool: object, tmp_path: Path
) -> None:
    pool: KernelPool = make_pool()  # type: ignore[operator]
    await _prove_unprivileged(pool, "T1")
    import sys

    targets = [
        tmp_path / "escaped.txt",
        Path(sys.prefix) / "escaped.txt",
        Path("/usr/lib/escaped.txt"),
    ]
    code = f"""
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for path in {[str(t) for t in targets] + ["/escaped.txt"]!r}:
    try:
        open(path, 'w').write('x'); print('WROTE', path)
    except OSError as e:
        print('denied', path, type(e).__name__)
MS_REMOUNT, MS_BIND = 32, 4096
for target in ('/', '/usr/lib', {sys.prefix!r}):
    rc = libc.mount(None, target.encode(), None, MS_REMOUNT | MS_BIND, None)
    print('remount', target, rc, os.strerror(ctypes.get_errno()))
open('/tmp/inside-only.txt', 'w').write('x')
"""
    result = await pool.execute("T1", code)
    assert "WROTE" not in result.stdout, result.stdout
    assert result.stdout.count("remount") == 3
    assert all(" -1 " in line for line in result.stdout.splitlines() if line.startswith("remount"))
    assert not _any_exists([*targets, Path("/tmp/inside-only.txt")])


@pytest.mark.slow
@needs_bwrap
async def test_another_threads_files_are_invisible(make_pool: object, tmp_path: Path) -> None:
    secret = tmp_path / "payroll.csv"
    secret.write_text("name,salary\nkim,99\n")
    pool: KernelPool = make_pool()  # type: ignore[operator]
    await pool.execute("A", "print(1)", files={"payroll.csv": secret})
    await _prove_unprivileged(pool, "B")
    kernel_a = pool.kernel_of("A")
    assert kernel_a is not None
    result = await pool.execute(
        "B",
        "import os\n"
        "hits = [os.path.join(d, f) for top in os.listdir('/') if top not in ('proc', 'sys')\n"
        "        for d, _, names in os.walk('/' + top) for f in names if f == 'payroll.csv']\n"
        f"print(os.listdir('/mnt/data'), os.path.exists({str(kernel_a.data_dir)!r}), hits)",
    )
    assert result.stdout.strip() == "[] False []", _everything(result)


@pytest.mark.slow
@needs_bwrap
async def test_a_fork_bomb_is_stopped_and_the_kernel_restarted_with_files(
    make_pool: object, csv_file: Path
) -> None:
    pool: KernelPool = make_pool(INSIGHTBOT_LOCAL_CELL_TIMEOUT_S="20")  # type: ignore[operator]
    await pool.execute("T1", "x = 1", files={"s.csv": csv_file})
    await _prove_unprivileged(pool, "T1")
    result = await pool.execute("T1", "import os\nwhile True:\n    os.fork()")
    assert result.limit in ("processes", "time"), _everything(result)
    assert await asyncio.to_thread(_can_start_a_process)  # the bot's uid is not limited
    after = await pool.execute("T1", "import os; print(os.listdir('/mnt/data')); 'x' in dir()")
    assert after.stdout.strip() == "['s.csv']" and after.value == "False"


@pytest.mark.slow
@needs_bwrap
async def test_a_memory_hog_is_stopped_and_the_kernel_restarted(
    make_pool: object, csv_file: Path
) -> None:
    pool: KernelPool = make_pool()  # type: ignore[operator]
    await pool.execute("T1", "x = 1", files={"s.csv": csv_file})
    await _prove_unprivileged(pool, "T1")
    result = await pool.execute("T1", "hog = []\nwhile True:\n    hog.append(bytearray(10**8))")
    assert result.limit == "memory" and "MemoryError" in (result.error or "")
    after = await pool.execute("T1", "import os; print(os.listdir('/mnt/data')); 'x' in dir()")
    assert after.stdout.strip() == "['s.csv']" and after.value == "False"


@pytest.mark.slow
@needs_bwrap
async def test_an_endless_loop_hits_the_cell_timeout(make_pool: object) -> None:
    pool: KernelPool = make_pool(INSIGHTBOT_LOCAL_CELL_TIMEOUT_S="2")  # type: ignore[operator]
    await _prove_unprivileged(pool, "T1")
    result = await pool.execute("T1", "while True:\n    pass")
    assert result.limit == "time"
    assert (await pool.execute("T1", "6 * 7")).value == "42"


@pytest.mark.slow
@needs_bwrap
async def test_filling_the_disk_is_stopped(make_pool: object) -> None:
    pool: KernelPool = make_pool(INSIGHTBOT_LOCAL_DISK_MB="5")  # type: ignore[operator]
    await _prove_unprivileged(pool, "T1")
    result = await pool.execute(
        "T1", "for i in range(4):\n    open(f'/mnt/data/f{i}', 'wb').write(b'0' * 2_000_000)"
    )
    assert result.limit == "disk" and result.files == ()
    big = await pool.execute("T1", "open('/mnt/data/big', 'wb').write(b'0' * 6_000_000)")
    assert big.limit == "file_size"
    assert (await pool.execute("T1", "import os; os.listdir('/mnt/data')")).value == "[]"


@pytest.mark.slow
@needs_bwrap
async def test_past_the_kernel_limit_the_least_recently_used_idle_one_is_shut_down(
    make_pool: object,
) -> None:
    pool: KernelPool = make_pool(max_kernels=1)  # type: ignore[operator]
    await pool.execute("A", "a = 1")
    await pool.execute("B", "b = 2")
    kernel_a, kernel_b = pool.kernel_of("A"), pool.kernel_of("B")
    assert kernel_a is not None and kernel_b is not None
    assert not kernel_a.running and kernel_b.running
    again = await pool.execute("A", "'a' in dir()")
    assert again.state_reset and again.value == "False" and not kernel_b.running
    await pool.forget("A")
    assert not kernel_a.home.exists()

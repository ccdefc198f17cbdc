"""Run ``wrk`` (the C load generator: a fraction of the CPU an in-process Python client needs,
which matters when it shares 2 cores with the server) and ``pgbench``, and parse their output."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}

# Each wrk thread walks the path list from its own offset, round robin.
_LUA = """
local paths = {%s}
local i = 0
function init(args)
  i = math.random(#paths)
end
function request()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i], {["Accept"] = "application/json"%s})
end
"""


@dataclass(frozen=True)
class WrkResult:
    rate: float  # requests/s
    requests: int
    errors: int  # non-2xx/3xx answers + socket errors
    p50_ms: float
    p99_ms: float


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if match is None:
        raise ValueError(f"unparsed wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = 0
    if non_2xx := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(non_2xx.group(1))
    if sockets := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += sum(int(n) for n in sockets.groups())
    percentiles = dict(re.findall(r"^\s*(50|99)(?:\.0+)?%\s+(\S+)\s*$", output, flags=re.MULTILINE))
    if not {"50", "99"} <= percentiles.keys():
        raise RuntimeError(f"unparsed wrk output:\n{output}")
    return WrkResult(rate, requests, errors, _ms(percentiles["50"]), _ms(percentiles["99"]))


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_wrk(
    base_url: str,
    paths: list[str],
    *,
    connections: int,
    seconds: float,
    threads: int = 2,
    headers: dict[str, str] | None = None,
) -> WrkResult:
    """``wrk`` against ``base_url``, cycling over ``paths`` (latency percentiles included)."""
    quoted = ", ".join(_lua_string(p) for p in paths)
    extra = "".join(
        f", [{_lua_string(name)}] = {_lua_string(value)}" for name, value in (headers or {}).items()
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_LUA % (quoted, extra))
    try:
        command = [
            "wrk",
            f"-t{min(threads, connections)}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            script.name,
            base_url,
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        return parse_wrk(result.stdout)
    finally:
        Path(script.name).unlink(missing_ok=True)


def run_pgbench(
    database_url: str, statements: list[str], *, clients: int, seconds: float, **env: Any
) -> float:
    """Transactions/s of ``pgbench`` running ``statements`` (one transaction = all of them),
    prepared protocol, ``clients`` connections on 2 threads."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write("\n".join(s.rstrip().rstrip(";").replace("\n", " ") + ";" for s in statements))
        script.write("\n")
    try:
        command = [
            "pgbench",
            "-n",
            "-M",
            "prepared",
            "-f",
            script.name,
            "-c",
            str(clients),
            "-j",
            str(min(2, clients)),
            "-T",
            str(max(1, round(seconds))),
            database_url,
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        match = re.search(r"tps = ([\d.]+)", result.stdout)
        if match is None:
            raise RuntimeError(f"unparsed pgbench output:\n{result.stdout}\n{result.stderr}")
        return float(match.group(1))
    finally:
        Path(script.name).unlink(missing_ok=True)

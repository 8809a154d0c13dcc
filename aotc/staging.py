"""Temporary folders whose name says which process made them, so a later run can sweep the ones
a killed process left (SIGKILL cannot be caught) without touching those of a live, concurrent one.

    .kws.aotc-tmp-1a2b3c4d-4242-x8y9z0      <prefix><kind>-<host tag>-<pid>-<random>
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import tempfile
from pathlib import Path


def _host_tag() -> str:
    """Eight hex digits of the host name: a pid means nothing on another machine sharing the folder."""
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def make(parent: Path, prefix: str, kind: str = "tmp") -> Path:
    """A new private folder in `parent` named after this process."""
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{kind}-{_host_tag()}-{os.getpid()}-", dir=parent))


def name(parent: Path, prefix: str, kind: str) -> Path:
    """A fresh path in this process's staging names, for a folder to be renamed there (not created)."""
    return parent / f"{prefix}{kind}-{_host_tag()}-{os.getpid()}-{os.urandom(6).hex()}"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # someone else's process
        return True
    return True


def sweep(parent: Path, prefix: str) -> None:
    """Remove the staging folders in `parent` made with `prefix` on this host by processes that no
    longer exist."""
    pattern = re.compile(re.escape(prefix) + r"[a-z]+-([0-9a-f]{8})-(\d+)-\w+")
    tag = _host_tag()
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        if m and m.group(1) == tag and not _alive(int(m.group(2))):
            shutil.rmtree(entry.path, ignore_errors=True)

"""How a Luna agent is reached: its folder, its socket, who may talk to it, and the frames.

Used by the thin client in `luna_tui/cli/main.py` before anything heavy is imported, by
the agent itself (luna_tui/cli/agent_server.py), and by the app to end an agent at an
explicit lock. Standard library only: importing this costs a few milliseconds.

- The folder: `$XDG_RUNTIME_DIR/luna/`, else `/tmp/luna-<uid>/`, made 0700 and checked
  on every use without following a symlink (opened with O_NOFOLLOW, then fstat): it must
  be a directory of this user with no access for anyone else.
- The socket: named by a hash of the vault's path, so a long LUNA_HOME still fits the
  ~100 bytes a UNIX socket path may have; 0600. Nothing listens on TCP.
- The peer: SO_PEERCRED (Linux) or getpeereid (macOS, BSD) must give this user's uid;
  anyone else is refused before a byte of theirs is read.
- The frames: a 4-byte big-endian length, then one JSON object.

Paths are plain strings here (os.path): pathlib alone would cost the thin client more
than the rest of its imports. For the same reason the client's socket is `_socket`'s
(the class `socket.socket` extends: the `socket` module builds enums of every constant
at import) and the hash is `_blake2`'s (hashlib loads OpenSSL): 5-10 ms of a process
that should take a few tens.
"""

from __future__ import annotations

import _socket
import errno
import json
import os
import stat
import struct
from collections.abc import Callable

from luna_tui.errors import LunaError

try:
    from _blake2 import blake2b
except ImportError:  # a Python built without it
    from hashlib import blake2b

SOCKET_SUFFIX = ".sock"
# sun_path holds 108 bytes on Linux, 104 on macOS: keep well under both.
MAX_SOCKET_PATH = 100
MAX_FRAME = 64 * 1024 * 1024
LOCKED_SENTENCE = "locked: run luna unlock"


class AgentUnsafe(LunaError):
    """The agent's folder or socket is not private to this user: Luna will not use it."""


class AgentRunning(LunaError):
    """A second agent, or a second `luna unlock`, for a vault that has one."""


class PeerRefused(LunaError):
    """A process of another user tried the agent's socket."""


def runtime_dir() -> str:
    """`$XDG_RUNTIME_DIR/luna`, else (or if that is too long for a socket's path)
    `/tmp/luna-<uid>`."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base and os.path.isabs(base):
        folder = os.path.join(base, "luna")
        if len(os.fsencode(folder)) + 1 + 24 + len(SOCKET_SUFFIX) <= MAX_SOCKET_PATH:
            return folder
    return f"/tmp/luna-{os.getuid()}"


def socket_path(home: str | os.PathLike[str]) -> str:
    """The socket of the agent for the vault at `home`: named by a hash of its absolute,
    normalised path, so it is short whatever the vault's path."""
    digest = blake2b(os.fsencode(os.path.abspath(home)), digest_size=12).hexdigest()
    return os.path.join(runtime_dir(), f"{digest}{SOCKET_SUFFIX}")


def private_folder(folder: str | os.PathLike[str], *, create: bool) -> bool:
    """Check (and with `create`, make) the agent folder: a real directory of this user,
    mode 0700. False if it does not exist and `create` is off; AgentUnsafe if it is not
    private. A folder of ours with a looser mode is tightened (through its descriptor,
    so a symlink swapped in meanwhile is never followed)."""
    if create:
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass
        except OSError as error:
            raise AgentUnsafe(f"Luna can't make the agent folder {folder} ({error}).") from None
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return False
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise AgentUnsafe(f"The agent folder {folder} is not a folder (a symlink or a "
                              "file is in its place); remove it and try again.") from None
        raise AgentUnsafe(f"Luna can't open the agent folder {folder} ({error}).") from None
    try:
        info = os.fstat(fd)
        if info.st_uid != os.getuid():
            raise AgentUnsafe(f"The agent folder {folder} belongs to another user; Luna "
                              "will not use it.")
        if stat.S_IMODE(info.st_mode) != 0o700:
            os.fchmod(fd, 0o700)
    finally:
        os.close(fd)
    return True


# -- who is calling --------------------------------------------------------------------


def peer_uid(sock: _socket.socket) -> int:
    """The uid of the process at the other end of a connected UNIX socket."""
    if hasattr(_socket, "SO_PEERCRED"):  # Linux: struct ucred {pid, uid, gid}
        raw = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", raw)
        return uid
    import ctypes  # macOS and the BSDs: getpeereid(2) reads LOCAL_PEERCRED
    import ctypes.util

    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    uid, gid = ctypes.c_uint32(), ctypes.c_uint32()
    if libc.getpeereid(sock.fileno(), ctypes.byref(uid), ctypes.byref(gid)) != 0:
        raise OSError(ctypes.get_errno(), "getpeereid failed")
    return uid.value


def check_peer(sock: _socket.socket, read_uid: Callable[[_socket.socket], int] = peer_uid
               ) -> None:
    """Refuse a peer that is not this user (or whose uid can't be told)."""
    try:
        uid = read_uid(sock)
    except OSError:
        raise PeerRefused("The agent could not tell who is calling; refused.") from None
    if uid != os.getuid():
        raise PeerRefused(f"A process of uid {uid} tried this user's Luna agent; refused.")


# -- frames ----------------------------------------------------------------------------


def send(sock: _socket.socket, message: dict) -> None:
    data = json.dumps(message, ensure_ascii=False).encode("utf-8")
    sock.sendall(struct.pack(">I", len(data)) + data)


def receive(sock: _socket.socket) -> dict | None:
    """The next message, or None when the other end has closed."""
    head = _exactly(sock, 4)
    if head is None:
        return None
    (length,) = struct.unpack(">I", head)
    if length > MAX_FRAME:
        raise ConnectionError("an agent frame beyond 64 MiB")
    body = _exactly(sock, length)
    if body is None:
        return None
    message = json.loads(body.decode("utf-8"))
    if not isinstance(message, dict):
        raise ConnectionError("an agent frame that is not an object")
    return message


def _exactly(sock: _socket.socket, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# -- reaching an agent -----------------------------------------------------------------


class Connection(_socket.socket):
    """A client's end of the agent's socket, closed at the end of a `with`."""

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Stale(Exception):
    """A socket was left by an agent that is gone; it has been removed."""


def connect(home: str | os.PathLike[str]) -> Connection | None:
    """A connection to the agent of the vault at `home`, or None if none runs.

    A socket nobody listens on (the agent was killed) is removed and Stale raised, so
    the caller can say so. The folder is checked before anything is sent to it.
    """
    path = socket_path(home)
    if not private_folder(os.path.dirname(path), create=False):
        return None
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISSOCK(info.st_mode) or info.st_uid != os.getuid():
        raise AgentUnsafe(f"{path} is not this user's agent socket; remove it.")
    sock = Connection(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        sock.close()
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        raise Stale(path) from None
    except BaseException:
        sock.close()
        raise
    return sock


def request(home: str | os.PathLike[str], op: str, **fields: object) -> dict | None:
    """One question to the agent of `home` and its answer; None if no agent runs (a stale
    socket found on the way is removed) or it hung up unanswered (refused, or ending)."""
    try:
        sock = connect(home)
    except Stale:
        return None
    if sock is None:
        return None
    with sock:
        try:
            send(sock, {"op": op, **fields})
            return receive(sock)
        except ConnectionError:
            return None


def end_agent(home: str | os.PathLike[str], reason: str) -> bool:
    """End the agent of `home` if one runs (a restore, a passphrase change, an explicit
    lock in the app). True if one was told to end. Never fails the caller."""
    try:
        answer = request(home, "end", reason=reason)
    except (OSError, LunaError, ValueError):
        return False
    return bool(answer and answer.get("ok"))

"""Length-prefixed pickle frames between the supervisor and its workers.

Each frame is an 8-byte big-endian length followed by a pickle. Work units hold function
references that pickle by name, so frames stay small; images never cross this channel (the
worker reads its inputs from the plate and writes its outputs itself).
"""

from __future__ import annotations

import pickle
import struct
from typing import Any, BinaryIO

_HEADER = struct.Struct(">Q")


def write_frame(stream: BinaryIO, message: Any) -> None:
    """Send one message; flushes so the other side sees it at once."""
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def read_frame(stream: BinaryIO) -> Any:
    """Receive one message; raises ``EOFError`` when the other side has gone."""
    header = _read_exactly(stream, _HEADER.size)
    (length,) = _HEADER.unpack(header)
    return pickle.loads(_read_exactly(stream, length))


def _read_exactly(stream: BinaryIO, n: int) -> bytes:
    chunks = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            raise EOFError("stream closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)

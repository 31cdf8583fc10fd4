"""Small valid images made in code: PNG (any size), JPEG, GIF and WebP; `seed` makes each one different."""

import base64
import math
import random
import struct
import zlib


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width: int = 2, height: int = 2, seed: int = 0, size: int | None = None) -> bytes:
    """An RGB PNG of random pixels; with `size`, a comment chunk pads it to exactly that many bytes."""
    rnd = random.Random(seed)
    rows = b"".join(b"\x00" + rnd.randbytes(width * 3) for _ in range(height))
    head = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    body = _png_chunk(b"IDAT", zlib.compress(rows, 1)) + _png_chunk(b"IEND", b"")
    if size is None:
        return head + body
    padding = size - len(head) - len(body) - 12 - len(b"Comment\0")
    assert padding >= 0, f"a {width}x{height} PNG is over {size} bytes"
    return head + _png_chunk(b"tEXt", b"Comment\0" + b"x" * padding) + body


def png_of_size(size: int, seed: int = 0) -> bytes:
    """A square PNG of random (incompressible) pixels padded to exactly `size` bytes."""
    side = int(math.sqrt(size / 3.1))
    return png(side, side, seed, size)


def jpeg(seed: int = 0) -> bytes:
    """A baseline JPEG of one grey pixel (one Huffman code per table), with a comment that varies."""
    segment = lambda marker, body: b"\xff" + marker + struct.pack(">H", len(body) + 2) + body  # noqa: E731
    one_code = bytes([1] + [0] * 15) + b"\x00"  # one code of length 1 for symbol 0
    return (
        b"\xff\xd8"
        + segment(b"\xe0", b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + segment(b"\xfe", f"sample {seed}".encode())
        + segment(b"\xdb", b"\x00" + b"\x01" * 64)
        + segment(b"\xc0", b"\x08\x00\x01\x00\x01\x01\x01\x11\x00")
        + segment(b"\xc4", b"\x00" + one_code)
        + segment(b"\xc4", b"\x10" + one_code)
        + segment(b"\xda", b"\x01\x01\x00\x00\x3f\x00")
        + b"\x3f"  # DC difference 0 ('0'), end of block ('0'), padded with ones
        + b"\xff\xd9"
    )


def gif(seed: int = 0) -> bytes:
    """A 1x1 GIF89a whose one colour depends on the seed."""
    colour = random.Random(seed).randbytes(3)
    return (
        b"GIF89a"
        + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0)
        + colour
        + b"\xff\xff\xff"
        + b"\x2c"
        + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
        + b"\x02\x02\x44\x01\x00"
        + b"\x3b"
    )


def webp() -> bytes:
    """A 1x1 lossless WebP."""
    return base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")


SAMPLES = {  # extension -> (bytes, content type)
    "png": (png(), "image/png"),
    "jpg": (jpeg(), "image/jpeg"),
    "gif": (gif(), "image/gif"),
    "webp": (webp(), "image/webp"),
}

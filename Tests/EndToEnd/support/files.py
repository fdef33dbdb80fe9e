"""Files the tests make, and the SHA-256 checksums the store checks.

- `make_clip(path, seconds, size, rate, quality)`: a real clip with picture and sound, by ffmpeg.
- `make_file(path, size)`: a file of `size` bytes in which no two MiB are equal.
- `sha256_b64(data)`: an `x-amz-checksum-sha256` (the API's `checksumSHA256`); `composite_sha256`:
  S3's checksum of a multipart object.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from pathlib import Path

FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
FFPROBE = shutil.which("ffprobe") or "/usr/bin/ffprobe"
MiB = 1024 * 1024


def make_clip(path: Path, seconds: int = 20, size: str = "480x270", rate: int = 25, quality: int = 6) -> Path:
    """A real clip with picture and sound (ffmpeg's test pattern and a tone), in MPEG-4 and MP2: a
    container the pipeline must convert. `quality` is MPEG-4's -q:v (lower is better)."""
    subprocess.run([FFMPEG, "-v", "error", "-y",
                    "-f", "lavfi", "-i", f"testsrc=duration={seconds}:size={size}:rate={rate}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
                    "-c:v", "mpeg4", "-q:v", str(quality), "-c:a", "mp2", "-shortest", str(path)],
                   check=True, timeout=300)
    return path


def make_h264_clip(path: Path, seconds: int, size: str, rate: int) -> Path:
    """A clip as a phone records it: H.264 and AAC in MP4 (ffmpeg's moving test pattern and a tone)."""
    subprocess.run([FFMPEG, "-v", "error", "-y",
                    "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                    "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-shortest", str(path)], check=True, timeout=300)
    return path


def make_file(path: Path, size: int, seed: int = 1) -> Path:
    """`size` bytes in which no two MiB are equal (each begins with its index); `seed` varies the rest."""
    block = bytes((i * 131 + seed) % 251 for i in range(MiB))
    with path.open("wb") as out:
        index = 0
        while index * MiB < size:
            chunk = index.to_bytes(8, "big") + block[8:]
            out.write(chunk[: min(MiB, size - index * MiB)])
            index += 1
    return path


def sha256_b64(data: bytes) -> str:
    """An `x-amz-checksum-sha256` value (the API's `checksumSHA256`): the base64 of the 32-byte digest."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def composite_sha256(parts: list[bytes]) -> str:
    """S3's checksum of a multipart object: the SHA-256 of the parts' digests joined, then -<parts>."""
    joined = b"".join(hashlib.sha256(part).digest() for part in parts)
    return sha256_b64(joined) + f"-{len(parts)}"

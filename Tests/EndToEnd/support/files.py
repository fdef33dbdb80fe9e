"""Files the tests make: a real clip with picture and sound (ffmpeg)."""

from __future__ import annotations

import subprocess
from pathlib import Path

FFMPEG = "ffmpeg"


def make_clip(path: Path, seconds: int = 20) -> Path:
    """A real clip with picture and sound, in a container the pipeline must convert."""
    subprocess.run([FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=duration={seconds}:size=480x270:rate=25",
                    "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
                    "-c:v", "mpeg4", "-q:v", "6", "-c:a", "mp2", "-shortest", str(path)], check=True, timeout=300)
    return path

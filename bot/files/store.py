"""The bytes of stored files, in a directory (HEADSTRT_FILES_DIR): one file each, named by a random id, so
a name a person chose never reaches the file system. Every process that takes, sends or serves files (the
chat processes, the web process, the scheduler that deletes them) uses the same directory."""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path


class FileStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def write(self, data: bytes, now: datetime) -> str:
        """Write the bytes (all or nothing: a temporary file renamed); the path relative to the directory."""
        relative = f"{now:%Y}/{now:%m}/{uuid.uuid4().hex}"
        target = self.directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        with partial.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(target)
        return relative

    def read(self, relative: str) -> bytes | None:
        path = self._path(relative)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, relative: str) -> None:
        self._path(relative).unlink(missing_ok=True)

    def _path(self, relative: str) -> Path:
        path = (self.directory / relative).resolve()
        if not path.is_relative_to(self.directory.resolve()):
            raise ValueError(f"not a stored file's path: {relative!r}")
        return path

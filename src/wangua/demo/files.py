"""The demonstration's data folder: what it holds, and starting it afresh.

Every run writes a manifest (`.wangua-demo-files`) listing the files it is
about to create, before creating them. The next run deletes exactly the
files that manifest lists and nothing else. A folder that holds a database
without a manifest was not made by the demonstration: it is left alone and
the demonstration refuses to start there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MANIFEST = ".wangua-demo-files"
DATABASE = "wangua.sqlite3"
SQLITE_SIDECARS = ("-wal", "-shm", "-journal")


class DataDirInUse(Exception):
    """The folder holds data the demonstration did not create."""


@dataclass(frozen=True)
class DemoPaths:
    """Where the demonstration keeps its database, CA and account files."""

    data_dir: Path

    @property
    def database(self) -> Path:
        return self.data_dir / DATABASE

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database}"

    @property
    def ca_dir(self) -> Path:
        return self.data_dir / "ca"

    @property
    def ca_cert(self) -> Path:
        return self.ca_dir / "ca.crt.pem"

    @property
    def accounts_dir(self) -> Path:
        return self.data_dir / "accounts"

    @property
    def readme(self) -> Path:
        return self.accounts_dir / "README.txt"

    @property
    def manifest(self) -> Path:
        return self.data_dir / MANIFEST

    def key(self, username: str) -> Path:
        return self.accounts_dir / f"{username}.key.pem"

    def cert(self, username: str) -> Path:
        return self.accounts_dir / f"{username}.crt.pem"

    def created_files(self, usernames: Iterable[str]) -> list[Path]:
        """Every file a demonstration with these accounts creates."""
        files = [self.database, *(Path(f"{self.database}{s}") for s in SQLITE_SIDECARS)]
        files += [self.ca_dir / "ca.key.pem", self.ca_cert, self.readme]
        for username in usernames:
            files += [self.key(username), self.cert(username)]
        return files


def start_afresh(paths: DemoPaths, usernames: Iterable[str]) -> list[Path]:
    """Delete the previous demonstration's files, then record the files this one creates.

    Returns the files deleted. Raises `DataDirInUse` if the folder holds a
    database, CA or account files that no manifest accounts for.
    """
    deleted = _delete_previous(paths)
    planned = paths.created_files(usernames)
    foreign = [path for path in planned if path.exists()]
    if foreign:
        raise DataDirInUse(
            f"目录 {paths.data_dir} 中已有不是由演示创建的文件(如 {foreign[0]}),"
            "为免误删,演示不会覆盖它们。请把 WANGUA_DATA_DIR 设为一个新的空目录。"
        )
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    relative = [str(path.relative_to(paths.data_dir)) for path in planned]
    paths.manifest.write_text("\n".join(relative) + "\n", encoding="utf-8")
    return deleted


def _delete_previous(paths: DemoPaths) -> list[Path]:
    """Delete the files the last run's manifest lists (only inside the data folder)."""
    if not paths.manifest.is_file():
        return []
    root = paths.data_dir.resolve()
    deleted: list[Path] = []
    for line in paths.manifest.read_text(encoding="utf-8").splitlines():
        name = line.strip()
        if not name:
            continue
        relative = Path(name)
        if relative.is_absolute() or ".." in relative.parts:
            raise DataDirInUse(f"演示文件清单 {paths.manifest} 含有目录之外的路径:{name}")
        target = root / relative
        if target.is_file() or target.is_symlink():
            target.unlink()
            deleted.append(target)
    paths.manifest.unlink()
    return deleted

"""Archives are read as the text of their members, named `archive!member`, with bounded
decompression: a zip bomb is cut short with a notice, never read whole."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from pathlib import Path

from steward.scan.archives import archive_members
from steward.scan.models import Notice, ScanOptions
from steward.scan.run import rule_set, run_scan
from tests.scan.conftest import TOKEN

ENV = f"# deploy\nGITHUB_TOKEN={TOKEN}\n".encode()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tar_bytes(members: dict[str, bytes], mode: str = "w:gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:  # type: ignore[call-overload]
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def found(tree: Path) -> tuple[set[tuple[str, str, int]], list[Notice]]:
    result = run_scan(tree, rules=rule_set(ScanOptions()))
    return {(f.rule_id, f.path, f.line) for f in result.findings}, result.notices


def test_secrets_inside_zip_jar_tar_gz_and_gz_are_found_with_member_paths(
    tmp_path: Path,
) -> None:
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "bundle.zip").write_bytes(
        zip_bytes({"config/app.env": ENV, "logo.png": b"\x89PNG\0\0" + TOKEN.encode()})
    )
    (tmp_path / "dist" / "app.jar").write_bytes(zip_bytes({"application.properties": ENV}))
    (tmp_path / "dist" / "backup.tar.gz").write_bytes(tar_bytes({"etc/hosts": b"db 10.2.3.4\n"}))
    (tmp_path / "dist" / "old.tgz").write_bytes(tar_bytes({"a/b.env": ENV}))
    (tmp_path / "dist" / "plain.tar").write_bytes(tar_bytes({"x.env": ENV}, mode="w"))
    (tmp_path / "dist" / "secrets.env.gz").write_bytes(gzip.compress(ENV))
    findings, notices = found(tmp_path)
    assert findings == {
        ("github-token", "dist/bundle.zip!config/app.env", 2),
        ("github-token", "dist/app.jar!application.properties", 2),
        ("private-ipv4", "dist/backup.tar.gz!etc/hosts", 1),
        ("github-token", "dist/old.tgz!a/b.env", 2),
        ("github-token", "dist/plain.tar!x.env", 2),
        ("github-token", "dist/secrets.env.gz!secrets.env", 2),
    }
    assert notices == []


def test_nested_archives_are_opened_with_each_level_in_the_path(tmp_path: Path) -> None:
    inner = zip_bytes({"WEB-INF/web.env": ENV})
    (tmp_path / "release.tar.gz").write_bytes(tar_bytes({"lib/app.war": inner}))
    findings, _ = found(tmp_path)
    assert findings == {("github-token", "release.tar.gz!lib/app.war!WEB-INF/web.env", 2)}


def test_a_zip_bomb_is_cut_short_with_a_notice() -> None:
    bomb = zip_bytes({"a.txt": b"token\n", "zeros.txt": b"\0" * 2_000_000, "b.txt": ENV})
    notices: list[Notice] = []
    members = list(archive_members(bomb, "bomb.zip", notices.append, max_bytes=1_000_000))
    assert [name for name, _ in members] == ["bomb.zip!a.txt"]
    [notice] = notices
    assert notice.path == "bomb.zip"
    assert "read only in part" in notice.message


def test_a_gzip_bomb_is_read_only_up_to_the_cap() -> None:
    # A .gz declares no size up front: the read itself stops one byte past the budget.
    bomb = gzip.compress(b"\0" * 3_000_000)
    notices: list[Notice] = []
    assert list(archive_members(bomb, "b.gz", notices.append, max_bytes=1_000_000)) == []
    assert "read only in part" in notices[0].message


def test_member_count_is_capped() -> None:
    many = zip_bytes({f"f{n}.txt": b"x\n" for n in range(50)})
    notices: list[Notice] = []
    members = list(archive_members(many, "many.zip", notices.append, max_members=10))
    assert len(members) == 10
    assert "10 members" in notices[0].message


def test_a_corrupt_archive_is_a_notice_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 this is not a zip")
    (tmp_path / "broken.tar.gz").write_bytes(b"\x1f\x8b\x08 not gzip either")
    (tmp_path / "ok.env").write_text(f"T={TOKEN}\n")
    findings, notices = found(tmp_path)
    assert findings == {("github-token", "ok.env", 1)}
    assert {n.path for n in notices} == {"broken.zip", "broken.tar.gz"}
    assert all("not a readable archive" in n.message for n in notices)

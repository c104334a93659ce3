"""Upload checks of the Knowledge tab (tutor/web/knowledge.py): names, types, sizes, folders."""

from __future__ import annotations

import json

import pytest

from tutor.config import Settings
from tutor.errors import TutorError
from tutor.web.knowledge import check_upload, safe_name, store_upload, user_dir


@pytest.mark.parametrize("name, expected", [
    ("notes.md", "notes.md"),
    ("../../etc/passwd.md", "passwd.md"),
    ("..\\..\\windows\\evil.py", "evil.py"),
    (".hidden.md", "hidden.md"),
    ("my notes (v2).MD", "my_notes_v2.md"),
    ("résumé.txt", "r_sum.txt"),
    ("", "upload"),
    ("..", "upload"),
    ("a" * 300 + ".pdf", "a" * 96 + ".pdf"),
])
def test_safe_names_stay_in_their_folder(name, expected):
    assert safe_name(name) == expected


def test_user_folders_are_distinct_and_under_home(tmp_path):
    s = Settings(home=tmp_path)
    a, b = user_dir(s, "a b"), user_dir(s, "a_b")
    assert a != b and a.parent == b.parent == tmp_path / "uploads"
    assert ".." not in user_dir(s, "../../x").name


def write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_type_and_size_checks(tmp_path):
    ok = write(tmp_path, "a.md", b"# Title\n\ntext")
    assert check_upload(ok, "a.md", 1) == "a.md"
    with pytest.raises(TutorError, match="not supported"):
        check_upload(write(tmp_path, "x.exe", b"MZ..."), "x.exe", 1)
    with pytest.raises(TutorError, match="over the limit of 0.001 MB"):
        check_upload(write(tmp_path, "big.txt", b"x" * 2000), "big.txt", 0.001)
    with pytest.raises(TutorError, match="not a PDF"):
        check_upload(write(tmp_path, "fake.pdf", b"hello"), "fake.pdf", 1)
    assert check_upload(write(tmp_path, "real.pdf", b"%PDF-1.4 ..."), "real.pdf", 1) == "real.pdf"
    with pytest.raises(TutorError, match="binary"):
        check_upload(write(tmp_path, "bin.py", b"\x00\x01\x02"), "bin.py", 1)
    with pytest.raises(TutorError, match="not UTF-8"):
        check_upload(write(tmp_path, "latin.txt", "café".encode("latin-1")), "latin.txt", 1)
    with pytest.raises(TutorError, match="not valid JSON"):
        check_upload(write(tmp_path, "nb.ipynb", b"{nope"), "nb.ipynb", 1)
    with pytest.raises(TutorError, match="no cells"):
        check_upload(write(tmp_path, "nb2.ipynb", json.dumps({"a": 1}).encode()), "nb2.ipynb", 1)
    with pytest.raises(TutorError, match="empty"):
        check_upload(write(tmp_path, "empty.md", b""), "empty.md", 1)


def test_store_copies_into_the_users_folder(tmp_path):
    s = Settings(home=tmp_path / "home", max_file_mb=1)
    src = write(tmp_path, "up.md", b"# Hi\n\nthere")
    dest = store_upload(s, "ada", src, "../../../up.md")
    assert dest == (user_dir(s, "ada") / "up.md").resolve() and dest.read_bytes() == src.read_bytes()
    assert not list(dest.parent.glob(".*.part"))

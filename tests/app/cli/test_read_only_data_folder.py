"""A data folder that turns read-only while Hearth is installed (issue 15, reliability): the
commands that need it fail with a plain message and exit 1, nothing already saved is lost,
and once the folder is writable again the same commands work, with no repair step."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.private_mount import run_on_own_disk

CHAT = {
    "format": "hearth-chat",
    "version": 1,
    "conversations": [
        {
            "title": "Kept",
            "created_at": "2025-01-02T03:04:05+00:00",
            "updated_at": "2025-01-02T03:04:05+00:00",
            "messages": [
                {
                    "id": 1,
                    "parent_id": None,
                    "role": "user",
                    "content": "hi",
                    "status": "complete",
                    "created_at": "2025-01-02T03:04:05+00:00",
                    "updated_at": "2025-01-02T03:04:05+00:00",
                }
            ],
        }
    ],
}

_CODE = """
import json, os, subprocess, sys
from pathlib import Path
from app.entry import main
disk, chat, out = Path(sys.argv[1]), {chat!r}, {out!r}
os.environ["HEARTH_HOME"] = str(disk / "home")
sys.stderr = sys.stdout
print("code", main(["import", chat]))
subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
print("code", main(["import", chat]))
print("code", main(["export", out]))
subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
print("code", main(["import", chat]))
print("code", main(["export", out]))
print("titles", json.dumps([c["title"] for c in json.load(open(out))["conversations"]]))
"""


def test_a_read_only_data_folder_is_said_plainly_and_loses_nothing(tmp_path: Path) -> None:
    chat, out = tmp_path / "chat.json", tmp_path / "out.json"
    chat.write_text(json.dumps(CHAT), encoding="utf-8")
    disk = tmp_path / "disk"
    lines = run_on_own_disk(disk, _CODE.format(chat=str(chat), out=str(out)), size="8m")
    codes = [line for line in lines.splitlines() if line.startswith("code ")]
    assert codes == ["code 0", "code 1", "code 1", "code 0", "code 0"], lines
    assert lines.count("is read-only") >= 2, lines
    assert "Traceback" not in lines
    assert lines.splitlines()[-1] == 'titles ["Kept", "Kept"]'

"""Chat exports of other apps, written to the shapes their projects document (the sources are
cited in each reader's docstring, app/chat/imports/*.py), each with branches where the app
has them. Built in code so a test can damage one field of a good file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

T0 = 1_717_000_000.0  # 2024-05-29, Unix seconds

Document = Any


def _node(
    node_id: str,
    parent: str | None,
    role: str | None,
    parts: list[Any] | None = None,
    *,
    at: float = 0,
    content_type: str = "text",
    recipient: str = "all",
    hidden: bool = False,
) -> dict[str, Any]:
    message = None
    if role is not None:
        message = {
            "id": node_id,
            "author": {"role": role, "name": None, "metadata": {}},
            "create_time": T0 + at,
            "update_time": None,
            "content": {"content_type": content_type, "parts": parts or []},
            "status": "finished_successfully",
            "end_turn": True,
            "weight": 1.0,
            "metadata": {"is_visually_hidden_from_conversation": True} if hidden else {},
            "recipient": recipient,
        }
    return {"id": node_id, "message": message, "parent": parent, "children": []}


def chatgpt_export() -> Document:
    """conversations.json: a trip chat whose first answer was regenerated (two versions, the
    second shown), a hidden system node, an image beside text, a code-interpreter call and its
    output; and a second chat that is one question and one answer."""
    nodes = [
        _node("root", None, None),
        _node("sys", "root", "system", [""], hidden=True),
        _node("u1", "sys", "user", ["Plan a trip to the coast"], at=1),
        _node("a1", "u1", "assistant", ["Go north."], at=2),
        _node("a2", "u1", "assistant", ["Go south, ", "by train."], at=3),
        _node(
            "u2",
            "a2",
            "user",
            [{"content_type": "image_asset_pointer", "asset_pointer": "file-service://x"}, "Here?"],
            at=4,
            content_type="multimodal_text",
        ),
        _node(
            "call", "u2", "assistant", ["print(1)"], at=5, content_type="code", recipient="python"
        ),
        _node("out", "call", "tool", [], at=6, content_type="execution_output"),
        _node("a3", "out", "assistant", ["Yes, there."], at=7),
    ]
    mapping = {n["id"]: n for n in nodes}
    for node in nodes:
        if node["parent"] is not None:
            mapping[node["parent"]]["children"].append(node["id"])
    second = {
        "root": _node("root", None, None),
        "q": _node("q", "root", "user", ["What is 2+2?"], at=100),
        "a": _node("a", "q", "assistant", ["4"], at=101),
    }
    second["root"]["children"] = ["q"]
    second["q"]["children"] = ["a"]
    return [
        {
            "title": "Coast trip",
            "create_time": T0,
            "update_time": T0 + 7,
            "mapping": mapping,
            "current_node": "a3",
            "conversation_id": "c-1",
            "id": "c-1",
        },
        {
            "title": "Sums",
            "create_time": T0 + 100,
            "update_time": T0 + 101,
            "mapping": second,
            "current_node": "a",
            "id": "c-2",
        },
    ]


def _webui_message(
    key: str, parent: str | None, children: list[str], role: str, content: str, at: int
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "id": key,
        "parentId": parent,
        "childrenIds": children,
        "role": role,
        "content": content,
        "timestamp": int(T0) + at,
    }
    if role == "assistant":
        message.update(model="llama3.2:3b", modelName="llama3.2:3b", done=True)
    else:
        message["models"] = ["llama3.2:3b"]
    return message


def open_webui_export() -> Document:
    """Settings → Chats → Export chats: one chat whose answer was regenerated; the first
    answer is the one shown (currentId), the second holds a reasoning block."""
    messages = {
        "u1": _webui_message("u1", None, ["a1", "a2"], "user", "Name a colour", 1),
        "a1": _webui_message("a1", "u1", [], "assistant", "Blue.", 2),
        "a2": _webui_message(
            "a2",
            "u1",
            [],
            "assistant",
            '<details type="reasoning" done="true" duration="2">\n<summary>Thought for 2 '
            "seconds</summary>\n&gt; colours...\n</details>\nGreen.",
            3,
        ),
    }
    chat = {
        "id": "",
        "title": "Colours",
        "models": ["llama3.2:3b"],
        "params": {"system": "Answer in one word."},
        "history": {"messages": messages, "currentId": "a1"},
        "messages": [messages["u1"], messages["a1"]],
        "tags": [],
        "timestamp": int(T0 * 1000),
        "files": [],
    }
    return [
        {
            "id": "8e2d7b0c",
            "user_id": "u",
            "title": "Colours",
            "chat": chat,
            "updated_at": int(T0) + 3,
            "created_at": int(T0),
            "share_id": None,
            "archived": False,
            "pinned": True,
            "meta": {},
            "folder_id": None,
        }
    ]


def _text(words: str) -> dict[str, Any]:
    return {"type": "text", "text": words}


def lm_studio_conversation() -> Document:
    """A conversation file: the answer has two versions (the second selected, a multiStep with
    a tool step), then a question with an attached image, then its answer."""
    single = {"type": "singleStep", "role": "assistant", "content": [_text("Paris.")]}
    multi = {
        "type": "multiStep",
        "role": "assistant",
        "steps": [
            {"type": "contentBlock", "stepIdentifier": "s1", "content": [_text("It is Paris.")]},
            {"type": "toolStatus", "stepIdentifier": "s2", "callId": 1, "state": {}},
        ],
        "senderInfo": {"senderName": "qwen2.5-7b-instruct"},
    }
    return {
        "name": "Capitals",
        "pinned": False,
        "createdAt": int(T0 * 1000),
        "preset": "",
        "tokenCount": 42,
        "systemPrompt": "",
        "perChatPredictionConfig": {
            "fields": [{"key": "llm.prediction.systemPrompt", "value": "Be brief."}]
        },
        "messages": [
            {
                "versions": [
                    {"type": "singleStep", "role": "user", "content": [_text("Capital of France?")]}
                ],
                "currentlySelected": 0,
            },
            {"versions": [single, multi], "currentlySelected": 1},
            {
                "versions": [
                    {
                        "type": "singleStep",
                        "role": "user",
                        "content": [
                            _text("And this one?"),
                            {"type": "file", "fileIdentifier": "a.png", "fileType": "image"},
                        ],
                    }
                ],
                "currentlySelected": 0,
            },
            {
                "versions": [
                    {"type": "singleStep", "role": "assistant", "content": [_text("Rome.")]}
                ],
                "currentlySelected": 0,
            },
        ],
        "usePerChatPredictionConfig": True,
        "clientInput": "",
        "clientInputFiles": [],
        "userFilesSizeBytes": 0,
        "lastUsedModel": {"identifier": "qwen2.5-7b-instruct"},
        "notes": [],
        "plugins": [],
    }


def jan_message(n: int, role: str, content: list[dict[str, Any]], at_ms: int) -> dict[str, Any]:
    return {
        "id": f"01J{n:05d}",
        "object": "thread.message",
        "thread_id": "jan_1717000000",
        "assistant_id": "jan",
        "attachments": [],
        "role": role,
        "content": content,
        "status": "ready",
        "created_at": at_ms,
        "completed_at": at_ms,
        "metadata": {},
    }


def jan_text(words: str) -> dict[str, Any]:
    return {"type": "text", "text": {"value": words, "annotations": []}}


def jan_thread() -> tuple[Document, list[Document]]:
    """thread.json and the lines of messages.jsonl (written newest first, as the spec's
    example lists them): a question, an answer with its reasoning, an image question."""
    ms = int(T0 * 1000)
    thread = {
        "id": "jan_1717000000",
        "object": "thread",
        "title": "Jan thread",
        "assistants": [{"assistant_id": "jan", "assistant_name": "Jan", "model": {"id": "m"}}],
        "created": ms,
        "updated": ms + 4000,
        "metadata": {},
    }
    lines = [
        jan_message(
            3, "user", [{"type": "image_url", "image_url": {"url": "data:..."}}], ms + 3000
        ),
        jan_message(
            2,
            "assistant",
            [{"type": "reasoning", "text": {"value": "hmm", "annotations": []}}, jan_text("Hi!")],
            ms + 2000,
        ),
        jan_message(1, "user", [jan_text("Hello")], ms + 1000),
    ]
    return thread, lines


def write_jan_thread(folder: Path, thread: Document, lines: list[Document]) -> Path:
    """A Jan thread folder: thread.json and messages.jsonl; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "thread.json").write_text(json.dumps(thread), encoding="utf-8")
    (folder / "messages.jsonl").write_text(
        "".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8"
    )
    return folder


def write_json(path: Path, document: Document) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def shown_branch(db: Any, conversation_id: int) -> list[tuple[str, str, str]]:
    """The imported chat as the window shows it: (role, text, "version/count") per message."""
    from storage.chats import MessageRepository

    return [
        (m.role.value, m.content, f"{m.version}/{m.version_count}")
        for m in MessageRepository(db).active_path(conversation_id)
    ]


def row_counts(db: Any) -> tuple[int, int]:
    """Conversations and messages stored: an import that failed must leave both as they were."""
    from sqlalchemy import text

    with db.session() as session:
        return tuple(  # type: ignore[return-value]
            session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("conversations", "messages")
        )

"""A minimal Language Server Protocol client: the diagnostics yaml-language-server publishes for
one YAML document (used by test_schemas.py where the server is installed)."""
from __future__ import annotations

import json
import os
import select
import subprocess
import time


def yaml_diagnostics(server: str, path: str, text: str, timeout: float = 60.0, settle: float = 3.0) -> list:
    """The diagnostics of the document ``text`` (at ``path``): the first non-empty list the server
    publishes, or [] when it publishes only empty ones (waiting ``settle`` s after the first)."""
    proc = subprocess.Popen([server, "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    buffer = b""

    def send(message: dict) -> None:
        body = json.dumps(message).encode()
        proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        proc.stdin.flush()

    def receive(deadline: float):
        nonlocal buffer
        while True:
            if b"\r\n\r\n" in buffer:
                head, rest = buffer.split(b"\r\n\r\n", 1)
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length"))
                if len(rest) >= length:
                    buffer = rest[length:]
                    return json.loads(rest[:length])
            ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.time()))
            chunk = os.read(proc.stdout.fileno(), 65536) if ready else b""
            if not chunk:
                return None
            buffer += chunk

    uri = "file://" + path
    settings = {"validate": True, "hover": False, "completion": False, "schemaStore": {"enable": False}}
    send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
          "params": {"processId": None, "rootUri": None, "capabilities": {"workspace": {"configuration": True}}}})
    deadline, published = time.time() + timeout, None
    try:
        while time.time() < deadline:
            message = receive(deadline)
            if message is None:
                break
            if message.get("id") == 1 and "result" in message:
                send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
                send({"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration",
                      "params": {"settings": {"yaml": settings}}})
                send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
                    "textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}})
            elif message.get("method") == "workspace/configuration":
                send({"jsonrpc": "2.0", "id": message["id"], "result": [settings for _ in message["params"]["items"]]})
            elif "id" in message and "method" in message:
                send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif message.get("method") == "textDocument/publishDiagnostics" and message["params"]["uri"] == uri:
                published = message["params"]["diagnostics"]
                if published:
                    return published
                deadline = min(deadline, time.time() + settle)
    finally:
        proc.kill()
        proc.wait()
    if published is None:
        raise TimeoutError("yaml-language-server published no diagnostics")
    return published

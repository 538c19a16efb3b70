#!/usr/bin/env python3
"""A herald_v1_follow client on the `websockets` library, for the end-to-end tests and for trying the subscription.

Every line it prints is one JSON object:
  {"kind": "subscribed", "id": ...}            the subscription was accepted
  {"kind": "error", "error": {...}}            it was refused (the JSON-RPC error)
  {"kind": "notification", "result": {...}}    one herald_v1_followEvent notification
  {"kind": "paused"} / {"kind": "reading"}     --pause-after: the client stopped / went on reading its socket
  {"kind": "resumed", "params": {...}}         --resume: followed again from a stop's position
  {"kind": "done"}                             --until was met

Usage:
  follow_client.py follow ws://127.0.0.1:9944 '{"mode":"finalized","from":{"block":1}}' --until caughtUp
  follow_client.py calls ws://127.0.0.1:9944 '[["herald_v1_follow",[{"filter":{"names":["Nope"]}}]]]'
  follow_client.py many ws://127.0.0.1:9944 --connections 10 --per 10 --silent 1 --until-block 30
"""

import argparse
import asyncio
import json
import os
import socket
import sys
from urllib.parse import urlparse

from websockets.asyncio.client import connect


def emit(obj):
    print(json.dumps(obj), flush=True)


async def open_socket(url, small_buffer):
    kwargs = {"max_size": None, "ping_interval": None}
    if small_buffer:
        # A small receive buffer, so that a client that stops reading backs up to the node quickly.
        parsed = urlparse(url)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((parsed.hostname, parsed.port))
        kwargs["sock"] = sock
        kwargs["max_queue"] = 1
    return await connect(url, **kwargs)


class Client:
    def __init__(self, ws):
        self.ws = ws
        self.next_id = 1

    async def call(self, method, params):
        """Sends a request and returns its answer; notifications that arrive first are returned too."""
        request_id = self.next_id
        self.next_id += 1
        await self.ws.send(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}))
        early = []
        while True:
            message = json.loads(await self.ws.recv())
            if message.get("id") == request_id:
                return message, early
            early.append(message)


def ends(args, result):
    until = args.until
    if until is None:
        return False
    event = result.get("event")
    if until == "caughtUp":
        return event == "caughtUp"
    if until == "stop":
        return event == "stop"
    if until.startswith("block:"):
        target = int(until.split(":", 1)[1])
        envelope = result.get("envelope") or {}
        return (
            envelope.get("name") == "BlockFinalized"
            and envelope.get("meta", {}).get("block", {}).get("number", -1) >= target
        )
    if until.startswith("count:"):
        return args.count >= int(until.split(":", 1)[1])
    return False


async def follow(args):
    ws = await open_socket(args.url, args.pause_after is not None)
    client = Client(ws)
    params = json.loads(args.params) if args.params else None
    args.count = 0
    paused = False
    while True:
        answer, early = await client.call("herald_v1_follow", [params] if params is not None else [])
        if "error" in answer:
            emit({"kind": "error", "error": answer["error"]})
            return
        subscription = answer["result"]
        emit({"kind": "subscribed", "id": subscription})
        pending = [m for m in early if m.get("params", {}).get("subscription") == subscription]
        stopped = None
        while True:
            if pending:
                message = pending.pop(0)
            else:
                message = json.loads(await ws.recv())
            if message.get("method") != "herald_v1_followEvent":
                continue
            result = message["params"]["result"]
            args.count += 1
            emit({"kind": "notification", "result": result})
            if ends(args, result):
                emit({"kind": "done"})
                return
            if result.get("event") == "stop":
                stopped = result
                break
            if args.pause_after is not None and not paused and args.count >= args.pause_after:
                paused = True
                emit({"kind": "paused"})
                if args.pause_until_file:
                    while not os.path.exists(args.pause_until_file):
                        await asyncio.sleep(0.1)
                else:
                    await asyncio.sleep(args.pause_s)
                emit({"kind": "reading"})
        if not args.resume:
            return
        params = dict(params or {})
        params["from"] = stopped["resume"]
        emit({"kind": "resumed", "params": params})


async def many(args):
    """--connections connections x --per follows each; the first --silent connections never read. Ends when every
    reading subscription got block N's BlockFinalized; prints one summary line."""
    import hashlib

    sockets = [await open_socket(args.url, i < args.silent) for i in range(args.connections)]
    clients = [Client(ws) for ws in sockets]
    subscriptions = {}  # id -> (connection, ids)
    for n, client in enumerate(clients):
        for _ in range(args.per):
            answer, early = await client.call("herald_v1_follow", [])
            if "error" in answer:
                emit({"kind": "error", "error": answer["error"]})
                return
            subscriptions[answer["result"]] = {"connection": n, "ids": [], "done": False, "events": []}
            for message in early:
                record(subscriptions, message, args.until_block)
    emit({"kind": "subscribed", "count": len(subscriptions)})

    async def read(n, ws):
        while not all(s["done"] for s in subscriptions.values() if s["connection"] == n):
            record(subscriptions, json.loads(await ws.recv()), args.until_block)

    await asyncio.gather(*(read(n, ws) for n, ws in enumerate(sockets) if n >= args.silent))
    readers = [
        {"count": len(s["ids"]), "digest": hashlib.sha256("\n".join(s["ids"]).encode()).hexdigest(), "events": s["events"]}
        for s in subscriptions.values()
        if s["connection"] >= args.silent
    ]
    emit({"kind": "summary", "readers": readers})
    for ws in sockets:
        await ws.close()


def record(subscriptions, message, until_block):
    if message.get("method") != "herald_v1_followEvent":
        return
    subscription = subscriptions.get(message["params"]["subscription"])
    if subscription is None:
        return
    result = message["params"]["result"]
    if result.get("event") != "envelope":
        subscription["events"].append(result.get("event"))
        return
    envelope = result["envelope"]
    subscription["ids"].append(envelope["meta"]["id"])
    if envelope["name"] == "BlockFinalized" and envelope["meta"]["block"]["number"] >= until_block:
        subscription["done"] = True


async def calls(args):
    ws = await open_socket(args.url, False)
    client = Client(ws)
    for method, params in json.loads(args.calls):
        answer, _ = await client.call(method, params)
        emit({"kind": "answer", "method": method, "answer": answer})
    await ws.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("follow")
    f.add_argument("url")
    f.add_argument("params", nargs="?")
    f.add_argument("--until", help="caughtUp | stop | block:N (its BlockFinalized) | count:N")
    f.add_argument("--pause-after", type=int, help="stop reading after this many notifications")
    f.add_argument("--pause-s", type=float, default=10.0)
    f.add_argument("--pause-until-file", help="instead of --pause-s: read again once this file exists")
    f.add_argument("--resume", action="store_true", help="follow again from a stop's resume position")
    c = sub.add_parser("calls")
    c.add_argument("url")
    c.add_argument("calls", help='JSON: [[method, params], ...], sent in order on one connection')
    m = sub.add_parser("many")
    m.add_argument("url")
    m.add_argument("--connections", type=int, default=10)
    m.add_argument("--per", type=int, default=10)
    m.add_argument("--silent", type=int, default=1, help="connections that never read")
    m.add_argument("--until-block", type=int, required=True)
    args = parser.parse_args()
    commands = {"follow": follow, "calls": calls, "many": many}
    try:
        asyncio.run(commands[args.command](args))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()

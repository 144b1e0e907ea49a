#!/usr/bin/env python3
"""Reference oracle for DifferentialTests.swift: parses documents with tomllib.

Usage: tomllib_oracle.py DOCUMENTS

DOCUMENTS holds the documents back to back, each as its UTF-8 byte length in
decimal, a newline, then the bytes. For each document one JSON line (ASCII
only) is printed, in order:

    {"ok": true, "flags": [...], "value": <tagged value>}
    {"ok": false, "line": N, "column": M or null, "message": "..."}

A tagged value is a two-element list [tag, payload]:
    ["string", "..."]        ["integer", "<decimal>"]    ["boolean", true]
    ["float", "<repr>"]      (shortest round-trip text: "1.5", "-0.0", "inf", "nan")
    ["array", [<tagged>, ...]]
    ["table", [["key", <tagged>], ...]]     (keys in tomllib's insertion order)
    ["datetime", "<isoformat>"]

"flags" names features outside the Swift parser's subset seen in the value:
"datetime" (any date or time), "bigint" (an integer outside the signed
64-bit range) and "tablearray" (a list holding a table, which may come from
an array of tables [[x]]). "column" is null when tomllib reports the error
"at end of document"; "line" is then the document's last line.

One deliberate difference from plain tomllib: a leading U+FEFF byte order
mark is removed first, because the Swift parser accepts one and tomllib does
not.
"""
import datetime
import json
import re
import sys

try:
    import tomllib
except ImportError:
    sys.stderr.write("tomllib_oracle.py: Python 3.11+ with tomllib is required\n")
    sys.exit(3)


def tagged(value, flags):
    if isinstance(value, bool):
        return ["boolean", value]
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            flags.add("bigint")
        return ["integer", str(value)]
    if isinstance(value, float):
        return ["float", repr(value)]
    if isinstance(value, str):
        return ["string", value]
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        flags.add("datetime")
        return ["datetime", value.isoformat()]
    if isinstance(value, list):
        if any(isinstance(item, dict) for item in value):
            flags.add("tablearray")
        return ["array", [tagged(item, flags) for item in value]]
    if isinstance(value, dict):
        return ["table", [[key, tagged(item, flags)] for key, item in value.items()]]
    raise TypeError(type(value))


def documents(data):
    offset = 0
    while offset < len(data):
        newline = data.index(b"\n", offset)
        length = int(data[offset:newline])
        start = newline + 1
        yield data[start:start + length]
        offset = start + length


COORDINATES = re.compile(r"\(at line (\d+), column (\d+)\)$")


def verdict(text):
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        value = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        match = COORDINATES.search(message)
        if match:
            return {"ok": False, "line": int(match.group(1)), "column": int(match.group(2)), "message": message}
        last_line = text.replace("\r\n", "\n").count("\n") + 1
        return {"ok": False, "line": last_line, "column": None, "message": message}
    flags = set()
    tree = tagged(value, flags)
    return {"ok": True, "flags": sorted(flags), "value": tree}


def main():
    with open(sys.argv[1], "rb") as handle:
        data = handle.read()
    for raw in documents(data):
        sys.stdout.write(json.dumps(verdict(raw.decode("utf-8")), ensure_ascii=True) + "\n")


if __name__ == "__main__":
    main()

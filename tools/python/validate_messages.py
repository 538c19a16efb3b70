#!/usr/bin/env python3
"""Validates Kafka messages against Herald's exported event contracts with Python's `jsonschema` (an
implementation independent of the node's): every schema under DIR/schemas and DIR/topics must be a valid draft-07
schema, and every message must validate against the schema of the topic it was read from.

Usage: validate_messages.py CONTRACTS_DIR MESSAGES.jsonl
  MESSAGES.jsonl: one JSON object a line, {"topic": "herald.assets", "value": <the envelope, or its text>}.
Prints a summary; exit code 1 and the first failures when any message (or schema) is invalid.
"""
import json
import pathlib
import sys
from collections import Counter

from jsonschema import Draft7Validator


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    root = pathlib.Path(sys.argv[1])
    validators = {}
    for directory in ("schemas", "topics"):
        for path in sorted((root / directory).glob("*.json")):
            schema = json.loads(path.read_text())
            Draft7Validator.check_schema(schema)
            if directory == "topics":
                validators[path.stem] = Draft7Validator(schema)
    if not validators:
        print(f"no topic schemas under {root / 'topics'}", file=sys.stderr)
        return 1
    failures = []
    counts = Counter()
    for number, line in enumerate(pathlib.Path(sys.argv[2]).read_text().splitlines(), 1):
        if not line.strip():
            continue
        message = json.loads(line)
        topic, value = message["topic"], message["value"]
        if isinstance(value, str):
            value = json.loads(value)
        validator = validators.get(topic)
        if validator is None:
            failures.append(f"line {number}: topic {topic} has no contract")
            continue
        errors = sorted(validator.iter_errors(value), key=lambda e: len(list(e.absolute_path)))
        if errors:
            best = errors[0]
            path = "/".join(str(p) for p in best.absolute_path)
            failures.append(f"line {number} ({topic}, {value.get('name')}): {best.message[:300]} at /{path}")
        else:
            counts[(topic, value["name"])] += 1
    total = sum(counts.values())
    kinds = sorted({name for (_, name) in counts})
    print(f"jsonschema (Python) validated {total} messages on {len({t for (t, _) in counts})} topics, "
          f"{len(kinds)} envelope kinds" + (": " + ", ".join(kinds) if len(kinds) <= 40 else ""))
    if failures:
        print(f"{len(failures)} INVALID messages:", file=sys.stderr)
        for failure in failures[:20]:
            print("  " + failure, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

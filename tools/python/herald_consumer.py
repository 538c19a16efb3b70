#!/usr/bin/env python3
"""A reference consumer of Herald's Kafka stream, written with kafka-python (not the client Herald produces with).

It reads every topic of a prefix to its current end and applies the consumer rule of docs/envelope.md to each
topic-partition on its own, in Kafka's order:

- epochs: for each of the headers `leader_epoch` (high availability; `LeaderEpoch` markers carry it too) and
  `run_epoch` (best mode, one node), keep the highest value the partition has shown; a message whose value is lower
  is a stale leader's or a previous run's late message and is discarded;
- upsert every envelope by `meta.id` (a message that comes again must be identical to the first);
- `BlockRetracted` deletes the ids of its `data.event_ids` that the partition holds (others are ignored).

It prints what a consumer holds then, as JSON: the live envelopes by id, and what broke the protocol.

    herald_consumer.py --brokers 127.0.0.1:9092 [--prefix herald] [--require-epochs] [--until JSON]

The node's own tests run it as an independent check of the stream (node/tests/e2e/ha/).
"""

import argparse
import json
import sys
import time

from kafka import KafkaConsumer, TopicPartition

MARKER = "LeaderEpoch"
EPOCH_HEADER = "leader_epoch"
# Each fences on its own: a stream may carry one, the other, or (across a change of deployment) both in turn.
FENCE_HEADERS = (EPOCH_HEADER, "run_epoch")


def stream_topics(consumer, prefix):
    """The topics of the stream: every topic of the prefix but a group's own (lease and state: not envelopes)."""
    return sorted(
        topic
        for topic in consumer.topics()
        if topic.startswith(prefix + ".") and not topic.endswith((".sink-lease", ".sink-state"))
    )


def read_all(consumer, partitions, idle_seconds, until=None):
    """Every record of `partitions` up to the end offsets they had when reading started (or those of `until`:
    "topic/partition" -> offset; a partition it leaves out is not read)."""
    ends = consumer.end_offsets(partitions)
    if until is not None:
        ends = {tp: min(ends[tp], until.get(f"{tp.topic}/{tp.partition}", 0)) for tp in partitions}
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    records = {tp: [] for tp in partitions}
    pending = {tp for tp in partitions if ends[tp] > 0}
    for tp in partitions:
        if ends[tp] == 0:
            consumer.pause(tp)
    last_progress = time.monotonic()
    while pending:
        batch = consumer.poll(timeout_ms=500)
        for tp, messages in batch.items():
            messages = [m for m in messages if m.offset < ends[tp]]
            records[tp].extend(messages)
            if messages and messages[-1].offset + 1 >= ends[tp]:
                pending.discard(tp)
                consumer.pause(tp)
            last_progress = time.monotonic()
        if time.monotonic() - last_progress > idle_seconds:
            missing = ", ".join(f"{tp.topic}[{tp.partition}]" for tp in sorted(pending))
            raise SystemExit(f"herald_consumer: no progress for {idle_seconds}s reading {missing}")
    return records


def apply_rule(records, require_epochs):
    """The consumer rule, per topic-partition. Returns (live ids -> where, counters, violations)."""
    live_all = {}
    discarded = retractions = duplicates = 0
    violations = []
    for tp in sorted(records):
        max_epochs = {}
        live = {}
        for message in records[tp]:
            place = f"{tp.topic}[{tp.partition}] offset {message.offset}"
            try:
                envelope = json.loads(message.value)
            except (TypeError, ValueError) as error:
                violations.append(f"{place}: not a JSON envelope ({error})")
                continue
            headers = {key: value.decode("utf-8", "replace") for key, value in (message.headers or [])}
            name = envelope.get("name")
            if require_epochs and EPOCH_HEADER not in headers:
                violations.append(f"{place}: no {EPOCH_HEADER} header")
            epochs = {key: int(headers[key]) for key in FENCE_HEADERS if key in headers}
            if any(key in max_epochs and epoch < max_epochs[key] for key, epoch in epochs.items()):
                discarded += 1
                continue
            for key, epoch in epochs.items():
                max_epochs[key] = max(epoch, max_epochs.get(key, epoch))
            if name == MARKER:
                continue
            if name == "BlockRetracted":
                ids = (envelope.get("data") or {}).get("event_ids")
                if not isinstance(ids, list):
                    violations.append(f"{place}: a BlockRetracted without data.event_ids")
                    continue
                for cancelled in ids:
                    live.pop(cancelled, None)
                retractions += 1
                continue
            event_id = (envelope.get("meta") or {}).get("id")
            if not event_id:
                violations.append(f"{place}: an envelope without meta.id")
                continue
            if event_id in live:
                duplicates += 1
                if live[event_id]["value"] != message.value:
                    violations.append(f"{place}: {event_id} came again with another value")
            block = ((envelope.get("meta") or {}).get("block") or {}).get("number")
            live[event_id] = {"topic": tp.topic, "partition": tp.partition, "offset": message.offset,
                              "name": name, "block": block, "value": message.value}
        for event_id, where in live.items():
            if event_id in live_all:
                violations.append(f"{event_id} is live in two partitions")
            live_all[event_id] = where
    for where in live_all.values():
        del where["value"]
    return live_all, {"discarded": discarded, "retractions": retractions, "duplicates": duplicates}, violations


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--brokers", required=True, help="bootstrap servers, host:port[,host:port]")
    parser.add_argument("--prefix", default="herald", help="the sink's --kafka-topic-prefix (default herald)")
    parser.add_argument("--require-epochs", action="store_true",
                        help="a high-availability group's stream: every message must carry a leader_epoch header")
    parser.add_argument("--until", type=json.loads, default=None,
                        help='read only up to these offsets (JSON: {"topic/partition": end offset}), e.g. to '
                             'compare with another consumer that read exactly that far')
    parser.add_argument("--idle-seconds", type=float, default=30.0,
                        help="give up when reading makes no progress for this long")
    args = parser.parse_args()
    consumer = KafkaConsumer(bootstrap_servers=args.brokers.split(","), enable_auto_commit=False,
                             consumer_timeout_ms=1000, client_id="herald-reference-consumer")
    topics = stream_topics(consumer, args.prefix)
    if not topics:
        raise SystemExit(f"herald_consumer: no topic {args.prefix}.* on {args.brokers}")
    partitions = [TopicPartition(topic, p) for topic in topics for p in sorted(consumer.partitions_for_topic(topic))]
    records = read_all(consumer, partitions, args.idle_seconds, args.until)
    consumer.close()
    live, counters, violations = apply_rule(records, args.require_epochs)
    json.dump({"topics": topics, "records": sum(len(r) for r in records.values()), "live": live,
               "violations": violations, **counters}, sys.stdout)
    print()


if __name__ == "__main__":
    main()

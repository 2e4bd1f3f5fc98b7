"""Confluent's Python client on the other side of Tributary's AvroConverter.

  consume BOOTSTRAP REGISTRY TOPIC COUNT   read COUNT records with Confluent's AvroDeserializer
                                           and print each as one JSON line (bytes as hex,
                                           decimals as text, dates and times as ISO text)
  produce BOOTSTRAP REGISTRY TOPIC COUNT   write COUNT records with Confluent's AvroSerializer
                                           (schema below, auto-registered) and print the schema id

Exit status is non-zero, with the reason on stderr, on any failure.
"""

import datetime
import decimal
import json
import sys

from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

READING_SCHEMA = json.dumps({
    "type": "record", "name": "Reading", "namespace": "iot.python",
    "doc": "a sensor reading written by Confluent's serializer",
    "fields": [
        {"name": "seq", "type": "long"},
        {"name": "sensor", "type": "string"},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["TEMP", "HUMIDITY", "PRESSURE"]}},
        {"name": "value", "type": "double"},
        {"name": "ratio", "type": "float"},
        {"name": "ok", "type": "boolean"},
        {"name": "count", "type": "int"},
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "either", "type": ["null", "long", "string"], "default": None},
        {"name": "raw", "type": "bytes"},
        {"name": "mac", "type": {"type": "fixed", "name": "Mac", "size": 6}},
        {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "attrs", "type": {"type": "map", "values": "int"}},
        {"name": "level", "type": "int", "default": 3},
    ],
})


def reading(i):
    return {
        "seq": i,
        "sensor": "sensor-%d/é" % (i % 7),
        "kind": ["TEMP", "HUMIDITY", "PRESSURE"][i % 3],
        "value": i * 0.5 - 10.25,
        "ratio": 0.5,
        "ok": i % 2 == 0,
        "count": -i,
        "note": None if i % 3 == 0 else "note %d" % i,
        "either": None if i % 3 == 0 else (i if i % 3 == 1 else "s%d" % i),
        "raw": bytes([i % 256, 0, 255]),
        "mac": bytes([1, 2, 3, 4, 5, i % 256]),
        "price": decimal.Decimal(i * 101 - 5000).scaleb(-2),
        "day": datetime.date(2024, 1, 1) + datetime.timedelta(days=i),
        "at": datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(milliseconds=i * 1001),
        "tags": ["t%d" % j for j in range(i % 3)],
        "attrs": {"a": i, "b": -i} if i % 2 else {},
        "level": i % 5,
    }


def plain(v):
    if isinstance(v, (bytes, bytearray)):
        return {"hex": v.hex()}
    if isinstance(v, decimal.Decimal):
        return {"decimal": str(v)}
    if isinstance(v, datetime.datetime):
        return {"epoch_ms": int(v.timestamp() * 1000)}
    if isinstance(v, datetime.date):
        return {"epoch_day": (v - datetime.date(1970, 1, 1)).days}
    if isinstance(v, datetime.time):
        return {"time": v.isoformat()}
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


def consume(bootstrap, registry, topic, count):
    sr = SchemaRegistryClient({"url": registry})
    deser = AvroDeserializer(sr)
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "py-" + topic, "auto.offset.reset": "earliest",
                  "enable.auto.commit": False})
    c.subscribe([topic])
    got = 0
    idle = 0
    while got < count and idle < 60:
        m = c.poll(1.0)
        if m is None:
            idle += 1
            continue
        if m.error():
            raise RuntimeError(str(m.error()))
        idle = 0
        ctx = SerializationContext(topic, MessageField.VALUE)
        value = deser(m.value(), ctx)
        schema_id = int.from_bytes(m.value()[1:5], "big")
        print(json.dumps({"schema_id": schema_id, "value": plain(value)}, sort_keys=True, ensure_ascii=False))
        got += 1
    c.close()
    if got < count:
        sys.exit("only %d of %d records arrived" % (got, count))


def produce(bootstrap, registry, topic, count):
    sr = SchemaRegistryClient({"url": registry})
    ser = AvroSerializer(sr, READING_SCHEMA, conf={"auto.register.schemas": True})
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for i in range(count):
        ctx = SerializationContext(topic, MessageField.VALUE)
        p.produce(topic, key=str(i).encode(), value=ser(reading(i), ctx))
        p.poll(0)
    if p.flush(30) != 0:
        sys.exit("records left unflushed")
    registered = sr.get_latest_version(topic + "-value")
    print(json.dumps({"schema_id": registered.schema_id, "records": [plain(reading(i)) for i in range(count)]}))


if __name__ == "__main__":
    cmd, bootstrap, registry, topic, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    {"consume": consume, "produce": produce}[cmd](bootstrap, registry, topic, count)

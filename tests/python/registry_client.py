"""Drives Tributary's schema registry with Confluent's own Python client.

Usage: registry_client.py URL SUBJECT_PREFIX

Exercises confluent_kafka.schema_registry.SchemaRegistryClient (confluent-kafka 2.16.1):
register (AVRO and JSON), lookup_schema, get_schema by id, get_versions, get_version,
get_latest_version, set/get compatibility and config, test_compatibility (compatible and not),
a 409 on an incompatible register, delete_version, delete_subject (soft, then permanent), and the
Avro serializer/deserializer round trip through the registry. Exits non-zero on the first
failed check, naming it.
"""

import json
import sys

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

URL, PREFIX = sys.argv[1], sys.argv[2]

USER_V1 = {
    "type": "record",
    "name": "User",
    "namespace": "com.example",
    "fields": [{"name": "name", "type": "string"}],
}
USER_V2 = dict(USER_V1, fields=USER_V1["fields"] + [{"name": "age", "type": "int", "default": 0}])
USER_BAD = dict(USER_V1, fields=[{"name": "name", "type": "string"}, {"name": "email", "type": "string"}])
ORDER_JSON = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "item": {"type": "string"}},
    "required": ["id"],
    "additionalProperties": False,
}


def check(ok, what):
    if not ok:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


def expect_error(code, what, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except SchemaRegistryError as e:
        check(e.error_code == code, f"{what}: error_code {e.error_code} == {code} ({e.error_message})")
        return e
    check(False, f"{what}: expected SchemaRegistryError {code}, got success")


client = SchemaRegistryClient({"url": URL})
users, orders = f"{PREFIX}-users-value", f"{PREFIX}-orders-value"

# Register AVRO and JSON.
v1 = Schema(json.dumps(USER_V1), "AVRO")
id1 = client.register_schema(users, v1)
check(id1 >= 1, f"register AVRO under {users} -> id {id1}")
id_json = client.register_schema(orders, Schema(json.dumps(ORDER_JSON), "JSON"))
check(id_json != id1, f"register JSON under {orders} -> id {id_json}")
check(client.register_schema(users, v1) == id1, "re-registering the same schema returns the same id")
check(client.register_schema(f"{PREFIX}-copy-value", v1) == id1, "the same schema under another subject gets the same id")
check(sorted(client.get_schema_types()) == ["AVRO", "JSON"], "get_schema_types")

# Lookup and read back.
found = client.lookup_schema(users, v1)
check((found.schema_id, found.version, found.subject) == (id1, 1, users), f"lookup_schema -> id {found.schema_id} version {found.version}")
expect_error(40403, "lookup of an unregistered schema", client.lookup_schema, users, Schema(json.dumps(USER_BAD), "AVRO"))
expect_error(40401, "lookup under an unknown subject", client.lookup_schema, f"{PREFIX}-nope", v1)
by_id = client.get_schema(id1)
check(json.loads(by_id.schema_str) == USER_V1 and by_id.schema_type == "AVRO", "get_schema by id returns the Avro schema")
json_by_id = SchemaRegistryClient({"url": URL}).get_schema(id_json)
check(json_by_id.schema_type == "JSON" and json.loads(json_by_id.schema_str) == ORDER_JSON, "get_schema by id returns the JSON schema and its type")
expect_error(40403, "get_schema of an unknown id", SchemaRegistryClient({"url": URL}).get_schema, 987654)

# Compatibility.
check(client.get_compatibility() == "BACKWARD", "global compatibility defaults to BACKWARD")
check(client.test_compatibility(users, Schema(json.dumps(USER_V2), "AVRO")), "adding a field with a default is BACKWARD compatible")
check(not client.test_compatibility(users, Schema(json.dumps(USER_BAD), "AVRO")), "adding a field without a default is not")
check(not client.test_compatibility_all_versions(users, Schema(json.dumps(USER_BAD), "AVRO")), "test_compatibility_all_versions agrees")
err = expect_error(409, "registering an incompatible schema", client.register_schema, users, Schema(json.dumps(USER_BAD), "AVRO"))
check("email" in err.error_message, "the 409 message names the offending field")
id2 = client.register_schema(users, Schema(json.dumps(USER_V2), "AVRO"))
check(id2 != id1, f"registering a compatible v2 -> id {id2}")
check(client.get_versions(users) == [1, 2], "get_versions -> [1, 2]")
check(client.get_version(users, 1).schema_id == id1, "get_version 1")
latest = client.get_latest_version(users)
check((latest.version, latest.schema_id) == (2, id2), "get_latest_version -> version 2")
client.set_compatibility(users, "FULL")
check(client.get_compatibility(users) == "FULL", "set_compatibility/get_compatibility on a subject")
check(client.get_config(users).compatibility_level.value == "FULL", "get_config on a subject")
expect_error(40408, "get_compatibility of a subject without its own level", client.get_compatibility, orders)
expect_error(42203, "set_compatibility to an unknown level", client.set_compatibility, users, "SIDEWAYS")

# Serializer and deserializer through the registry.
ctx = SerializationContext(f"{PREFIX}-users", MessageField.VALUE)
ser = AvroSerializer(client, json.dumps(USER_V2), conf={"auto.register.schemas": False, "use.latest.version": True})
payload = ser({"name": "ada", "age": 36}, ctx)
check(payload[0] == 0 and int.from_bytes(payload[1:5], "big") == id2, "AvroSerializer writes the Confluent wire format with the registry's id")
de = AvroDeserializer(SchemaRegistryClient({"url": URL}))
check(de(payload, ctx) == {"name": "ada", "age": 36}, "AvroDeserializer reads it back by id")

# Deletes.
check(client.delete_version(users, 2) == 2, "delete_version 2 (soft)")
check(client.get_versions(users) == [1], "a soft-deleted version is hidden")
check(SchemaRegistryClient({"url": URL}).get_schema(id2) is not None, "a soft-deleted version's id still resolves")
expect_error(40407, "permanent delete of a live version", client.delete_version, users, 1, permanent=True)
check(client.delete_version(users, 2, permanent=True) == 2, "delete_version 2 permanently after the soft delete")
check(client.delete_subject(orders) == [1], "delete_subject (soft)")
check(orders not in client.get_subjects(), "a soft-deleted subject is not listed")
expect_error(40404, "soft delete of a soft-deleted subject", client.delete_subject, orders)
check(client.delete_subject(orders, permanent=True) == [1], "delete_subject permanent=True")
expect_error(40401, "the permanently deleted subject is gone", client.get_versions, orders)
check(users in client.get_subjects(), "other subjects remain")
print("all checks passed")

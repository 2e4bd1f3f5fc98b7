// Writes golden vectors for Tributary's single message transforms and predicates: what Kafka
// Connect's own classes (connect-transforms 4.1.1) do with each record and config.
//   args[0]: vectors file, one JSON object per line:
//     {"plugin": class, "config": {...}, "input": record, "output": record | null (dropped)}
//     {"plugin": class, "config": {...}, "input": record, "error": message}        (apply threw)
//     {"plugin": class, "config": {...}, "config_error": message}                  (configure threw)
//     {"plugin": class, "config": {...}, "input": record, "result": bool}          (predicates)
//   args[1]: config definitions file: every plugin's ConfigDef keys, and validate() answers
//   for a few invalid configs.
// A record is {"kind": "source"|"sink", "topic", "partition", "offset", "timestamp", "key",
// "value", "headers": [{"key", "value"}]} where key, value and header values are Kafka's
// JsonConverter envelopes (schemas.enable=true) as JSON. Inputs are read back through the
// JsonConverter before the transform runs, so both sides transform exactly the same values.
// Run through scripts/smt-golden.sh.
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.*;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.transforms.Transformation;
import org.apache.kafka.connect.transforms.predicates.Predicate;

public class GenerateSmtVectors {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String P = "org.apache.kafka.connect.transforms.";
    private static final JsonConverter CONV = new JsonConverter();
    private static PrintStream out;

    static {
        CONV.configure(Collections.singletonMap("schemas.enable", "true"), false);
    }

    // ---- record (de)serialization -------------------------------------------------------
    private static JsonNode envelope(Schema schema, Object value) throws Exception {
        byte[] bytes = CONV.fromConnectData("t", schema, value);
        return bytes == null ? MAPPER.nullNode() : MAPPER.readTree(bytes);
    }

    private static SchemaAndValue readBack(JsonNode env) throws Exception {
        if (env.isNull()) return SchemaAndValue.NULL;
        return CONV.toConnectData("t", MAPPER.writeValueAsBytes(env));
    }

    private static ObjectNode serialize(ConnectRecord<?> r) throws Exception {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("kind", r instanceof SinkRecord ? "sink" : "source");
        n.put("topic", r.topic());
        if (r.kafkaPartition() == null) n.putNull("partition"); else n.put("partition", r.kafkaPartition());
        if (r instanceof SinkRecord) n.put("offset", ((SinkRecord) r).kafkaOffset());
        if (r.timestamp() == null) n.putNull("timestamp"); else n.put("timestamp", r.timestamp());
        n.set("key", envelope(r.keySchema(), r.key()));
        n.set("value", envelope(r.valueSchema(), r.value()));
        ArrayNode hs = n.putArray("headers");
        for (Header h : r.headers()) {
            ObjectNode hn = hs.addObject();
            hn.put("key", h.key());
            hn.set("value", envelope(h.schema(), h.value()));
        }
        return n;
    }

    private static ConnectRecord<?> deserialize(JsonNode n) throws Exception {
        SchemaAndValue k = readBack(n.get("key"));
        SchemaAndValue v = readBack(n.get("value"));
        ConnectHeaders headers = new ConnectHeaders();
        for (JsonNode h : n.get("headers")) headers.add(h.get("key").asText(), readBack(h.get("value")));
        Integer partition = n.get("partition").isNull() ? null : n.get("partition").asInt();
        Long ts = n.get("timestamp").isNull() ? null : n.get("timestamp").asLong();
        if (n.get("kind").asText().equals("sink")) {
            return new SinkRecord(n.get("topic").asText(), partition, k.schema(), k.value(), v.schema(), v.value(),
                n.get("offset").asLong(), ts, org.apache.kafka.common.record.TimestampType.CREATE_TIME, headers);
        }
        return new SourceRecord(null, null, n.get("topic").asText(), partition, k.schema(), k.value(), v.schema(),
            v.value(), ts, headers);
    }

    // ---- running plugins ----------------------------------------------------------------
    private static ObjectNode line(String plugin, Map<String, String> config) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("plugin", plugin);
        n.set("config", MAPPER.valueToTree(new TreeMap<>(config)));
        return n;
    }

    private static String message(Throwable e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void run(String simple, Map<String, String> config, List<ConnectRecord<?>> records) throws Exception {
        String cls = P + simple;
        Transformation t = (Transformation) Class.forName(cls).getDeclaredConstructor().newInstance();
        try {
            t.configure(config);
        } catch (Exception e) {
            ObjectNode n = line(cls, config);
            n.put("config_error", message(e));
            out.println(MAPPER.writeValueAsString(n));
            return;
        }
        for (ConnectRecord<?> original : records) {
            ObjectNode input = serialize(original);
            ConnectRecord<?> r = deserialize(input);
            ObjectNode n = line(cls, config);
            n.set("input", input);
            ConnectRecord<?> result;
            try {
                result = (ConnectRecord<?>) t.apply(r);
            } catch (Exception e) {
                n.put("error", message(e));
                out.println(MAPPER.writeValueAsString(n));
                continue;
            }
            try {
                if (result == null) n.putNull("output"); else n.set("output", serialize(result));
            } catch (Exception e) {
                // The transform's output is not a valid Connect record (a Java-only value type,
                // a value its schema rejects): Kafka fails only when converting it.
                n.put("output_error", message(e));
            }
            out.println(MAPPER.writeValueAsString(n));
        }
    }

    private static void run(String simple, Map<String, String> config, ConnectRecord<?>... records) throws Exception {
        run(simple, config, Arrays.asList(records));
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void test(String simple, Map<String, String> config, ConnectRecord<?>... records) throws Exception {
        String cls = P + "predicates." + simple;
        Predicate p = (Predicate) Class.forName(cls).getDeclaredConstructor().newInstance();
        try {
            p.configure(config);
        } catch (Exception e) {
            ObjectNode n = line(cls, config);
            n.put("config_error", message(e));
            out.println(MAPPER.writeValueAsString(n));
            return;
        }
        for (ConnectRecord<?> original : records) {
            ObjectNode input = serialize(original);
            ObjectNode n = line(cls, config);
            n.set("input", input);
            n.put("result", p.test(deserialize(input)));
            out.println(MAPPER.writeValueAsString(n));
        }
    }

    private static Map<String, String> cfg(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return m;
    }

    // ---- inputs ---------------------------------------------------------------------------
    static final Schema GEO = SchemaBuilder.struct().name("geo").field("lat", Schema.FLOAT64_SCHEMA)
        .field("lon", Schema.FLOAT64_SCHEMA).optional().build();
    static final Schema INFO = SchemaBuilder.struct().name("info").field("city", Schema.STRING_SCHEMA)
        .field("zip", Schema.OPTIONAL_INT32_SCHEMA).field("geo", GEO).build();
    static final Schema NESTED = SchemaBuilder.struct().name("com.example.Nested").version(2).doc("nested doc")
        .field("id", Schema.INT64_SCHEMA).field("info", INFO).field("note", Schema.OPTIONAL_STRING_SCHEMA)
        .field("dotted.name", Schema.OPTIONAL_STRING_SCHEMA).build();
    static final Schema FLAT = SchemaBuilder.struct().name("com.example.Flat").version(1)
        .field("id", Schema.INT32_SCHEMA)
        .field("name", Schema.OPTIONAL_STRING_SCHEMA)
        .field("amount", Schema.FLOAT64_SCHEMA)
        .field("ratio", Schema.OPTIONAL_FLOAT32_SCHEMA)
        .field("small", Schema.OPTIONAL_INT8_SCHEMA)
        .field("medium", Schema.OPTIONAL_INT16_SCHEMA)
        .field("active", Schema.BOOLEAN_SCHEMA)
        .field("score", SchemaBuilder.int64().optional().defaultValue(5L).build())
        .field("label", SchemaBuilder.string().optional().defaultValue("none").build())
        .field("data", Schema.OPTIONAL_BYTES_SCHEMA)
        .field("ts", Timestamp.builder().optional().build())
        .field("day", org.apache.kafka.connect.data.Date.builder().optional().build())
        .field("tm", Time.builder().optional().build())
        .field("price", Decimal.builder(2).optional().build())
        .field("tsstr", Schema.OPTIONAL_STRING_SCHEMA)
        .field("epoch", Schema.OPTIONAL_INT64_SCHEMA)
        .field("tags", SchemaBuilder.array(Schema.STRING_SCHEMA).optional().build())
        .field("attrs", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT32_SCHEMA).optional().build())
        .build();
    static final Schema KEY = SchemaBuilder.struct().name("com.example.Key").field("id", Schema.INT32_SCHEMA).build();

    static Struct flat(int id, boolean full) {
        Struct s = new Struct(FLAT).put("id", id).put("amount", 12.5).put("active", true);
        if (!full) return s;
        return s.put("name", "alice").put("ratio", 0.25f).put("small", (byte) -3).put("medium", (short) 300)
            .put("score", 42L).put("data", new byte[] {1, 2, 3, (byte) 255})
            .put("ts", new java.util.Date(1700000000123L)).put("day", new java.util.Date(19675L * 86400000L))
            .put("tm", new java.util.Date(45296789L)).put("price", new BigDecimal("123.45"))
            .put("tsstr", "2023-11-14 22:13:20").put("epoch", 1700000000123L)
            .put("tags", Arrays.asList("a", "b")).put("attrs", Collections.singletonMap("x", 1));
    }

    static Struct nested(boolean withGeo) {
        Struct info = new Struct(INFO).put("city", "Paris").put("zip", 75001);
        if (withGeo) info.put("geo", new Struct(GEO).put("lat", 48.85).put("lon", 2.35));
        return new Struct(NESTED).put("id", 7L).put("info", info).put("note", "hi").put("dotted.name", "dot");
    }

    static Map<String, Object> map() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", 1);
        m.put("name", "bob");
        m.put("amount", 2.5);
        m.put("active", true);
        m.put("nul", null);
        m.put("list", Arrays.asList(1, 2));
        m.put("epoch", 1700000000123L);
        m.put("tsstr", "2023-11-14 22:13:20");
        m.put("num", "17");
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("a", 1);
        inner.put("b", Collections.singletonMap("c", "deep"));
        m.put("nested", inner);
        m.put("dotted.name", "dot");
        return m;
    }

    static ConnectHeaders headers(String... kv) {
        ConnectHeaders h = new ConnectHeaders();
        for (int i = 0; i < kv.length; i += 2) h.addString(kv[i], kv[i + 1]);
        return h;
    }

    static SourceRecord src(String topic, Schema ks, Object k, Schema vs, Object v, Long ts, ConnectHeaders h) {
        return new SourceRecord(null, null, topic, null, ks, k, vs, v, ts, h);
    }

    static SinkRecord sink(String topic, Schema ks, Object k, Schema vs, Object v, Long ts, ConnectHeaders h) {
        return new SinkRecord(topic, 3, ks, k, vs, v, 1234L, ts, org.apache.kafka.common.record.TimestampType.CREATE_TIME, h);
    }

    static final SinkRecord FLAT_FULL = sink("orders", KEY, new Struct(KEY).put("id", 9), FLAT, flat(9, true),
        1700000000123L, headers("h1", "one", "h2", "two", "h1", "again"));
    static final SourceRecord FLAT_SPARSE = src("orders", Schema.STRING_SCHEMA, "k9", FLAT, flat(10, false),
        1600000000000L, headers("h1", "one"));
    static final SinkRecord NESTED_REC = sink("people", Schema.OPTIONAL_STRING_SCHEMA, "p7", NESTED, nested(true),
        1700000000123L, headers());
    static final SourceRecord NESTED_NO_GEO = src("people", null, null, NESTED, nested(false), null, headers("x", "y"));
    static final SinkRecord MAP_REC = sink("events", null, Collections.singletonMap("kid", 5), null, map(),
        1700000000123L, headers("h1", "one"));
    static final SourceRecord STRING_REC = src("logs", null, "key", Schema.STRING_SCHEMA, "just text", 86400000L,
        headers());
    static final SinkRecord TOMBSTONE = sink("events", Schema.STRING_SCHEMA, "gone", null, null, 1700000000123L,
        headers());
    static final SourceRecord NULL_WITH_SCHEMA = src("orders", null, null, SchemaBuilder.struct().name("com.example.Flat")
        .field("id", Schema.INT32_SCHEMA).optional().build(), null, 1700000000123L, headers());
    static final SinkRecord SCHEMALESS_STRING = sink("logs-2024", null, 42L, null, "free text", 1700000000123L,
        headers("h1", "one"));

    static final List<ConnectRecord<?>> ALL = Arrays.asList(FLAT_FULL, FLAT_SPARSE, NESTED_REC, NESTED_NO_GEO,
        MAP_REC, STRING_REC, TOMBSTONE, NULL_WITH_SCHEMA, SCHEMALESS_STRING);

    // ---- the vectors --------------------------------------------------------------------------
    static void vectors() throws Exception {
        for (String kv : new String[] {"Key", "Value"}) {
            run("Cast$" + kv, cfg("spec", "id:int64,amount:int32,active:string,score:float32"), ALL);
            run("Cast$" + kv, cfg("spec", "id:string,ts:string,day:string,tm:string,price:string,data:string"), FLAT_FULL);
            run("Cast$" + kv, cfg("spec", "small:boolean,medium:int8,ratio:float64,name:int16"), FLAT_FULL, FLAT_SPARSE);
            run("Cast$" + kv, cfg("spec", "ts:int64,day:int32,price:float64,epoch:float32", "replace.null.with.default", "false"), FLAT_FULL, FLAT_SPARSE);
            run("Cast$" + kv, cfg("spec", "int32"), ALL);
            run("Cast$" + kv, cfg("spec", "string"), ALL);
            run("Cast$" + kv, cfg("spec", "num:int32,name:boolean,amount:string,id:float64,nested:string"), MAP_REC);
            run("Cast$" + kv, cfg("spec", "label:int8"), FLAT_SPARSE);
            run("Cast$" + kv, cfg("spec", "name:int32"), FLAT_FULL);
            run("Cast$" + kv, cfg("spec", "id:bytes"));
            run("Cast$" + kv, cfg("spec", "id:int32,string"));
            run("Cast$" + kv, cfg("spec", "id:nope"));
            run("Cast$" + kv, cfg("spec", ""));
            run("Cast$" + kv, cfg("spec", "a:b:c"));

            run("ExtractField$" + kv, cfg("field", "id"), ALL);
            run("ExtractField$" + kv, cfg("field", "info.city", "field.syntax.version", "V2"), ALL);
            run("ExtractField$" + kv, cfg("field", "info.geo.lat", "field.syntax.version", "v2"), NESTED_REC, NESTED_NO_GEO);
            run("ExtractField$" + kv, cfg("field", "nested.b.c", "field.syntax.version", "V2"), MAP_REC);
            run("ExtractField$" + kv, cfg("field", "`dotted.name`", "field.syntax.version", "V2"), NESTED_REC, MAP_REC);
            run("ExtractField$" + kv, cfg("field", "dotted.name"), NESTED_REC, MAP_REC);
            run("ExtractField$" + kv, cfg("field", "score", "replace.null.with.default", "false"), FLAT_SPARSE, FLAT_FULL);
            run("ExtractField$" + kv, cfg("field", "score"), FLAT_SPARSE);
            run("ExtractField$" + kv, cfg("field", "missing"), FLAT_FULL, MAP_REC);
            run("ExtractField$" + kv, cfg("field", "info.nope", "field.syntax.version", "V2"), NESTED_REC);
            run("ExtractField$" + kv, cfg("field", "x", "field.syntax.version", "V3"));
            run("ExtractField$" + kv, cfg("field", "`a.b", "field.syntax.version", "V2"));

            run("Flatten$" + kv, cfg(), ALL);
            run("Flatten$" + kv, cfg("delimiter", "_"), NESTED_REC, NESTED_NO_GEO, MAP_REC);

            run("HeaderFrom$" + kv, cfg("fields", "id,name", "headers", "hid,hname", "operation", "copy"), ALL);
            run("HeaderFrom$" + kv, cfg("fields", "id,score,info", "headers", "hid,hscore,hinfo", "operation", "move"), FLAT_FULL, FLAT_SPARSE, NESTED_REC);
            run("HeaderFrom$" + kv, cfg("fields", "score", "headers", "s", "operation", "move", "replace.null.with.default", "false"), FLAT_SPARSE);
            run("HeaderFrom$" + kv, cfg("fields", "id,name,nope", "headers", "a,b,c", "operation", "move"), MAP_REC);
            run("HeaderFrom$" + kv, cfg("fields", "id,name", "headers", "a", "operation", "move"));
            run("HeaderFrom$" + kv, cfg("fields", "id", "headers", "a", "operation", "MOVE"));

            run("HoistField$" + kv, cfg("field", "wrapped"), ALL);

            run("InsertField$" + kv, cfg("topic.field", "t", "partition.field", "p!", "offset.field", "o?",
                "timestamp.field", "ts", "static.field", "s", "static.value", "v"), FLAT_FULL, NESTED_REC, MAP_REC, TOMBSTONE);
            run("InsertField$" + kv, cfg("topic.field", "t!", "partition.field", "p", "timestamp.field", "ts!"), ALL);
            run("InsertField$" + kv, cfg("offset.field", "o"), FLAT_SPARSE, NESTED_NO_GEO);
            run("InsertField$" + kv, cfg("static.field", "s", "replace.null.with.default", "false"), FLAT_SPARSE);
            run("InsertField$" + kv, cfg("static.field", "s"));
            run("InsertField$" + kv, cfg());

            run("MaskField$" + kv, cfg("fields", "id,name,amount,ratio,small,medium,active,score,ts,day,tm,price,tags,attrs"), FLAT_FULL, FLAT_SPARSE);
            run("MaskField$" + kv, cfg("fields", "id,name,amount,active,nested,list,nul"), MAP_REC);
            run("MaskField$" + kv, cfg("fields", "id,amount,small,medium,ratio,epoch", "replacement", "12"), FLAT_FULL, MAP_REC);
            run("MaskField$" + kv, cfg("fields", "name,tsstr", "replacement", "****"), FLAT_FULL, MAP_REC);
            run("MaskField$" + kv, cfg("fields", "price", "replacement", "9.99"), FLAT_FULL);
            run("MaskField$" + kv, cfg("fields", "id", "replacement", "abc"), FLAT_FULL, MAP_REC);
            run("MaskField$" + kv, cfg("fields", "active", "replacement", "x"), FLAT_FULL);
            run("MaskField$" + kv, cfg("fields", "data"), FLAT_FULL);
            run("MaskField$" + kv, cfg("fields", "score", "replace.null.with.default", "false"), FLAT_SPARSE);
            run("MaskField$" + kv, cfg("fields", "id"), STRING_REC, TOMBSTONE, NULL_WITH_SCHEMA, SCHEMALESS_STRING);
            run("MaskField$" + kv, cfg("fields", "id", "replacement", ""));

            run("ReplaceField$" + kv, cfg("exclude", "amount,info", "renames", "id:ident,name:who"), ALL);
            run("ReplaceField$" + kv, cfg("include", "id,score,label,nested", "renames", "score:points"), FLAT_SPARSE, MAP_REC);
            run("ReplaceField$" + kv, cfg("include", "score", "replace.null.with.default", "false"), FLAT_SPARSE);
            run("ReplaceField$" + kv, cfg("renames", "id"));

            run("SetSchemaMetadata$" + kv, cfg("schema.name", "com.example.Renamed", "schema.version", "7"), ALL);
            run("SetSchemaMetadata$" + kv, cfg("schema.version", "3", "replace.null.with.default", "false"), FLAT_SPARSE);
            run("SetSchemaMetadata$" + kv, cfg());
            run("SetSchemaMetadata$" + kv, cfg("schema.version", "x"));

            run("TimestampConverter$" + kv, cfg("field", "ts", "target.type", "string", "format", "yyyy-MM-dd'T'HH:mm:ss.SSSZ"), FLAT_FULL, FLAT_SPARSE);
            run("TimestampConverter$" + kv, cfg("field", "ts", "target.type", "unix", "unix.precision", "seconds"), FLAT_FULL);
            run("TimestampConverter$" + kv, cfg("field", "ts", "target.type", "Date"), FLAT_FULL);
            run("TimestampConverter$" + kv, cfg("field", "ts", "target.type", "Time"), FLAT_FULL);
            run("TimestampConverter$" + kv, cfg("field", "day", "target.type", "Timestamp"), FLAT_FULL);
            run("TimestampConverter$" + kv, cfg("field", "tm", "target.type", "unix"), FLAT_FULL);
            run("TimestampConverter$" + kv, cfg("field", "epoch", "target.type", "Timestamp"), FLAT_FULL, FLAT_SPARSE, MAP_REC);
            run("TimestampConverter$" + kv, cfg("field", "epoch", "target.type", "string", "format", "EEE, d MMM yyyy HH:mm:ss.SSS a", "unix.precision", "microseconds"), FLAT_FULL, MAP_REC);
            run("TimestampConverter$" + kv, cfg("field", "epoch", "target.type", "unix", "unix.precision", "nanoseconds"), FLAT_FULL, MAP_REC);
            run("TimestampConverter$" + kv, cfg("field", "tsstr", "target.type", "Timestamp", "format", "yyyy-MM-dd HH:mm:ss"), FLAT_FULL, MAP_REC);
            run("TimestampConverter$" + kv, cfg("field", "tsstr", "target.type", "unix", "format", "yyyy-MM-dd"), FLAT_FULL);
            run("TimestampConverter$" + kv, cfg("field", "tsstr", "target.type", "Date", "format", "dd/MM/yyyy"), FLAT_FULL);
            run("TimestampConverter$" + kv, cfg("field", "name", "target.type", "Date"), FLAT_FULL);
            run("TimestampConverter$" + kv, cfg("field", "nested", "target.type", "Date"), MAP_REC);
            run("TimestampConverter$" + kv, cfg("target.type", "Timestamp", "unix.precision", "milliseconds"), SCHEMALESS_STRING, TOMBSTONE, MAP_REC);
            run("TimestampConverter$" + kv, cfg("target.type", "string", "format", "yyyyMMddHHmmss"), SCHEMALESS_STRING, STRING_REC);
            run("TimestampConverter$" + kv, cfg("field", "score", "target.type", "string", "format", "yy-M-d H:m:s.S", "replace.null.with.default", "false"), FLAT_SPARSE, FLAT_FULL);
            run("TimestampConverter$" + kv, cfg("target.type", "string"));
            run("TimestampConverter$" + kv, cfg("target.type", "date"));
            run("TimestampConverter$" + kv, cfg("target.type", "unix", "unix.precision", "minutes"));
        }
        run("Cast$Value", cfg("spec", "string"), sink("t", null, null, Schema.FLOAT32_SCHEMA, 1.5e10f, 1L, headers()),
            sink("t", null, null, Schema.FLOAT64_SCHEMA, 0.1, 1L, headers()),
            sink("t", null, null, Schema.BYTES_SCHEMA, new byte[] {104, 105}, 1L, headers()),
            sink("t", null, null, Timestamp.SCHEMA, new java.util.Date(-1000L), 1L, headers()),
            sink("t", null, null, Decimal.schema(3), new BigDecimal("-1.230"), 1L, headers()),
            sink("t", null, null, SchemaBuilder.int32().defaultValue(3).optional().build(), null, 1L, headers()));
        run("Cast$Value", cfg("spec", "int8"), sink("t", null, null, Schema.INT64_SCHEMA, 300L, 1L, headers()),
            sink("t", null, null, Schema.FLOAT64_SCHEMA, -1.9e20, 1L, headers()),
            sink("t", null, null, Schema.STRING_SCHEMA, "128", 1L, headers()),
            sink("t", null, null, Schema.STRING_SCHEMA, " 12", 1L, headers()),
            sink("t", null, null, Schema.BOOLEAN_SCHEMA, true, 1L, headers()),
            sink("t", null, null, SchemaBuilder.array(Schema.INT32_SCHEMA).build(), Arrays.asList(1), 1L, headers()));
        run("Cast$Value", cfg("spec", "boolean"), sink("t", null, null, Schema.STRING_SCHEMA, "TRUE", 1L, headers()),
            sink("t", null, null, Schema.FLOAT64_SCHEMA, 0.5, 1L, headers()),
            sink("t", null, null, null, "yes", 1L, headers()));
        run("Cast$Value", cfg("spec", "float32"), sink("t", null, null, Schema.STRING_SCHEMA, "1e3", 1L, headers()),
            sink("t", null, null, Schema.INT64_SCHEMA, 123456789012L, 1L, headers()),
            sink("t", null, null, Schema.STRING_SCHEMA, "NaN", 1L, headers()));
        run("Cast$Value", cfg("spec", "int64"), sink("t", null, null, Schema.FLOAT64_SCHEMA, 1.0e30, 1L, headers()),
            sink("t", null, null, Schema.FLOAT64_SCHEMA, Double.NaN, 1L, headers()),
            sink("t", null, null, Schema.STRING_SCHEMA, "+5", 1L, headers()),
            sink("t", null, null, Timestamp.SCHEMA, new java.util.Date(1700000000123L), 1L, headers()),
            sink("t", null, null, org.apache.kafka.connect.data.Date.SCHEMA, new java.util.Date(86400000L), 1L, headers()));

        run("DropHeaders", cfg("headers", "h1,x"), ALL);
        run("DropHeaders", cfg("headers", "nope"), FLAT_FULL);
        run("DropHeaders", cfg("headers", ""));
        run("Filter", cfg(), FLAT_FULL, TOMBSTONE);
        run("InsertHeader", cfg("header", "added", "value.literal", "hello"), FLAT_FULL, TOMBSTONE);
        for (String lit : new String[] {"42", "-7", "3000000000", "2.5", "true", "FALSE", "null", "[1,2,3]", "{\"a\":1}",
            "2023-11-14", "22:13:20.123", "2023-11-14T22:13:20.123Z", "not a number", "", "  padded  ", "1e3",
            "[1,\"a\"]", "{a:b}", "12345678901234567890", "1.5e400", "9223372036854775807", "127", "-129", "32768",
            "[]", "{}", "\"quoted\"", "[1,2", "0.1"}) {
            run("InsertHeader", cfg("header", "h", "value.literal", lit), STRING_REC);
        }
        run("InsertHeader", cfg("header", "h"));

        run("RegexRouter", cfg("regex", "(.*)s", "replacement", "$1-routed"), ALL);
        run("RegexRouter", cfg("regex", "ord(er)s", "replacement", "x$1y$1"), FLAT_FULL, MAP_REC);
        run("RegexRouter", cfg("regex", "logs-(\\d+)", "replacement", "archive_$1_\\$"), SCHEMALESS_STRING, STRING_REC);
        run("RegexRouter", cfg("regex", "(?<name>[a-z]+)", "replacement", "${name}!"), FLAT_FULL, SCHEMALESS_STRING);
        run("RegexRouter", cfg("regex", "e", "replacement", "E"), MAP_REC);
        run("RegexRouter", cfg("regex", ".*", "replacement", ""), MAP_REC);
        run("RegexRouter", cfg("regex", "(", "replacement", "x"));

        run("TimestampRouter", cfg(), ALL);
        run("TimestampRouter", cfg("topic.format", "${timestamp}_${topic}_${topic}", "timestamp.format", "yyyy-MM-dd'T'HH.mm.ss.SSS"), FLAT_FULL, STRING_REC);
        run("TimestampRouter", cfg("timestamp.format", "YYYY-ww-u EEE MMM dd h a"), FLAT_FULL, FLAT_SPARSE);
        run("TimestampRouter", cfg("topic.format", "$1{topic}", "timestamp.format", "D"), FLAT_FULL);

        run("ValueToKey", cfg("fields", "id,name"), ALL);
        run("ValueToKey", cfg("fields", "id,score", "replace.null.with.default", "false"), FLAT_SPARSE);
        run("ValueToKey", cfg("fields", "score"), FLAT_SPARSE);
        run("ValueToKey", cfg("fields", "nope"), FLAT_FULL, MAP_REC);
        run("ValueToKey", cfg("fields", ""));

        test("HasHeaderKey", cfg("name", "h1"), FLAT_FULL, NESTED_REC, MAP_REC);
        test("HasHeaderKey", cfg("name", ""));
        test("RecordIsTombstone", cfg(), FLAT_FULL, TOMBSTONE, NULL_WITH_SCHEMA);
        test("TopicNameMatches", cfg("pattern", "ord.*"), FLAT_FULL, MAP_REC);
        test("TopicNameMatches", cfg("pattern", "logs-\\d{4}"), STRING_REC, SCHEMALESS_STRING);
        test("TopicNameMatches", cfg("pattern", "[a-"));
    }

    // ---- config definitions -----------------------------------------------------------------
    static final String[] PLUGINS = {"Cast$Key", "Cast$Value", "DropHeaders", "ExtractField$Key", "ExtractField$Value",
        "Filter", "Flatten$Key", "Flatten$Value", "HeaderFrom$Key", "HeaderFrom$Value", "HoistField$Key",
        "HoistField$Value", "InsertField$Key", "InsertField$Value", "InsertHeader", "MaskField$Key", "MaskField$Value",
        "RegexRouter", "ReplaceField$Key", "ReplaceField$Value", "SetSchemaMetadata$Key", "SetSchemaMetadata$Value",
        "TimestampConverter$Key", "TimestampConverter$Value", "TimestampRouter", "ValueToKey",
        "predicates.HasHeaderKey", "predicates.RecordIsTombstone", "predicates.TopicNameMatches"};

    static final Map<String, List<Map<String, String>>> INVALID = new LinkedHashMap<>();
    static {
        INVALID.put("Cast$Value", Arrays.asList(cfg(), cfg("spec", "a:b:c"), cfg("spec", "x:bytes"), cfg("spec", ""),
            cfg("spec", "int8,a:int16"), cfg("spec", "x:int8", "replace.null.with.default", "maybe")));
        INVALID.put("DropHeaders", Arrays.asList(cfg(), cfg("headers", "")));
        INVALID.put("ExtractField$Value", Arrays.asList(cfg(), cfg("field", "a", "field.syntax.version", "V9")));
        INVALID.put("HeaderFrom$Value", Arrays.asList(cfg(), cfg("fields", "", "headers", "", "operation", "Move")));
        INVALID.put("InsertHeader", Arrays.asList(cfg()));
        INVALID.put("MaskField$Value", Arrays.asList(cfg(), cfg("fields", "a", "replacement", "")));
        INVALID.put("RegexRouter", Arrays.asList(cfg(), cfg("regex", "(", "replacement", "x"), cfg("regex", "a{2,1}", "replacement", "x")));
        INVALID.put("ReplaceField$Value", Arrays.asList(cfg("renames", "a"), cfg("renames", "a:b,c:d:e")));
        INVALID.put("SetSchemaMetadata$Value", Arrays.asList(cfg("schema.version", "x")));
        INVALID.put("TimestampConverter$Value", Arrays.asList(cfg(), cfg("target.type", "date", "unix.precision", "Seconds")));
        INVALID.put("ValueToKey", Arrays.asList(cfg(), cfg("fields", "")));
        INVALID.put("predicates.HasHeaderKey", Arrays.asList(cfg(), cfg("name", "")));
        INVALID.put("predicates.TopicNameMatches", Arrays.asList(cfg(), cfg("pattern", ""), cfg("pattern", "[a-")));
    }

    static String str(Object o) {
        return o == null ? null : o.toString();
    }

    static void configDefs() throws Exception {
        ObjectNode root = MAPPER.createObjectNode();
        for (String simple : PLUGINS) {
            Object plugin = Class.forName(P + simple).getDeclaredConstructor().newInstance();
            ConfigDef def = plugin instanceof Transformation ? ((Transformation<?>) plugin).config() : ((Predicate<?>) plugin).config();
            ObjectNode n = root.putObject(P + simple);
            ArrayNode keys = n.putArray("keys");
            for (ConfigDef.ConfigKey k : def.configKeys().values()) {
                ObjectNode kn = keys.addObject();
                kn.put("name", k.name);
                kn.put("type", k.type.name());
                kn.put("required", !k.hasDefault());
                kn.put("default_value", k.hasDefault() ? ConfigDef.convertToString(k.defaultValue, k.type) : null);
                kn.put("importance", k.importance.name());
                kn.put("documentation", k.documentation);
                kn.put("group", k.group);
                kn.put("order_in_group", k.orderInGroup);
                kn.put("width", k.width.name());
                kn.put("display_name", k.displayName);
                kn.put("validator", str(k.validator));
                kn.set("dependents", MAPPER.valueToTree(k.dependents));
            }
            ArrayNode invalid = n.putArray("validate");
            for (Map<String, String> c : INVALID.getOrDefault(simple, Collections.emptyList())) {
                ObjectNode vn = invalid.addObject();
                vn.set("config", MAPPER.valueToTree(new TreeMap<>(c)));
                ObjectNode errs = vn.putObject("errors");
                for (ConfigValue cv : def.validate(c)) errs.set(cv.name(), MAPPER.valueToTree(cv.errorMessages()));
            }
        }
        out.println(MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(root));
    }

    public static void main(String[] args) throws Exception {
        try (PrintStream vectors = new PrintStream(args[0], StandardCharsets.UTF_8)) {
            out = vectors;
            vectors();
        }
        try (PrintStream defs = new PrintStream(args[1], StandardCharsets.UTF_8)) {
            out = defs;
            configDefs();
        }
    }
}

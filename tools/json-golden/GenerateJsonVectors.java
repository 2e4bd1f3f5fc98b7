// Writes golden vectors for Tributary's JsonConverter: what Kafka Connect's own JsonConverter
// writes for every Connect type and logical type, one JSON object per line:
//   {"name": case, "schemas_enable": bool, "decimal_format": "BASE64"|"NUMERIC", "bytes": text or null,
//    "readback": text}   (readback: Kafka's reading of "bytes", written again with schemas.enable=true)
// Run through scripts/json-golden.sh, which compiles this against connect-json from Maven Central.
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.connect.data.*;
import org.apache.kafka.connect.json.JsonConverter;

public class GenerateJsonVectors {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String TOPIC = "golden";

    private static JsonConverter converter(boolean schemas, String decimalFormat) {
        JsonConverter c = new JsonConverter();
        Map<String, Object> cfg = new HashMap<>();
        cfg.put("schemas.enable", Boolean.toString(schemas));
        cfg.put("decimal.format", decimalFormat);
        c.configure(cfg, false);
        return c;
    }

    private static String text(byte[] bytes) {
        return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
    }

    private static void emit(String name, Schema schema, Object value) throws Exception {
        for (String format : new String[] {"BASE64", "NUMERIC"}) {
            boolean decimal = containsDecimal(schema);
            if (format.equals("NUMERIC") && !decimal) continue;
            for (boolean schemas : new boolean[] {true, false}) {
                JsonConverter c = converter(schemas, format);
                byte[] bytes = c.fromConnectData(TOPIC, schema, value);
                String readback = null;
                if (bytes != null) {
                    SchemaAndValue back = c.toConnectData(TOPIC, bytes);
                    readback = text(converter(true, format).fromConnectData(TOPIC, back.schema(), back.value()));
                }
                Map<String, Object> line = new LinkedHashMap<>();
                line.put("name", name);
                line.put("schemas_enable", schemas);
                line.put("decimal_format", format);
                line.put("bytes", text(bytes));
                line.put("readback", readback);
                System.out.println(MAPPER.writeValueAsString(line));
            }
        }
    }

    private static boolean containsDecimal(Schema s) {
        if (s == null) return false;
        if (Decimal.LOGICAL_NAME.equals(s.name())) return true;
        switch (s.type()) {
            case ARRAY: return containsDecimal(s.valueSchema());
            case MAP: return containsDecimal(s.keySchema()) || containsDecimal(s.valueSchema());
            case STRUCT:
                for (Field f : s.fields()) if (containsDecimal(f.schema())) return true;
                return false;
            default: return false;
        }
    }

    public static void main(String[] args) throws Exception {
        emit("int8", Schema.INT8_SCHEMA, (byte) -12);
        emit("int16", Schema.INT16_SCHEMA, (short) 12345);
        emit("int32", Schema.INT32_SCHEMA, Integer.MIN_VALUE);
        emit("int64", Schema.INT64_SCHEMA, Long.MAX_VALUE);
        float[] floats = {12.34f, 0.1f, 1.0e10f, 1.17549435E-38f, 3.4028235e38f, -2.5e-5f, 100f, 0.001f, 1234567.0f};
        for (int i = 0; i < floats.length; i++) emit("float32_" + i, Schema.FLOAT32_SCHEMA, floats[i]);
        double[] doubles = {3.141592653589793, 0.1, 1.0e-5, 1.0e21, 100.0, -0.0, 1.0e7, 9999999.999, 0.001, 4.9e-324,
            1.7976931348623157e308, 123456789.125, 2.0e-3, 1.0e-3};
        for (int i = 0; i < doubles.length; i++) emit("float64_" + i, Schema.FLOAT64_SCHEMA, doubles[i]);
        emit("float64_nan", Schema.FLOAT64_SCHEMA, Double.NaN);
        emit("float64_infinity", Schema.FLOAT64_SCHEMA, Double.POSITIVE_INFINITY);
        emit("float64_negative_infinity", Schema.FLOAT64_SCHEMA, Double.NEGATIVE_INFINITY);
        emit("float32_nan", Schema.FLOAT32_SCHEMA, Float.NaN);
        emit("boolean", Schema.BOOLEAN_SCHEMA, true);
        emit("string", Schema.STRING_SCHEMA, "hello");
        emit("string_escapes", Schema.STRING_SCHEMA,
            "quote\" backslash\\ slash/ nl\n cr\r tab\t bs\b ff\f ctl\u0001\u001f del\u007f é ✓ 😀 \u2028");
        emit("string_empty", Schema.STRING_SCHEMA, "");
        emit("bytes", Schema.BYTES_SCHEMA, new byte[] {0, 1, 2, (byte) 255, 127, -128});
        emit("bytes_empty", Schema.BYTES_SCHEMA, new byte[0]);
        emit("optional_null", Schema.OPTIONAL_STRING_SCHEMA, null);
        emit("default_used_for_null", SchemaBuilder.int32().defaultValue(42).build(), null);
        emit("optional_default_value_set", SchemaBuilder.string().optional().defaultValue("d").build(), "x");
        emit("named", SchemaBuilder.string().name("com.example.Name").version(3).doc("the doc")
            .parameter("b", "2").parameter("a", "1").build(), "v");
        emit("array", SchemaBuilder.array(Schema.INT32_SCHEMA).build(), Arrays.asList(1, 2, 3));
        emit("array_optional_items", SchemaBuilder.array(Schema.OPTIONAL_STRING_SCHEMA).build(),
            Arrays.asList("a", null, "c"));
        emit("array_empty", SchemaBuilder.array(Schema.INT64_SCHEMA).build(), Collections.emptyList());
        Map<String, Integer> sm = new LinkedHashMap<>();
        sm.put("one", 1);
        emit("map_string_keys", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT32_SCHEMA).build(), sm);
        Map<Integer, String> im = new LinkedHashMap<>();
        im.put(1, "one");
        im.put(2, "two");
        emit("map_int_keys", SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.STRING_SCHEMA).build(), im);
        emit("map_empty", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.STRING_SCHEMA).build(), Collections.emptyMap());

        Schema address = SchemaBuilder.struct().name("ksql.address").field("city", Schema.STRING_SCHEMA)
            .field("zip", Schema.OPTIONAL_INT64_SCHEMA).build();
        Schema order = SchemaBuilder.struct().name("ksql.orders").version(1).doc("an order")
            .field("id", Schema.INT32_SCHEMA)
            .field("units", Schema.FLOAT64_SCHEMA)
            .field("tags", SchemaBuilder.array(Schema.STRING_SCHEMA).optional().build())
            .field("address", address)
            .field("note", Schema.OPTIONAL_STRING_SCHEMA)
            .field("flag", SchemaBuilder.bool().defaultValue(true).build())
            .build();
        Struct addr = new Struct(address).put("city", "City_12");
        Struct o = new Struct(order).put("id", 7).put("units", 2.5).put("tags", Arrays.asList("x", "y"))
            .put("address", addr);
        emit("struct_nested", order, o);
        emit("struct_optional_null", SchemaBuilder.struct().name("opt").field("a", Schema.INT32_SCHEMA).optional().build(), null);

        Schema dec = Decimal.schema(2);
        emit("decimal", dec, new BigDecimal("123.45"));
        emit("decimal_negative", dec, new BigDecimal("-0.01"));
        emit("decimal_large", Decimal.schema(3), new BigDecimal("12345678901234567890.123"));
        emit("decimal_in_struct", SchemaBuilder.struct().field("price", Decimal.builder(4).optional().build()).build(),
            new Struct(SchemaBuilder.struct().field("price", Decimal.builder(4).optional().build()).build())
                .put("price", new BigDecimal("-98765.4321")));
        emit("date", Date.SCHEMA, Date.toLogical(Date.SCHEMA, 19000));
        emit("time", Time.SCHEMA, Time.toLogical(Time.SCHEMA, 45296789));
        emit("timestamp", Timestamp.SCHEMA, Timestamp.toLogical(Timestamp.SCHEMA, 1700000000123L));
        emit("timestamp_optional_null", Timestamp.builder().optional().build(), null);

        // Shapes from Kafka's JsonConverterTest.
        emit("array_of_arrays", SchemaBuilder.array(SchemaBuilder.array(Schema.INT8_SCHEMA).build()).build(),
            Arrays.asList(Arrays.asList((byte) 1, (byte) 2), Collections.emptyList()));
        Schema point = SchemaBuilder.struct().name("point").field("x", Schema.FLOAT32_SCHEMA).field("y", Schema.FLOAT32_SCHEMA).build();
        Map<String, Struct> points = new LinkedHashMap<>();
        points.put("origin", new Struct(point).put("x", 0.0f).put("y", 0.0f));
        points.put("ünï", new Struct(point).put("x", -1.5f).put("y", 2.25f));
        emit("map_of_structs", SchemaBuilder.map(Schema.STRING_SCHEMA, point).build(), points);
        Map<Struct, Integer> structKeys = new LinkedHashMap<>();
        structKeys.put(new Struct(point).put("x", 1.0f).put("y", 2.0f), 12);
        emit("map_struct_keys", SchemaBuilder.map(point, Schema.INT32_SCHEMA).build(), structKeys);
        emit("struct_empty", SchemaBuilder.struct().name("empty").build(), new Struct(SchemaBuilder.struct().name("empty").build()));
        Schema withOptStruct = SchemaBuilder.struct().field("p", SchemaBuilder.struct().name("inner").field("a", Schema.STRING_SCHEMA).optional().build())
            .field("é field", Schema.OPTIONAL_BOOLEAN_SCHEMA).build();
        emit("struct_optional_struct_unset", withOptStruct, new Struct(withOptStruct));
        emit("date_optional_default", Date.builder().optional().defaultValue(Date.toLogical(Date.SCHEMA, 0)).build(), null);
        emit("time_midnight", Time.SCHEMA, Time.toLogical(Time.SCHEMA, 0));
        emit("timestamp_negative", Timestamp.SCHEMA, Timestamp.toLogical(Timestamp.SCHEMA, -86400000L));
        emit("int64_default_map", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT64_SCHEMA).defaultValue(Collections.singletonMap("k", 1L)).build(), null);
        emit("schemaless_string", null, "free text");
        emit("schemaless_number", null, 42L);
        emit("schemaless_double", null, 2.75);
        emit("schemaless_list", null, Arrays.asList(1L, "two", true));
        emit("schemaless_map", null, Collections.singletonMap("k", Arrays.asList(1L, 2L)));
        emit("schemaless_null", null, null);
        emit("schemaless_list_of_maps", null, Arrays.asList(Collections.singletonMap("a", 1L), Collections.singletonMap("b", null)));
        emit("schemaless_bytes", null, new byte[] {9, 8, 7});
        emit("schemaless_boolean", null, false);
    }
}

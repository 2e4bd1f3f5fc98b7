// Writes golden vectors for Tributary's converters that Kafka Connect also uses as header
// converters (Boolean, Short, Integer, Long, Float, Double, ByteArray, String, and Json as a
// header converter), made by Kafka Connect 4.1.1's own classes. One JSON object per line:
//   {"kind":"plugin", "type":"converter"|"header_converter", "class"}        (ServiceLoader, as
//        Kafka Connect's plugin scan finds them)
//   {"kind":"config", "class", "name", "type", "default", "required", "importance",
//        "documentation", "group", "order_in_group", "width", "display_name",
//        "validator"}                                                         (each class's config())
//   {"kind":"write", "class", "as":"converter"|"header", "config", "schema", "value",
//        "bytes", "error", "cause", "cause_class"}                            (fromConnectData/Header)
//   {"kind":"read", "class", "as", "config", "bytes", "schema", "value", "error", "cause",
//        "cause_class"}                                                       (toConnectData/Header)
// Values: null or {"t": connect type, "v": ...}; floats as the hex of their raw bits, bytes as hex.
// Run through tools/number-golden/run.sh.
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.data.*;
import org.apache.kafka.connect.storage.*;

public class GeneratePrimitiveVectors {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String TOPIC = "golden";
    private static final String PKG = "org.apache.kafka.connect.converters.";

    private static void print(Map<String, Object> line) throws Exception {
        System.out.println(MAPPER.writeValueAsString(line));
    }

    private static String hex(byte[] b) {
        if (b == null) return null;
        StringBuilder sb = new StringBuilder();
        for (byte x : b) sb.append(String.format("%02x", x & 0xff));
        return sb.toString();
    }

    private static byte[] unhex(String s) {
        byte[] out = new byte[s.length() / 2];
        for (int i = 0; i < out.length; i++) out[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        return out;
    }

    private static Object value(Object v) {
        if (v == null) return null;
        Map<String, Object> m = new LinkedHashMap<>();
        if (v instanceof Byte) { m.put("t", "int8"); m.put("v", v.toString()); }
        else if (v instanceof Short) { m.put("t", "int16"); m.put("v", v.toString()); }
        else if (v instanceof Integer) { m.put("t", "int32"); m.put("v", v.toString()); }
        else if (v instanceof Long) { m.put("t", "int64"); m.put("v", v.toString()); }
        else if (v instanceof Float) { m.put("t", "float32"); m.put("v", String.format("%08x", Float.floatToRawIntBits((Float) v))); }
        else if (v instanceof Double) { m.put("t", "float64"); m.put("v", String.format("%016x", Double.doubleToRawLongBits((Double) v))); }
        else if (v instanceof Boolean) { m.put("t", "boolean"); m.put("v", v.toString()); }
        else if (v instanceof String) { m.put("t", "string"); m.put("v", v); }
        else if (v instanceof byte[]) { m.put("t", "bytes"); m.put("v", hex((byte[]) v)); }
        else if (v instanceof List) {
            List<Object> items = new ArrayList<>();
            for (Object o : (List<?>) v) items.add(value(o));
            m.put("t", "array"); m.put("v", items);
        } else if (v instanceof Map) {
            List<Object> entries = new ArrayList<>();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) entries.add(Arrays.asList(value(e.getKey()), value(e.getValue())));
            m.put("t", "map"); m.put("v", entries);
        } else throw new IllegalArgumentException("no encoding for " + v.getClass());
        return m;
    }

    private static Object schema(Schema s) {
        if (s == null) return null;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", s.type().toString());
        m.put("optional", s.isOptional());
        return m;
    }

    private static Schema schemaOf(String type) {
        if (type == null) return null;
        switch (type) {
            case "INT8": return Schema.INT8_SCHEMA;
            case "INT16": return Schema.INT16_SCHEMA;
            case "INT32": return Schema.INT32_SCHEMA;
            case "INT64": return Schema.INT64_SCHEMA;
            case "FLOAT32": return Schema.FLOAT32_SCHEMA;
            case "FLOAT64": return Schema.FLOAT64_SCHEMA;
            case "BOOLEAN": return Schema.BOOLEAN_SCHEMA;
            case "STRING": return Schema.STRING_SCHEMA;
            case "BYTES": return Schema.BYTES_SCHEMA;
            default: throw new IllegalArgumentException(type);
        }
    }

    private static void error(Map<String, Object> line, Throwable e) {
        line.put("error", e.getMessage());
        Throwable cause = e.getCause();
        line.put("cause", cause == null ? null : cause.getMessage());
        line.put("cause_class", cause == null ? null : cause.getClass().getSimpleName());
    }

    private static Map<String, Object> base(String kind, String cls, boolean header, Map<String, String> cfg) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("kind", kind);
        line.put("class", cls);
        line.put("as", header ? "header" : "converter");
        line.put("config", cfg);
        return line;
    }

    private static Object make(String cls, boolean header, Map<String, String> cfg) throws Exception {
        Object c = Class.forName(cls).getDeclaredConstructor().newInstance();
        if (header) {
            // As Kafka Connect's Plugins.newHeaderConverter configures it.
            Map<String, Object> conf = new HashMap<>(cfg);
            conf.put(ConverterConfig.TYPE_CONFIG, ConverterType.HEADER.getName());
            ((HeaderConverter) c).configure(conf);
        } else {
            ((Converter) c).configure(cfg, false);
        }
        return c;
    }

    private static void write(String cls, Map<String, String> cfg, String schemaType, Object v) throws Exception {
        for (boolean header : new boolean[] {false, true}) {
            Map<String, Object> line = base("write", cls, header, cfg);
            Schema s = schemaOf(schemaType);
            line.put("schema", schemaType);
            line.put("value", value(v));
            Object c = make(cls, header, cfg);
            try {
                byte[] b = header ? ((HeaderConverter) c).fromConnectHeader(TOPIC, "h", s, v) : ((Converter) c).fromConnectData(TOPIC, s, v);
                line.put("bytes", hex(b));
                line.put("error", null);
            } catch (RuntimeException e) {
                line.put("bytes", null);
                error(line, e);
            }
            print(line);
        }
    }

    private static void read(String cls, Map<String, String> cfg, byte[] bytes) throws Exception {
        for (boolean header : new boolean[] {false, true}) {
            Map<String, Object> line = base("read", cls, header, cfg);
            line.put("bytes", hex(bytes));
            Object c = make(cls, header, cfg);
            try {
                SchemaAndValue sv = header ? ((HeaderConverter) c).toConnectHeader(TOPIC, "h", bytes) : ((Converter) c).toConnectData(TOPIC, bytes);
                line.put("schema", schema(sv.schema()));
                line.put("value", value(sv.value()));
                line.put("error", null);
            } catch (RuntimeException e) {
                error(line, e);
            }
            print(line);
        }
    }

    private static final Map<String, String> NONE = Collections.emptyMap();

    private static void plugins() throws Exception {
        List<String[]> found = new ArrayList<>();
        for (Converter c : ServiceLoader.load(Converter.class)) found.add(new String[] {c.getClass().getName(), "converter"});
        for (HeaderConverter c : ServiceLoader.load(HeaderConverter.class)) found.add(new String[] {c.getClass().getName(), "header_converter"});
        found.sort(Comparator.comparing((String[] a) -> a[0]).thenComparing(a -> a[1]));
        Set<String> classes = new TreeSet<>();
        for (String[] p : found) {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("kind", "plugin");
            line.put("type", p[1]);
            line.put("class", p[0]);
            print(line);
            classes.add(p[0]);
        }
        for (String cls : classes) {
            Object c = Class.forName(cls).getDeclaredConstructor().newInstance();
            ConfigDef def = c instanceof Converter ? ((Converter) c).config() : ((HeaderConverter) c).config();
            for (ConfigDef.ConfigKey k : def.configKeys().values()) {
                Map<String, Object> line = new LinkedHashMap<>();
                line.put("kind", "config");
                line.put("class", cls);
                line.put("name", k.name);
                line.put("type", k.type.name());
                line.put("default", k.hasDefault() ? ConfigDef.convertToString(k.defaultValue, k.type) : null);
                line.put("required", !k.hasDefault());
                line.put("importance", k.importance.name());
                line.put("documentation", k.documentation);
                line.put("group", k.group);
                line.put("order_in_group", k.orderInGroup);
                line.put("width", k.width.name());
                line.put("display_name", k.displayName);
                line.put("validator", k.validator == null ? null : k.validator.toString());
                print(line);
            }
        }
    }

    private static void numbers() throws Exception {
        Object[][] good = {
            {"ShortConverter", new Object[] {Short.MIN_VALUE, (short) -2, (short) 0, (short) 1, (short) 0x1234, Short.MAX_VALUE}},
            {"IntegerConverter", new Object[] {Integer.MIN_VALUE, -1, 0, 1, 0x01020304, Integer.MAX_VALUE}},
            {"LongConverter", new Object[] {Long.MIN_VALUE, -1L, 0L, 1L, 0x0102030405060708L, Long.MAX_VALUE}},
            {"FloatConverter", new Object[] {0.0f, -0.0f, 1.5f, -3.25f, Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE,
                Float.NaN, Float.intBitsToFloat(0x7fc00001), Float.intBitsToFloat(0xffc00000), Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}},
            {"DoubleConverter", new Object[] {0.0, -0.0, 1.0, -2.5e300, Double.MIN_VALUE, Double.MIN_NORMAL, Double.MAX_VALUE,
                Double.NaN, Double.longBitsToDouble(0x7ff8000000000001L), Double.longBitsToDouble(0xfff0000000000001L),
                Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}},
        };
        Object[] wrong = {(byte) 1, (short) 1, 1, 1L, 1.0f, 1.0, true, "1", new byte[] {0, 0, 0, 1}, new ArrayList<>(Arrays.asList(1)), new HashMap<>(Collections.singletonMap("k", 1))};
        int[] sizes = {2, 4, 8, 4, 8};
        for (int i = 0; i < good.length; i++) {
            String cls = PKG + good[i][0];
            for (Object v : (Object[]) good[i][1]) {
                write(cls, NONE, null, v);
            }
            write(cls, NONE, null, null);
            write(cls, NONE, "STRING", ((Object[]) good[i][1])[1]);
            write(cls, NONE, "INT32", null);
            for (Object v : wrong) {
                if (v.getClass() != ((Object[]) good[i][1])[0].getClass()) write(cls, NONE, null, v);
            }
            read(cls, NONE, null);
            for (int len : new int[] {0, 1, sizes[i] - 1, sizes[i] + 1, 16}) read(cls, NONE, new byte[len]);
            byte[] pattern = new byte[sizes[i]];
            for (int j = 0; j < pattern.length; j++) pattern[j] = (byte) (0x81 + 0x11 * j);
            read(cls, NONE, pattern);
            byte[] ones = new byte[sizes[i]];
            Arrays.fill(ones, (byte) 0xff);
            read(cls, NONE, ones);
        }
        // Configuration: converter.type is overwritten by configure(props, isKey).
        write(PKG + "IntegerConverter", Collections.singletonMap("converter.type", "key"), null, 5);
    }

    private static void booleans() throws Exception {
        String cls = PKG + "BooleanConverter";
        for (Object v : new Object[] {true, false, null, "true", 1, (byte) 1, new byte[] {1}}) write(cls, NONE, null, v);
        write(cls, NONE, "BOOLEAN", true);
        write(cls, NONE, "STRING", true);
        write(cls, NONE, "STRING", null);
        write(cls, NONE, "INT8", false);
        for (String b : new String[] {"00", "01", "02", "ff", "80", "7f", "", "0000", "0101"}) read(cls, NONE, unhex(b));
        read(cls, NONE, null);
    }

    private static void byteArrays() throws Exception {
        String cls = PKG + "ByteArrayConverter";
        write(cls, NONE, null, new byte[] {0, 1, (byte) 0xff});
        write(cls, NONE, "BYTES", new byte[0]);
        write(cls, NONE, null, null);
        write(cls, NONE, "INT32", new byte[] {1});
        write(cls, NONE, "STRING", null);
        write(cls, NONE, null, "text");
        write(cls, NONE, null, 7L);
        read(cls, NONE, new byte[] {9, 8, 7});
        read(cls, NONE, new byte[0]);
        read(cls, NONE, null);
    }

    private static void strings() throws Exception {
        String cls = "org.apache.kafka.connect.storage.StringConverter";
        for (Object v : new Object[] {"héllo", "", null, 42, -7L, (short) 3, (byte) -1, true, 1.0, 1e10, 1e-5, 123456789.125, -0.0,
                0.1f, 3.0e-7f, Float.MAX_VALUE, Double.NaN, Double.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY,
                Arrays.asList(1, "a", 2.5), Collections.singletonMap("k", 1.5f)}) {
            write(cls, NONE, null, v);
        }
        write(cls, NONE, "INT32", "schema ignored");
        write(cls, Collections.singletonMap("converter.encoding", "UTF8"), null, "ü");
        for (String b : new String[] {"", "68c3a96c6c6f", "ff", "fe", "61ff62", "c080", "eda080", "f09f98", "e282", "f4908080",
                "80", "f888808080", "e2", "c3", "f09f9880", "edbfbf", "efbfbd", "c328", "e228a1", "f0288c28", "00",
                "eda0", "eda041", "ed9fbf", "f09f41", "f0", "f09f", "f4908080", "f5808080", "e08080", "e080", "c1bf", "ed"}) {
            read(cls, NONE, unhex(b));
        }
        read(cls, NONE, null);
        // Random byte strings made of UTF-8's boundary bytes, for Java's replacement of
        // malformed input (one U+FFFD per bad sequence, by Java's own rules).
        int[] alphabet = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xef,
            0xf0, 0xf1, 0xf4, 0xf5, 0xff};
        Random random = new Random(42);
        for (int i = 0; i < 150; i++) {
            byte[] b = new byte[random.nextInt(8)];
            for (int j = 0; j < b.length; j++) b[j] = (byte) alphabet[random.nextInt(alphabet.length)];
            read(cls, NONE, b);
        }
    }

    private static void json() throws Exception {
        String cls = "org.apache.kafka.connect.json.JsonConverter";
        for (String enable : new String[] {"true", "false"}) {
            Map<String, String> cfg = Collections.singletonMap("schemas.enable", enable);
            write(cls, cfg, "INT32", 5);
            write(cls, cfg, "STRING", "x\"y");
            write(cls, cfg, "BOOLEAN", true);
            write(cls, cfg, "FLOAT64", 2.5);
            write(cls, cfg, "BYTES", new byte[] {1, 2});
            write(cls, cfg, null, 7L);
            write(cls, cfg, null, null);
            write(cls, cfg, "INT32", "wrong");
            for (String text : new String[] {"3", "\"s\"", "{\"schema\":{\"type\":\"int64\",\"optional\":false},\"payload\":9}",
                    "{\"schema\":null,\"payload\":[1,2]}", "{\"a\":1}", "nope"}) {
                read(cls, cfg, text.getBytes(StandardCharsets.UTF_8));
            }
            read(cls, cfg, null);
        }
    }

    public static void main(String[] args) throws Exception {
        plugins();
        numbers();
        booleans();
        byteArrays();
        strings();
        json();
    }
}

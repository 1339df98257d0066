// Hessian 2 values written and read by an implementation nobody here wrote: Caucho's (Debian's
// libhessian-java), so that the codec's Hessian 2 reader and writer are checked against it value
// by value, not only inside whole Dubbo frames.
//
//     java -cp hessian.jar:. HessianValues write
//         prints one line per value, "LABEL HEX": HEX is one Hessian2Output stream holding the
//         value and then the string "." (which tells a reader where the value ended)
//     java -cp hessian.jar:. HessianValues read FILE
//         FILE holds one Hessian stream in hex per line, one value each; prints, a line for each,
//         what Hessian2Input reads, as describe() writes it
//
// The other peers print what they read with describe() too, so that every test reads one form.
import com.caucho.hessian.io.Hessian2Input;
import com.caucho.hessian.io.Hessian2Output;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Serializable;
import java.lang.reflect.Array;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

public class HessianValues {
    /** Writes one value (or a hand-made production) to a stream. */
    interface Writing {
        void to(Hessian2Output out) throws IOException;
    }

    /** A class of our own, so that objects come with a class definition Hessian makes itself. */
    static class Point implements Serializable {
        int x;
        String label;

        Point(int x, String label) {
            this.x = x;
            this.label = label;
        }
    }

    public static void main(String[] args) throws Exception {
        // Non-ASCII text must reach the test as the characters Java holds, whatever the locale.
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        if (args[0].equals("write")) {
            for (Map.Entry<String, Writing> value : values().entrySet()) {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                Hessian2Output h = new Hessian2Output(bytes);
                value.getValue().to(h);
                h.writeString(".");
                h.flush();
                out.println(value.getKey() + " " + hex(bytes.toByteArray()));
            }
        } else {
            for (String line : Files.readAllLines(Paths.get(args[1]))) {
                out.println(read(unhex(line.trim())));
            }
        }
    }

    /** What Hessian2Input reads from one stream holding one value. */
    static String read(byte[] stream) {
        try {
            Hessian2Input in = new Hessian2Input(new ByteArrayInputStream(stream));
            String value = describe(in.readObject());
            // A writer that wrote more than the value wrote it wrong, even if it read well.
            return in.read() == -1 ? value : value + " +unread bytes";
        } catch (Exception e) {
            return "error " + e.getClass().getName() + ": " + e.getMessage();
        }
    }

    /** The values, by label; the Swift test holds what each must read as. */
    static Map<String, Writing> values() {
        Map<String, Writing> v = new LinkedHashMap<>();
        // Strings: every length form, the chunk boundary, non-ASCII and supplementary characters
        // (Java writes the latter as two 3-byte surrogates).
        v.put("string-empty", h -> h.writeString(""));
        v.put("string-hello", h -> h.writeString("hello"));
        v.put("string-31", h -> h.writeString("a".repeat(31)));
        v.put("string-32", h -> h.writeString("b".repeat(32)));
        v.put("string-1023", h -> h.writeString("c".repeat(1023)));
        v.put("string-1024", h -> h.writeString("d".repeat(1024)));
        v.put("string-32768", h -> h.writeString("e".repeat(32768)));
        v.put("string-32769", h -> h.writeString("f".repeat(32769)));
        v.put("string-70000", h -> h.writeString("0123456789".repeat(7000)));
        v.put("string-non-ascii", h -> h.writeString("h\u00e9llo w\u00f6rld \u65e5\u672c"));
        v.put("string-supplementary", h -> h.writeString("a\ud83d\ude00b"));
        v.put("string-non-ascii-chunked", h -> h.writeString("\u65e5\u672c\u8a9e".repeat(15000)));
        v.put("string-pair-at-chunk-end", h -> h.writeString("g".repeat(32767) + "\ud83d\ude00h"));
        v.put("string-null", h -> h.writeString((String) null));
        // Ints of each compact width, at both ends of it.
        for (int i : new int[] {0, -16, 47, 48, -17, -2048, 2047, 2048, -2049, -262144, 262143, 262144, -262145, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
            v.put("int " + i, h -> h.writeInt(i));
        }
        for (long l : new long[] {0, -8, 15, 16, -2048, 2047, -262144, 262143, 262144, Integer.MAX_VALUE, Integer.MAX_VALUE + 1L, Long.MAX_VALUE, Long.MIN_VALUE}) {
            v.put("long " + l, h -> h.writeLong(l));
        }
        for (double d : new double[] {0.0, 1.0, 2.0, -128.0, 300.0, 12.25, Math.PI, Double.NaN}) {
            v.put("double " + d, h -> h.writeDouble(d));
        }
        v.put("true", h -> h.writeBoolean(true));
        v.put("false", h -> h.writeBoolean(false));
        v.put("null", h -> h.writeNull());
        // Binary: the short forms, then Hessian2Output's own chunking (its buffer is 8 KiB).
        for (int n : new int[] {0, 15, 16, 1023, 1024, 8192, 70000}) {
            v.put("bytes " + n, h -> h.writeBytes(pattern(n)));
        }
        v.put("date, milliseconds", h -> h.writeObject(new Date(894621091123L)));
        v.put("date, minutes", h -> h.writeObject(new Date(894621060000L)));
        v.put("int[]", h -> h.writeObject(new int[] {1, 2, 3}));
        v.put("String[]", h -> h.writeObject(new String[] {"a", "b"}));
        v.put("list, short", h -> h.writeObject(new ArrayList<>(Arrays.asList(1, "two", 3.0, null))));
        v.put("list, long", h -> h.writeObject(new ArrayList<>(Arrays.asList(0, 1, 2, 3, 4, 5, 6, 7, 8, 9))));
        v.put("list, variable untyped", h -> {
            h.writeListBegin(-1, null);
            h.writeInt(1);
            h.writeString("x");
            h.writeListEnd();
        });
        v.put("list, variable typed", h -> {
            h.writeListBegin(-1, "java.util.ArrayList");
            h.writeInt(1);
            h.writeListEnd();
        });
        v.put("list, nested", h -> h.writeObject(nested(20)));
        v.put("map, attachments", h -> {
            Map<String, String> m = new HashMap<>();
            m.put("path", "org.demo.Greeter");
            m.put("x-tenant", "\u65e5\u672c\ud83d\ude00");
            m.put("long", "z".repeat(40000));
            h.writeObject(m);
        });
        v.put("map, typed", h -> {
            TreeMap<String, Object> m = new TreeMap<>();
            m.put("k", "v");
            m.put("n", 1);
            h.writeObject(m);
        });
        v.put("map, non-string entries", h -> {
            Map<Object, Object> m = new LinkedHashMap<>();
            m.put(1, new ArrayList<>(Arrays.asList("a")));
            Map<String, Object> inner = new HashMap<>();
            inner.put("inner", 2L);
            m.put("key", inner);
            h.writeObject(m);
        });
        Point p = new Point(1, "p");
        v.put("objects, one class, a reference", h -> h.writeObject(new ArrayList<>(Arrays.asList(p, new Point(-300, "q"), p))));
        v.put("enum", h -> h.writeObject(TimeUnit.SECONDS));
        v.put("exception", h -> h.writeObject(new IllegalStateException("boom")));
        return v;
    }

    /** Bytes 0, 7, 14, …: not a run, so a reader that drops or repeats one is seen. */
    static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (i * 7);
        return b;
    }

    static List<Object> nested(int depth) {
        List<Object> list = new ArrayList<>();
        list.add(depth == 0 ? "leaf" : nested(depth - 1));
        return list;
    }

    // MARK: the one text form of values

    /** A value as text in one form every peer prints: type and value, exact, deterministic. */
    static String describe(Object v) {
        if (v == null) return "null";
        if (v instanceof String) return quoted((String) v);
        if (v instanceof Integer) return "int " + v;
        if (v instanceof Long) return "long " + v;
        if (v instanceof Double) return "double " + v;
        if (v instanceof Boolean) return v.toString();
        if (v instanceof byte[]) return bytes((byte[]) v);
        if (v instanceof Throwable) return v.getClass().getName() + "(" + describe(((Throwable) v).getMessage()) + ")";
        if (v instanceof Map) {
            // Sorted by the described key: a HashMap's order is no part of what was sent.
            TreeMap<String, String> sorted = new TreeMap<>();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) sorted.put(describe(e.getKey()), describe(e.getValue()));
            StringJoiner j = new StringJoiner(", ", v.getClass().getName() + "{", "}");
            for (Map.Entry<String, String> e : sorted.entrySet()) j.add(e.getKey() + ": " + e.getValue());
            return j.toString();
        }
        if (v instanceof Collection) {
            StringJoiner j = new StringJoiner(", ", v.getClass().getName() + "[", "]");
            for (Object e : (Collection<?>) v) j.add(describe(e));
            return j.toString();
        }
        if (v.getClass().isArray()) {
            StringJoiner j = new StringJoiner(", ", v.getClass().getComponentType().getName() + "[][", "]");
            for (int i = 0; i < Array.getLength(v); i++) j.add(describe(Array.get(v, i)));
            return j.toString();
        }
        if (v instanceof Point) return "Point(" + ((Point) v).x + ", " + describe(((Point) v).label) + ")";
        if (v instanceof Date) return "Date(" + ((Date) v).getTime() + ")";
        return v.getClass().getName() + "(" + v + ")";
    }

    /**
     * A string in quotes, printable ASCII as itself and every other UTF-16 unit as \\uXXXX, so
     * that a surrogate pair shows as the two units Java holds; longer than 64 units, its length
     * and String.hashCode() instead.
     */
    static String quoted(String s) {
        if (s.length() > 64) return "string(" + s.length() + ", hash " + s.hashCode() + ")";
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') b.append(c);
            else b.append(String.format("\\u%04x", (int) c));
        }
        return b.append('"').toString();
    }

    /** `byte[N] R, R, …` where a run of one byte value is `HHxCOUNT` and a single byte `HH`. */
    static String bytes(byte[] b) {
        StringJoiner j = new StringJoiner(",", "byte[" + b.length + "]" + (b.length == 0 ? "" : " "), "");
        j.setEmptyValue("byte[0]");
        for (int i = 0; i < b.length; ) {
            int run = 1;
            while (i + run < b.length && b[i + run] == b[i]) run++;
            j.add(String.format("%02x", b[i] & 0xff) + (run > 1 ? "x" + run : ""));
            i += run;
        }
        return j.toString();
    }

    static String hex(byte[] b) {
        StringBuilder s = new StringBuilder(b.length * 2);
        for (byte x : b) s.append(String.format("%02x", x & 0xff));
        return s.toString();
    }

    static byte[] unhex(String s) {
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        return b;
    }
}

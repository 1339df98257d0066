// A Dubbo 2 provider in Java that nobody here wrote the serialization of: it reads each request
// body with Caucho's Hessian2Input (Debian's libhessian-java) and writes each answer with
// Hessian2Output, framed and typed as Apache Dubbo 2.7's provider frames and types them.
//
//     java -cp hessian.jar:. DubboHessianProvider
//
// Listens on an ephemeral loopback port and prints "listening PORT"; serves each connection on a
// thread of its own; exits when its standard input closes. For every call it prints one line,
//
//     call dubbo=… path=… version=… method=… types=… arguments=[…] attachments=…
//
// each value as HessianValues.describe() writes it, so a test sees what Hessian read from the
// bytes the other side wrote. The service, org.demo.Greeter:
//
//     sayHello(String name)   "Hello, " + name
//     echo(any one argument)  the argument
//     fail(…)                 throws IllegalStateException("no greeting for " + the first argument)
//     nothing()               null
//
// Any other method throws, as a missing method does in Dubbo; any other service is answered with
// status 70 (SERVICE_ERROR) and a message, and an unreadable body with status 40 (BAD_REQUEST).
import com.caucho.hessian.io.Hessian2Input;
import com.caucho.hessian.io.Hessian2Output;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

public class DubboHessianProvider {
    static final String SERVICE = "org.demo.Greeter";
    // Dubbo's header flags and status bytes.
    static final int FLAG_REQUEST = 0x80, FLAG_TWO_WAY = 0x40, FLAG_EVENT = 0x20, HESSIAN2 = 2;
    static final int OK = 20, BAD_REQUEST = 40, SERVICE_ERROR = 70;
    // Dubbo's response types, the first value of an OK response body.
    static final int RESPONSE_WITH_EXCEPTION = 0, RESPONSE_VALUE = 1, RESPONSE_NULL_VALUE = 2;
    static final int RESPONSE_WITH_EXCEPTION_WITH_ATTACHMENTS = 3, RESPONSE_VALUE_WITH_ATTACHMENTS = 4, RESPONSE_NULL_VALUE_WITH_ATTACHMENTS = 5;

    static final PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);

    public static void main(String[] args) throws Exception {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            while (true) {
                try {
                    Socket socket = server.accept();
                    Thread connection = new Thread(() -> serve(socket));
                    connection.setDaemon(true);
                    connection.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
        out.println("listening " + server.getLocalPort());
        // The test closes our standard input when it is done with us.
        while (System.in.read() >= 0) {}
        System.exit(0);
    }

    static void serve(Socket socket) {
        try (socket) {
            socket.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(socket.getInputStream());
            DataOutputStream output = new DataOutputStream(socket.getOutputStream());
            while (true) {
                int magic;
                try {
                    magic = in.readUnsignedShort();
                } catch (EOFException closed) {
                    return;
                }
                if (magic != 0xdabb) throw new IOException("bad magic " + Integer.toHexString(magic));
                int flags = in.readUnsignedByte();
                in.readUnsignedByte();
                long id = in.readLong();
                byte[] body = new byte[in.readInt()];
                in.readFully(body);
                if ((flags & FLAG_REQUEST) == 0) continue;  // a consumer does not answer us
                boolean twoWay = (flags & FLAG_TWO_WAY) != 0;
                if ((flags & FLAG_EVENT) != 0) {
                    // A heartbeat: answered with a null body, as Dubbo's HeartbeatHandler does.
                    if (twoWay) write(output, FLAG_EVENT, OK, id, h -> h.writeNull());
                    continue;
                }
                answer(output, id, twoWay, body);
            }
        } catch (IOException e) {
            out.println("connection failed: " + e);
        }
    }

    /** Writes a body with Hessian2Output. */
    interface Body {
        void write(Hessian2Output out) throws IOException;
    }

    static void answer(DataOutputStream output, long id, boolean twoWay, byte[] body) throws IOException {
        String dubbo, path, version, method, types;
        List<Object> arguments = new ArrayList<>();
        Map<?, ?> attachments;
        boolean unread;
        try {
            // The order Dubbo's DecodeableRpcInvocation reads them in.
            Hessian2Input h = new Hessian2Input(new ByteArrayInputStream(body));
            dubbo = h.readString();
            path = h.readString();
            version = h.readString();
            method = h.readString();
            types = h.readString();
            for (int i = parameterCount(types); i > 0; i--) arguments.add(h.readObject());
            attachments = (Map<?, ?>) h.readObject();
            unread = h.read() != -1;
        } catch (Exception e) {
            out.println("unreadable request: " + e);
            if (twoWay) write(output, 0, BAD_REQUEST, id, h -> h.writeString("unreadable request: " + e));
            return;
        }
        StringJoiner described = new StringJoiner(", ", "[", "]");
        for (Object a : arguments) described.add(HessianValues.describe(a));
        out.println("call dubbo=" + HessianValues.describe(dubbo) + " path=" + HessianValues.describe(path)
                + " version=" + HessianValues.describe(version) + " method=" + HessianValues.describe(method)
                + " types=" + HessianValues.describe(types) + " arguments=" + described
                + " attachments=" + HessianValues.describe(attachments) + (unread ? " +unread bytes" : ""));
        if (!twoWay) return;
        if (!SERVICE.equals(path)) {
            write(output, 0, SERVICE_ERROR, id, h -> h.writeString("Not found exported service: " + path));
            return;
        }
        Object value = null;
        Throwable thrown = null;
        try {
            value = invoke(method, types, arguments);
        } catch (RuntimeException e) {
            thrown = e;
        }
        // Dubbo 2.7's DubboCodec.encodeResponseData: a consumer whose Dubbo version supports it
        // gets the "with attachments" types and the attachments, the provider's version among them.
        boolean attach = supportsResponseAttachments(dubbo);
        Map<String, String> answered = new HashMap<>();
        answered.put("dubbo", "2.0.2");
        // A test's way to see a value travel both ways: it comes back as it was read.
        Object echo = attachments == null ? null : attachments.get("x-echo");
        if (echo instanceof String) answered.put("x-echo", (String) echo);
        Object result = value;
        Throwable exception = thrown;
        write(output, 0, OK, id, h -> {
            if (exception != null) {
                h.writeInt(attach ? RESPONSE_WITH_EXCEPTION_WITH_ATTACHMENTS : RESPONSE_WITH_EXCEPTION);
                h.writeObject(exception);
            } else if (result == null) {
                h.writeInt(attach ? RESPONSE_NULL_VALUE_WITH_ATTACHMENTS : RESPONSE_NULL_VALUE);
            } else {
                h.writeInt(attach ? RESPONSE_VALUE_WITH_ATTACHMENTS : RESPONSE_VALUE);
                h.writeObject(result);
            }
            if (attach) h.writeObject(answered);
        });
    }

    static Object invoke(String method, String types, List<Object> arguments) {
        switch (method + "(" + types + ")") {
            case "sayHello(Ljava/lang/String;)":
                return "Hello, " + arguments.get(0);
            case "nothing()":
                return null;
            default:
                if (method.equals("echo") && arguments.size() == 1) return arguments.get(0);
                if (method.equals("fail")) {
                    Object first = arguments.isEmpty() ? null : arguments.get(0);
                    throw new IllegalStateException("no greeting for " + (first instanceof String ? first : HessianValues.describe(first)));
                }
                throw new UnsupportedOperationException(SERVICE + " has no method " + method + "(" + types + ")");
        }
    }

    static void write(DataOutputStream output, int flags, int status, long id, Body body) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Hessian2Output h = new Hessian2Output(bytes);
        body.write(h);
        h.flush();
        output.writeShort(0xdabb);
        output.writeByte(flags | HESSIAN2);
        output.writeByte(status);
        output.writeLong(id);
        output.writeInt(bytes.size());
        bytes.writeTo(output);
        output.flush();
    }

    /** Parameters in a JVM method descriptor such as "Ljava/lang/String;[IJ". */
    static int parameterCount(String types) {
        int count = 0;
        for (int i = 0; i < types.length(); count++) {
            while (types.charAt(i) == '[') i++;
            i = types.charAt(i) == 'L' ? types.indexOf(';', i) + 1 : i + 1;
        }
        return count;
    }

    /**
     * Dubbo 2.7's Version.isSupportResponseAttachment: from protocol version 2.0.2 on, except
     * 2.0.10 to 2.6.2, whose consumers did not read the attachments. A version "a.b.c" counts as
     * a*1000000 + b*10000 + c*100, as Version.getIntVersion counts it.
     */
    static boolean supportsResponseAttachments(String version) {
        if (version == null || version.isEmpty()) return false;
        int v = 0;
        String[] parts = version.split("\\.");
        for (String part : parts) v = v * 100 + Integer.parseInt(part);
        if (parts.length == 3) v *= 100;
        if (v >= 2001000 && v < 2060300) return false;
        return v >= 2000200;
    }
}

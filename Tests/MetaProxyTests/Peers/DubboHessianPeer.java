// A Dubbo 2 consumer in Java that nobody here wrote the serialization of: the request body and
// the answer are Caucho's Hessian 2 (Debian's libhessian-java), framed as Dubbo frames them.
//
//     java -cp hessian.jar:. DubboHessianPeer HOST PORT [CALL…]
//
// Makes the calls named (sayHello and echo when none is), on one connection, in order:
//
//     sayHello  org.demo.Greeter:1.0.0 sayHello(String "world")
//     echo      org.demo.Greeter:1.0.0 echo(byte[] {1, 2, 3})
//     fail      org.demo.Greeter:1.0.0 fail(String "world")
//     nothing   org.demo.Greeter:1.0.0 nothing()
//     missing   org.demo.Missing:1.0.0 sayHello(String "world")
//
// and prints a line for each answer: a value's Java type and value ("java.lang.String world",
// "byte[] [1, 2, 3]", "null"), or "exception " and the Throwable, or "status N " and the error
// message; then, when the answer carries attachments, " attachments " and the map. Throwables,
// messages and maps are printed as HessianValues.describe() writes them.
import com.caucho.hessian.io.Hessian2Input;
import com.caucho.hessian.io.Hessian2Output;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

public class DubboHessianPeer {
    public static void main(String[] args) throws Exception {
        PrintStream stdout = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        List<String> calls = args.length > 2 ? Arrays.asList(args).subList(2, args.length) : List.of("sayHello", "echo");
        try (Socket socket = new Socket(args[0], Integer.parseInt(args[1]))) {
            socket.setSoTimeout(600_000);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            DataInputStream in = new DataInputStream(socket.getInputStream());
            long id = 1;
            for (String name : calls) {
                String answer;
                switch (name) {
                    case "sayHello": answer = call(out, in, id++, "org.demo.Greeter", "sayHello", "Ljava/lang/String;", "world"); break;
                    case "echo": answer = call(out, in, id++, "org.demo.Greeter", "echo", "[B", new byte[] {1, 2, 3}); break;
                    case "fail": answer = call(out, in, id++, "org.demo.Greeter", "fail", "Ljava/lang/String;", "world"); break;
                    case "nothing": answer = call(out, in, id++, "org.demo.Greeter", "nothing", ""); break;
                    case "missing": answer = call(out, in, id++, "org.demo.Missing", "sayHello", "Ljava/lang/String;", "world"); break;
                    default: throw new IllegalArgumentException("no call " + name);
                }
                stdout.println(answer);
            }
        }
    }

    static String call(DataOutputStream out, DataInputStream in, long id, String service, String method, String types, Object... arguments) throws Exception {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        Hessian2Output h = new Hessian2Output(body);
        h.writeString("2.0.2");
        h.writeString(service);
        h.writeString("1.0.0");
        h.writeString(method);
        h.writeString(types);
        for (Object argument : arguments) h.writeObject(argument);
        h.writeMapBegin(null);
        h.writeString("path");
        h.writeString(service);
        h.writeString("interface");
        h.writeString(service);
        h.writeString("version");
        h.writeString("1.0.0");
        h.writeMapEnd();
        h.flush();
        byte[] bytes = body.toByteArray();
        out.writeShort(0xdabb);
        out.writeByte(0xc2);  // request, two-way, Hessian 2
        out.writeByte(0);
        out.writeLong(id);
        out.writeInt(bytes.length);
        out.write(bytes);
        out.flush();

        if (in.readUnsignedShort() != 0xdabb) throw new IllegalStateException("bad magic");
        in.readUnsignedByte();
        int status = in.readUnsignedByte();
        long answered = in.readLong();
        byte[] answer = new byte[in.readInt()];
        in.readFully(answer);
        if (answered != id) throw new IllegalStateException("answer to id " + answered + ", not " + id);
        Hessian2Input r = new Hessian2Input(new ByteArrayInputStream(answer));
        // An error status carries only its message, as Dubbo writes it (a Hessian string).
        if (status != 20) return "status " + status + " " + HessianValues.describe(r.readString());
        // Dubbo's response types: 0 exception, 1 value, 2 null, and 3 to 5 the same with attachments.
        int type = r.readInt();
        String text;
        switch (type % 3) {
            case 0: text = "exception " + HessianValues.describe(r.readObject()); break;
            case 1: text = value(r.readObject()); break;
            default: text = "null";
        }
        if (type >= 3) text += " attachments " + HessianValues.describe(r.readObject());
        if (type > 5 || r.read() != -1) throw new IllegalStateException("response type " + type + " or bytes after the answer");
        return text;
    }

    static String value(Object value) {
        if (value instanceof byte[]) return "byte[] " + Arrays.toString((byte[]) value);
        return value.getClass().getName() + " " + value;
    }
}

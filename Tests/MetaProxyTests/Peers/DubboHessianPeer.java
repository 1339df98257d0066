// A Dubbo 2 consumer in Java that nobody here wrote the serialization of: the request body and
// the answer are Caucho's Hessian 2 (Debian's libhessian-java), framed as Dubbo frames them.
//
//     java -cp hessian.jar:. DubboHessianPeer HOST PORT
//
// Calls org.demo.Greeter:1.0.0 sayHello(String "world") and echo(byte[] {1, 2, 3}) and prints
// what Hessian reads back from each answer: its Java type and value.
import com.caucho.hessian.io.Hessian2Input;
import com.caucho.hessian.io.Hessian2Output;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.Socket;
import java.util.Arrays;

public class DubboHessianPeer {
    public static void main(String[] args) throws Exception {
        try (Socket socket = new Socket(args[0], Integer.parseInt(args[1]))) {
            socket.setSoTimeout(60_000);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            DataInputStream in = new DataInputStream(socket.getInputStream());
            print(call(out, in, 1, "sayHello", "Ljava/lang/String;", "world"));
            print(call(out, in, 2, "echo", "[B", new byte[] {1, 2, 3}));
        }
    }

    static Object call(DataOutputStream out, DataInputStream in, long id, String method, String types, Object argument) throws Exception {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        Hessian2Output h = new Hessian2Output(body);
        h.writeString("2.0.2");
        h.writeString("org.demo.Greeter");
        h.writeString("1.0.0");
        h.writeString(method);
        h.writeString(types);
        h.writeObject(argument);
        h.writeMapBegin(null);
        h.writeString("path");
        h.writeString("org.demo.Greeter");
        h.writeString("interface");
        h.writeString("org.demo.Greeter");
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
        if (status != 20 || answered != id) throw new IllegalStateException("status " + status + " for id " + answered);
        Hessian2Input r = new Hessian2Input(new ByteArrayInputStream(answer));
        int type = r.readInt();
        if (type != 1 && type != 4) throw new IllegalStateException("response type " + type);
        return r.readObject();
    }

    static void print(Object value) {
        if (value instanceof byte[]) {
            System.out.println("byte[] " + Arrays.toString((byte[]) value));
        } else {
            System.out.println(value.getClass().getName() + " " + value);
        }
    }
}

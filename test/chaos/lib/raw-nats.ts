/**
 * A NATS client that subscribes and then stops reading its socket: the slow consumer a real client
 * becomes when its process hangs. Speaks just enough of the protocol (INFO, TLS upgrade, CONNECT,
 * SUB, PING/PONG) to get its subscription registered, then never reads again.
 */
import { connect as netConnect, type Socket } from "node:net";
import { type TLSSocket, connect as tlsConnect } from "node:tls";

export interface StalledSubscriber extends AsyncDisposable {
  /** Bytes read before it stopped reading. */
  readonly bytesRead: number;
}

export interface StalledSubscriberOptions {
  url: string;
  user: string;
  password: string;
  tls: { ca: string; cert: string; key: string };
  subject: string;
}

function readLine(socket: Socket | TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = "";
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const end = buffer.indexOf("\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      socket.off("error", reject);
      resolve(buffer.slice(0, end));
    };
    socket.on("data", onData);
    socket.once("error", reject);
  });
}

export async function stalledSubscriber(options: StalledSubscriberOptions): Promise<StalledSubscriber> {
  const { hostname, port } = new URL(options.url);
  const plain = netConnect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => plain.once("connect", resolve).once("error", reject));
  const info = await readLine(plain);
  if (!info.startsWith("INFO ")) throw new Error(`expected INFO from nats-server, got ${info}`);
  plain.pause();
  const socket = tlsConnect({ socket: plain, ...options.tls, servername: "localhost" });
  await new Promise<void>((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
  const connectLine = JSON.stringify({
    verbose: false,
    pedantic: false,
    tls_required: true,
    user: options.user,
    pass: options.password,
    name: "chaos-stalled-subscriber",
    lang: "raw",
    version: "0",
    protocol: 1,
  });
  socket.write(`CONNECT ${connectLine}\r\nSUB ${options.subject} 1\r\nPING\r\n`);
  const reply = await readLine(socket);
  if (!reply.startsWith("PONG")) throw new Error(`nats-server refused the stalled subscriber: ${reply}`);
  // From here on nothing is read: the server's writes to this client back up.
  socket.pause();
  socket.on("error", () => {});
  return {
    get bytesRead() {
      return socket.bytesRead;
    },
    async [Symbol.asyncDispose]() {
      socket.destroy();
    },
  };
}

/**
 * A TCP proxy between a service and a server, to cut the service off from the server while the test
 * still reaches it directly: `down()` refuses and drops every connection (a remote that is gone),
 * `pause()` stops moving bytes without closing anything (a remote that hangs: the server's writes
 * back up), `up()` and `resume()` undo them. TLS passes through untouched.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export interface TcpProxy extends AsyncDisposable {
  /** `127.0.0.1:<port>`, stable across `down()`/`up()`. */
  readonly address: string;
  readonly port: number;
  down(): Promise<void>;
  up(): Promise<void>;
  pause(): void;
  resume(): void;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let paused = false;
  let server: Server | undefined;
  let port = 0;

  // Piping resumes a paused source when its destination drains, so holding a pair means unpiping it.
  const hold = ([a, b]: [Socket, Socket]) => {
    a.unpipe(b);
    b.unpipe(a);
    a.pause();
    b.pause();
  };
  const flow = ([a, b]: [Socket, Socket]) => {
    a.pipe(b);
    b.pipe(a);
  };

  const listen = async (): Promise<void> => {
    const s = createServer((client) => {
      const upstream = connect(targetPort, targetHost);
      const pair: [Socket, Socket] = [client, upstream];
      pairs.add(pair);
      if (paused) hold(pair);
      else flow(pair);
      const close = () => {
        pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on("error", close).on("close", close);
      upstream.on("error", close).on("close", close);
    });
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => {
        s.off("error", reject);
        resolve();
      });
    });
    port = (s.address() as { port: number }).port;
    server = s;
  };

  const down = async (): Promise<void> => {
    const s = server;
    server = undefined;
    for (const [a, b] of pairs) {
      a.destroy();
      b.destroy();
    }
    pairs.clear();
    if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  await listen();
  return {
    get address() {
      return `127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    down,
    up: () => (server === undefined ? listen() : Promise.resolve()),
    pause() {
      paused = true;
      for (const pair of pairs) hold(pair);
    },
    resume() {
      paused = false;
      for (const pair of pairs) flow(pair);
    },
    [Symbol.asyncDispose]: down,
  };
}

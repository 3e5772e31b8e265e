/**
 * A TCP proxy on 127.0.0.1 that the chaos tests put between a client and a server, to cut connections at a
 * random byte: a cut can fall in the middle of a WebSocket frame, and both ends see the TCP connection drop.
 */
import { createServer, type Server, type Socket } from "node:net";
import { connect } from "node:net";

export interface ChaosProxy {
  /** The proxy's port: connect to it instead of the server's. */
  readonly port: number;
  /** How many cuts were made so far. */
  readonly cuts: number;
  /**
   * Cuts every open connection once `bytes` more bytes have passed the proxy (either way), in the middle of the
   * chunk that crosses the mark: the part before it is forwarded, the rest never is.
   */
  cutAfter(bytes: number): void;
  /** Cuts every open connection now. */
  cutNow(): void;
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

/**
 * Starts a proxy to `127.0.0.1:target`; with a function, each new connection goes to the port it returns then
 * (e.g. alternately to two servers).
 */
export async function startChaosProxy(target: number | (() => number)): Promise<ChaosProxy> {
  const pairs = new Set<[Socket, Socket]>();
  /** Pairs past a cut's mark: what they carry is dropped until the cut destroys them. */
  const doomed = new Set<[Socket, Socket]>();
  let budget = Number.POSITIVE_INFINITY;
  let cuts = 0;

  /**
   * Cuts `targets`: one cut, counted if any of them is still open (a cut decided before a reconnection never
   * reaches the connections made after it).
   */
  const cut = (targets: [Socket, Socket][]) => {
    const open = targets.filter((pair) => pairs.has(pair));
    if (open.length > 0) cuts++;
    for (const pair of open) {
      pairs.delete(pair);
      doomed.delete(pair);
      for (const socket of pair) socket.resetAndDestroy();
    }
  };

  const cutAll = () => {
    budget = Number.POSITIVE_INFINITY;
    cut([...pairs]);
  };

  /** Forwards `chunk` from one side of `pair` to `to`, or the part of it before the cut. */
  const forward = (pair: [Socket, Socket], chunk: Buffer, to: Socket) => {
    if (doomed.has(pair)) return; // between the last forwarded byte and the cut: dropped
    if (to.destroyed) return; // the other side has closed: nothing reaches it any more
    if (chunk.length < budget) {
      budget -= chunk.length;
      to.write(chunk);
      return;
    }
    const part = chunk.subarray(0, budget);
    budget = Number.POSITIVE_INFINITY;
    const targets = [...pairs];
    for (const target of targets) doomed.add(target);
    if (part.length > 0) to.write(part, () => cut(targets));
    else cut(targets);
  };

  const server: Server = createServer((client) => {
    const upstream = connect(typeof target === "number" ? target : target(), "127.0.0.1");
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const forget = () => {
      pairs.delete(pair);
      doomed.delete(pair);
    };
    const drop = () => {
      forget();
      client.destroy();
      upstream.destroy();
    };
    // A side that closed cleanly: what it sent last (a close frame just before its FIN) still reaches the other side,
    // which is then ended too (and destroyed if it does not close within a second).
    const closeAfter = (other: Socket) => (hadError: boolean) => {
      if (hadError) return drop();
      forget();
      other.end();
      setTimeout(() => other.destroy(), 1000).unref();
    };
    client.on("data", (chunk) => forward(pair, chunk, upstream));
    upstream.on("data", (chunk) => forward(pair, chunk, client));
    client.on("close", closeAfter(upstream));
    upstream.on("close", closeAfter(client));
    for (const socket of pair) socket.on("error", drop);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    get cuts() {
      return cuts;
    },
    cutAfter(bytes) {
      budget = bytes;
    },
    cutNow: cutAll,
    close: () => {
      cutAll();
      return new Promise((done) => server.close(() => done()));
    },
  };
}

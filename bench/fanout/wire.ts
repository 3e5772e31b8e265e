/**
 * What the load client says on the wire to each kind of server. edgesocket and crossws serve
 * plain WebSockets (`/sub/<room>`, `/pub/<room>`, publications as text frames); Socket.IO speaks
 * Engine.IO v4 and Socket.IO packets over the same frames (see /work/shared/README.md).
 * @module
 */

/** The kind of server under test, which decides the wire protocol. */
export type ServerKind = "edgesocket" | "socketio" | "crossws";

/** A subscriber joins a room; a publisher sends publications to one. */
export type Role = "sub" | "pub";

/** A connection as the wire sees it: something text can be sent on. */
export interface Sender {
  send(text: string): void;
}

/** One protocol: how to connect, when a connection is ready, and where a publication is in a frame. */
export interface Wire {
  url(server: string, role: Role, room: string): string;
  /** Called once the WebSocket is open. */
  opened(socket: Sender, role: Role, ready: () => void): void;
  /** Answers protocol frames; returns the publication a frame carries, if it carries one. */
  received(socket: Sender, text: string, role: Role, room: string, ready: () => void): string | undefined;
  publish(socket: Sender, room: string, publication: string): void;
}

/** edgesocket and crossws: the subscriber's first frame is `ready` (it is in the room); every later frame is a publication. */
const plainWire: Wire = {
  url: (server, role, room) => `${server}/${role}/${room}`,
  opened(_socket, role, ready) {
    if (role === "pub") ready();
  },
  received(_socket, text, _role, _room, ready) {
    if (text !== "ready") return text;
    ready();
    return undefined;
  },
  publish(socket, _room, publication) {
    socket.send(publication);
  },
};

/**
 * Engine.IO v4 over WebSocket: the server opens with `0{…}`, `40` joins the main namespace, `2` is a
 * ping answered by `3`; `42[…]` is an event and `43<id>[…]` the acknowledgement of event `<id>`.
 */
const socketIoWire: Wire = {
  url: (server) => `${server}/socket.io/?EIO=4&transport=websocket`,
  opened() {},
  received(socket, text, role, room, ready) {
    if (text.startsWith("42")) return (JSON.parse(text.slice(2)) as [string, string])[1];
    if (text === "2") socket.send("3");
    else if (text.startsWith("0")) socket.send("40");
    else if (text.startsWith("40")) {
      if (role === "pub") ready();
      else socket.send(`421${JSON.stringify(["join", room])}`);
    } else if (text.startsWith("431")) ready();
    else if (text.startsWith("41") || text.startsWith("44")) {
      throw new Error(`Socket.IO refused the connection: ${text}`);
    }
    return undefined;
  },
  publish(socket, room, publication) {
    socket.send(`42${JSON.stringify(["publish", room, publication])}`);
  },
};

/** The wire of a server kind. */
export function wireOf(kind: ServerKind): Wire {
  return kind === "socketio" ? socketIoWire : plainWire;
}

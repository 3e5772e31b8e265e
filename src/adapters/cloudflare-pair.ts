/**
 * workerd's upgrade, shared by the Worker and the Durable Object adapters: a `WebSocketPair` whose server end the
 * adapter keeps, and the 101 response that hands the client end to the runtime.
 * @module
 */

declare const WebSocketPair: { new (): { 0: WebSocket; 1: WebSocket } };

/** A new pair: `[client, server]`. */
export function socketPair(): [client: WebSocket, server: WebSocket] {
  const pair = new WebSocketPair();
  return [pair[0], pair[1]];
}

/** The 101 answer that gives `client` to the runtime, with the subprotocol chosen at the upgrade, if any. */
export function switchingProtocols(client: WebSocket, { protocol }: { protocol: string }): Response {
  const headers = protocol ? { "sec-websocket-protocol": protocol } : undefined;
  return new Response(null, { status: 101, webSocket: client, headers } as ResponseInit);
}

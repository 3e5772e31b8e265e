/**
 * The echo every `*-hono` bench server mounts with its runtime's own `upgradeWebSocket` helper,
 * written as a Hono user writes it.
 * @module
 */
import { Hono } from "hono";
import type { UpgradeWebSocket, WSEvents } from "hono/ws";

/** The events of an echo: what arrives goes back. */
export const echoEvents = (): WSEvents => ({
  onMessage(event, ws) {
    ws.send(event.data as string | ArrayBuffer);
  },
});

/** A Hono app echoing at `/websocketserver` through `upgradeWebSocket`. */
export function honoEchoApp(upgradeWebSocket: UpgradeWebSocket): Hono {
  const app = new Hono();
  app.get("/websocketserver", upgradeWebSocket(echoEvents));
  return app;
}

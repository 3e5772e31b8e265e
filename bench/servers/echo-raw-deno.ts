// The raw runtime API: Deno.serve and Deno.upgradeWebSocket, no framework.
import { serveRawDeno } from "./raw-deno-serve.ts";

serveRawDeno((socket) => {
  socket.onmessage = (event) => socket.send(event.data);
});

/**
 * Socket.IO 4 with `@socket.io/redis-adapter` in its sharded mode (SSUBSCRIBE/SPUBLISH, Redis 7),
 * over node-redis (`@redis/client`). `join` puts the socket in a room and acknowledges once done;
 * `publish` re-emits the data to everyone in the room as `message`. `/health` answers `ok`.
 * @module
 */
import { createClient } from "@redis/client";
import { createShardedAdapter } from "@socket.io/redis-adapter";
import { createServer } from "node:http";
import process from "node:process";
import { Server } from "socket.io";
import { benchPort } from "../../servers/listen-port.ts";

const publisher = createClient({ url: process.env.REDIS_URL });
const subscriber = publisher.duplicate();
await Promise.all([publisher.connect(), subscriber.connect()]);

const http = createServer((request, response) => {
  if (request.url === "/health") response.end("ok");
});
const io = new Server(http, { transports: ["websocket"], adapter: createShardedAdapter(publisher, subscriber) });
io.on("connection", (socket) => {
  socket.on("join", async (room: string, done: () => void) => {
    await socket.join(room);
    done();
  });
  socket.on("publish", (room: string, data: string) => {
    io.to(room).emit("message", data);
  });
});
http.listen(benchPort(process.env.PORT), "127.0.0.1");

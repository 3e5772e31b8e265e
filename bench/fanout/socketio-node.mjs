// Socket.IO 4 on Node with @socket.io/redis-adapter in its sharded mode (SSUBSCRIBE/SPUBLISH, Redis 7):
// a client joins the room of its handshake query; each "pub" event goes to the rest of the room.
import { createClient } from "@redis/client";
import { createShardedAdapter } from "@socket.io/redis-adapter";
import { createServer } from "node:http";
import { Server } from "socket.io";

const pubClient = createClient({ url: process.env.REDIS_URL });
const subClient = pubClient.duplicate();
await Promise.all([pubClient.connect(), subClient.connect()]);
const http = createServer();
const io = new Server(http, { transports: ["websocket"], adapter: createShardedAdapter(pubClient, subClient) });
io.on("connection", (socket) => {
  const room = String(socket.handshake.query.room);
  socket.join(room);
  socket.on("pub", (data) => socket.to(room).emit("m", data));
});
http.listen(Number(process.env.PORT), "127.0.0.1");

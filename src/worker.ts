import { worker } from "./adapters/cloudflare.ts";
import { durableObject } from "./adapters/cloudflare-durable.ts";
import { app, ChatRoom } from "./demo/app.ts";

export default worker(app);
/** The `ROOMS` binding of wrangler.toml: each chat room in its own Durable Object. */
export const RoomObject = durableObject(app, { handlers: [ChatRoom] });

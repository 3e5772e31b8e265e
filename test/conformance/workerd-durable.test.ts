import { runRooms } from "./rooms.ts";

// Rooms inside one Durable Object (route /do/:name), with the WebSocket Hibernation API.
runRooms("workerd", { pubsub: true, prefix: "/do/main", label: "workerd, in a Durable Object", hibernation: true });

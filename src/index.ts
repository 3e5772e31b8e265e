/**
 * edgesocket: one WebSocket handler class, served by Hono on Deno, Bun, Cloudflare Workers and Node.
 * Serve the app with the adapter of your runtime: `edgesocket/deno`, `/bun`, `/cloudflare` or `/node`.
 * @module
 */
export { WebSocketHandler } from "./core/handler.ts";
export { type HandlerClass, RUNTIME, type Runtime, type RuntimeEnv, websocket } from "./core/websocket.ts";
export { Connection, type Transport } from "./core/connection.ts";
export type { CloseListener } from "./core/connection.ts";
export { ConnectionRegistry } from "./core/registry.ts";
export { DEFAULT_LISTEN, type FetchApp, type ListenOptions } from "./core/serve.ts";
export { CloseCode, ReadyState } from "./core/constants.ts";
export { WebSocketClosedError } from "./core/errors.ts";
export { DEFAULT_LIMITS, type Limits, type WebSocketOptions } from "./core/options.ts";
export type { Message, SendData } from "./core/message.ts";
export { InvalidMessageError, parseMessage, type StandardSchemaV1 } from "./core/validate.ts";
export { type Backplane, MemoryTopics, type PublishOptions, PubSub, type TopicEngine } from "./core/pubsub.ts";
export { publish, subscribers, subscribersEverywhere } from "./core/publish.ts";
export { type Shutdown, SHUTDOWN_CLOSE, type ShutdownOptions } from "./core/shutdown.ts";
export { RATE_EXCEEDED_REASON, SLOW_CONSUMER_REASON } from "./core/connection.ts";

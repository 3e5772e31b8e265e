/**
 * edgesocket: one WebSocket handler class, served by Hono on Deno, Bun, Cloudflare Workers and Node.
 * What an application author uses; serve the app with the adapter of your runtime: `edgesocket/node`, `/bun`,
 * `/cloudflare`, `/cloudflare-durable`, or on Deno `@edgesocket/edgesocket/deno` (JSR). Adapter and engine
 * authors: `edgesocket/adapter`.
 * @module
 */
export { WebSocketHandler } from "./core/handler.ts";
export { type HandlerClass, websocket } from "./core/route.ts";
export { publish, subscribers, subscribersEverywhere } from "./core/route-pubsub.ts";
export type { Backplane, PublishOptions } from "./core/pubsub.ts";
export type { FetchApp, ListenOptions } from "./core/runtime.ts";
export type { SessionEngine } from "./core/session-engine.ts";
export { CloseCode, ReadyState } from "./core/constants.ts";
export { RATE_EXCEEDED_REASON, SLOW_CONSUMER_REASON } from "./core/connection.ts";
export { WebSocketClosedError } from "./core/errors.ts";
export {
  DEFAULT_LIMITS,
  DEFAULT_RESUME,
  type Limits,
  type ResumeLimits,
  type ResumeOptions,
  type WebSocketOptions,
} from "./core/options.ts";
export { NOT_FOUND_REASON, REPLAY_FULL_REASON, SESSION_EXPIRED_REASON } from "./core/session.ts";
export type { Message, SendData } from "./core/message.ts";
export { InvalidMessageError, parseMessage, type StandardSchemaV1 } from "./core/schema.ts";
export { SESSION_MOVE_CLOSE, type Shutdown, SHUTDOWN_CLOSE, type ShutdownOptions } from "./core/shutdown.ts";

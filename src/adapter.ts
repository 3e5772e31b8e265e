/**
 * edgesocket/adapter: for authors of a runtime adapter or a pub/sub engine, not for applications.
 * An adapter makes one {@link Runtime} per server, puts it in `c.env[RUNTIME]`, and reports what its
 * sockets do to each {@link Connection} (`open`, `receive`, `closed`); the built-in adapters in
 * `src/adapters/` are the worked examples. Its names may change in a minor release, the root entry's may not.
 * @module
 */
export {
  type CloseListener,
  Connection,
  type SavedConnection,
  type SessionHook,
  type SocketEvents,
  type Transport,
} from "./core/connection.ts";
export {
  type SavedSession,
  Session,
  type SessionJournal,
  SessionLink,
  type SessionPhase,
  SessionStore,
} from "./core/session.ts";
export type { MovedSession, SessionEngine } from "./core/session-engine.ts";
export { RESUME_PROTOCOL } from "./protocol/resume.ts";
export { CONNECTION } from "./core/handler.ts";
export { Heartbeat, HEARTBEAT_SLOT, type Watched } from "./core/heartbeat.ts";
export { resolveOptions } from "./core/options.ts";
export { MemoryTopics, NO_PUBSUB, PubSub, type PubSubOptions, type TopicEngine } from "./core/pubsub.ts";
export { ConnectionRegistry } from "./core/registry.ts";
export { DEFAULT_LISTEN, RUNTIME, Runtime, type RuntimeEnv, runtimeOf, type RuntimeOptions } from "./core/runtime.ts";

/**
 * A Chrome DevTools protocol session with workerd's inspector under `wrangler dev`, for the bench's readings of the
 * Worker's V8 heap (bench/load-client.ts's idle scenario, bench/workerd-heap.ts). Runs on Bun, whose global
 * `WebSocket` talks to the inspector (Node 20 has none).
 * @module
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long an inspector call, a request to it or the opening of its socket may take. */
const TIMEOUT_MS = 10_000;
/** How long {@link Inspector.open} retries while `wrangler dev` has no inspector target yet. */
const OPEN_RETRIES = 50;

interface Reply {
  id?: number;
  result?: Record<string, unknown>;
  error?: { message?: string };
}

/**
 * A session with wrangler's inspector on its first target: the Worker's isolate, which also runs the Worker's
 * Durable Objects (their classes are in the same script).
 */
export class Inspector {
  #next = 1;
  #pending = new Map<number, { resolve: (result: Record<string, unknown>) => void; reject: (error: Error) => void }>();

  private constructor(private readonly socket: WebSocket) {
    socket.onmessage = (event) => {
      const message = JSON.parse(String(event.data)) as Reply;
      if (message.id === undefined) return;
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (message.error) pending?.reject(new Error(`the inspector refused: ${message.error.message ?? "?"}`));
      else pending?.resolve(message.result ?? {});
    };
    // A workerd that went away fails what waits for it, so that the run's cleanup still runs.
    socket.onclose = () => {
      for (const { reject } of this.#pending.values()) reject(new Error("the inspector closed"));
      this.#pending.clear();
    };
  }

  /** A session on the inspector at `port`; retries while it has no target yet or refuses connections. */
  static async open(port: number): Promise<Inspector> {
    if (typeof WebSocket !== "function") throw new Error("reading workerd's heap needs a global WebSocket (Bun)");
    for (let attempt = 0;; attempt++) {
      try {
        return new Inspector(await openSocket(await firstTarget(port)));
      } catch (error) {
        if (attempt === OPEN_RETRIES) throw error;
        await sleep(200);
      }
    }
  }

  /** Calls `method`; rejects if no answer comes within {@link TIMEOUT_MS}, the call fails or the inspector closes. */
  call(method: string): Promise<Record<string, unknown>> {
    const id = this.#next++;
    this.socket.send(JSON.stringify({ id, method }));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`the inspector did not answer ${method}`));
      }, TIMEOUT_MS);
      this.#pending.set(id, {
        resolve: (result) => (clearTimeout(timer), resolve(result)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
    });
  }

  close(): void {
    this.socket.close();
  }
}

async function firstTarget(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/json`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  const targets = await response.json() as { webSocketDebuggerUrl: string }[];
  if (targets.length === 0) throw new Error("no inspector target yet");
  return targets[0]!.webSocketDebuggerUrl;
}

function openSocket(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url);
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      socket.close();
      reject(new Error(`the inspector's socket ${why}`));
    };
    const timer = setTimeout(() => fail("did not open"), TIMEOUT_MS);
    socket.onopen = () => (clearTimeout(timer), resolve(socket));
    socket.onerror = () => fail("failed");
  });
}

/**
 * Two full collections. V8 runs the inspector's collection as a task of the isolate, which workerd runs only when
 * the isolate next has an event: a request to the Worker (a 404) gives it one.
 */
export async function collectGarbage(inspector: Inspector, port: number): Promise<void> {
  const poke = async () => {
    await sleep(100);
    const response = await fetch(`http://127.0.0.1:${port}/bench/poke`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    await response.arrayBuffer();
  };
  for (let i = 0; i < 2; i++) await Promise.all([inspector.call("HeapProfiler.collectGarbage"), poke()]);
  await sleep(500);
}

/**
 * The Worker's V8 heap in use after two full collections, in bytes: the JS heap reading that the other runtimes'
 * bench servers give at `GET /bench/heap`. Opens a session on the inspector at `inspectorPort` and closes it again.
 */
export async function workerdHeapAfterGc(inspectorPort: number, port: number): Promise<number> {
  const inspector = await Inspector.open(inspectorPort);
  try {
    await collectGarbage(inspector, port);
    const { usedSize } = await inspector.call("Runtime.getHeapUsage");
    if (typeof usedSize !== "number") throw new Error("the inspector gave no heap in use");
    return usedSize;
  } finally {
    inspector.close();
  }
}

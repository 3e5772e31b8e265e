/**
 * A Chrome DevTools protocol session with workerd's inspector under `wrangler dev`, for the bench's readings of the
 * Worker's V8 heap (bench/load-client.ts's idle scenario, bench/workerd-heap.ts). Runs on Bun, whose global
 * `WebSocket` talks to the inspector.
 * @module
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long an inspector call may take (a heap snapshot is not among them). */
const CALL_TIMEOUT_MS = 60_000;

/** A Chrome DevTools protocol session with wrangler's inspector (its first target: the Worker's isolate). */
export class Inspector {
  #next = 1;
  #pending = new Map<number, { resolve: (result: Record<string, unknown>) => void; reject: (error: Error) => void }>();

  private constructor(private readonly socket: WebSocket) {
    socket.onmessage = (event) => {
      const message = JSON.parse(String(event.data)) as { id?: number; result?: Record<string, unknown> };
      if (message.id === undefined) return;
      this.#pending.get(message.id)?.resolve(message.result ?? {});
      this.#pending.delete(message.id);
    };
    // A workerd that went away fails what waits for it, so that the run's cleanup still runs.
    socket.onclose = () => {
      for (const { reject } of this.#pending.values()) reject(new Error("the inspector closed"));
      this.#pending.clear();
    };
  }

  static async open(port: number): Promise<Inspector> {
    for (let attempt = 0;; attempt++) {
      try {
        const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json() as {
          webSocketDebuggerUrl: string;
        }[];
        if (targets.length === 0) throw new Error("no inspector target yet");
        const socket = new WebSocket(targets[0]!.webSocketDebuggerUrl);
        await new Promise((resolve, reject) => {
          socket.onopen = resolve;
          socket.onerror = reject;
        });
        return new Inspector(socket);
      } catch (error) {
        if (attempt === 50) throw error;
        await sleep(200);
      }
    }
  }

  /** Calls `method`; rejects if no answer comes within {@link CALL_TIMEOUT_MS} or the inspector closes. */
  call(method: string): Promise<Record<string, unknown>> {
    const id = this.#next++;
    this.socket.send(JSON.stringify({ id, method }));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`the inspector did not answer ${method}`));
      }, CALL_TIMEOUT_MS);
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

/**
 * Two full collections. V8 runs the inspector's collection as a task of the isolate, which workerd runs only when
 * the isolate next has an event: a request to the Worker (a 404) gives it one.
 */
export async function collectGarbage(inspector: Inspector, port: number): Promise<void> {
  for (let i = 0; i < 2; i++) {
    const collected = inspector.call("HeapProfiler.collectGarbage");
    await sleep(100);
    await (await fetch(`http://127.0.0.1:${port}/bench/poke`)).arrayBuffer();
    await collected;
  }
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
    const heap = await inspector.call("Runtime.getHeapUsage") as { usedSize: number };
    return heap.usedSize;
  } finally {
    inspector.close();
  }
}

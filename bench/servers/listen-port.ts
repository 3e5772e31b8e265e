/** The port a bench server listens on: `PORT` from the environment (the runner picks a free one). */
export function benchPort(value: string | undefined): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new RangeError(`bench server needs PORT, got ${value}`);
  }
  return port;
}

// The README's vitest example of edgesocket/testing, as it is there, on the demo's seed handler.
import { expect, test } from "vitest";
import { MyWebSocketServer } from "../../src/demo/app.ts";
import { connect } from "../../src/testing.ts";

test("echoes", async () => {
  const client = await connect(MyWebSocketServer);
  client.send("hi");
  expect(await client.nextMessage()).toBe("hi");
  await client.close();
});

// The vitest example of edgesocket/testing in docs/testing.md, on the demo's seed handler (the same as examples/echo.ts).
import { expect, test } from "vitest";
import { MyWebSocketServer } from "../../src/demo/app.ts";
import { connect } from "../../src/testing.ts";

test("echoes", async () => {
  const client = await connect(MyWebSocketServer);
  client.send("hi");
  expect(await client.nextMessage()).toBe("hi");
  await client.close();
});

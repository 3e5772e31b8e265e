import { serve } from "./adapters/node.ts";
import { app, demoPort } from "./demo/app.ts";

const port = demoPort(process.env);
const server = serve(app, { port });
server.on("listening", () => console.log(`edgesocket demo on Node: http://localhost:${port}/`));

import { serve } from "./adapters/bun.ts";
import { app, demoPort } from "./demo/app.ts";

const server = serve(app, { port: demoPort(process.env) });
console.log(`edgesocket demo on Bun: http://localhost:${server.port}/`);

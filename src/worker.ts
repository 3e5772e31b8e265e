import { worker } from "./adapters/cloudflare.ts";
import { app } from "./demo/app.ts";

export default worker(app);

import { worker } from "../../src/adapters/cloudflare.ts";
import { app } from "./edgesocket-app.ts";

export default worker(app);

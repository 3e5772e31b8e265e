import { worker } from "../../src/adapters/cloudflare.ts";
import { app } from "./echo.ts";

export default worker(app);

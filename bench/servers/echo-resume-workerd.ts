// edgesocket's echo on a route with `resume: true` in a Durable Object (sessions in its storage).
import { durableEcho } from "./durable-app.ts";

const { worker, EchoObject: Durable } = durableEcho({ resume: true });

export default worker;
export class EchoObject extends Durable {}

// edgesocket's echo on a plain route in a Durable Object: the resume scenario's plain side on workerd.
import { durableEcho } from "./durable-app.ts";

const { worker, EchoObject: Durable } = durableEcho({});

export default worker;
export class EchoObject extends Durable {}

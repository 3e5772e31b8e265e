// The raw Deno echo with the resume protocol written by hand (raw-resume.ts): the resume scenario's floor on Deno,
// against `echo-raw-deno.ts`.
import { serveRawDeno } from "./raw-deno-serve.ts";
import { RawSession, RESUME_PROTOCOL } from "./raw-resume.ts";

type Message = string | ArrayBuffer;

serveRawDeno((socket) => {
  const session = new RawSession<Message>();
  session.socket = socket;
  socket.onmessage = ({ data }) => {
    if (typeof data !== "string" || data.charCodeAt(0) !== 0) session.echo(data);
    else if (!session.control(data)) socket.close(1002, "unexpected control frame");
  };
  socket.onclose = () => session.stop();
}, RESUME_PROTOCOL);

/** A small self-contained page (no build step, no CDN): shared head and style, then `body`. */
function page(title: string, style: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
  #status { font-weight: bold; }
  #log { list-style: none; padding: 0; border: 1px solid #ccc; min-height: 6rem; }
  #log li { padding: .25rem .5rem; border-bottom: 1px solid #eee; }
  #history { color: #555; font-size: .875rem; }${style}</style>
</head>
<body>${body}</body>
</html>
`;
}

/**
 * The script both pages share, as a module: `connect(url, options)` makes an `EdgeSocket` (served by the demo at
 * `/edgesocket-client.js`) with the client options given in the page's query string (`?minDelay=200&maxDelay=1000`),
 * shows its state in `#status` ("reconnecting in 2.1 s (attempt 3)") and every close and retry in `#history`.
 */
const connectionScript = `
  import { EdgeSocket } from "/edgesocket-client.js";
  const status = document.getElementById("status");
  const history = document.getElementById("history");
  const query = new URLSearchParams(location.search);
  const NUMERIC = ["minDelay", "maxDelay", "growFactor", "jitter", "minUptime", "connectionTimeout", "maxRetries"];
  let countdown;
  let current;

  function note(text) {
    const item = document.createElement("li");
    item.textContent = text;
    history.append(item);
  }

  // The socket's URL: the query's "url" if given (to try another server), else path on this host.
  function socketURL(path) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return query.get("url") ?? scheme + "//" + location.host + path;
  }

  function connect(url, options, openText) {
    for (const name of NUMERIC) if (query.has(name)) options[name] = Number(query.get(name));
    const socket = new EdgeSocket(url, undefined, options);
    current = socket;
    status.textContent = "connecting";
    socket.addEventListener("open", (event) => {
      clearInterval(countdown);
      status.textContent = openText;
      note(event.resumed ? "open (session resumed: nothing missed)" : "open");
    });
    socket.addEventListener("close", (event) => {
      if (socket !== current) return; // a room left for another
      clearInterval(countdown);
      const why = event.code + (event.reason ? " " + event.reason : "") + (event.opened ? "" : ", never opened");
      note("closed (" + why + ")");
      if (!event.willRetry) status.textContent = "closed (" + event.code + ")";
    });
    socket.addEventListener("reconnecting", (event) => {
      note("attempt " + event.attempt + " in " + event.delay + " ms");
      const show = () => {
        const seconds = (event.at - Date.now()) / 1000;
        if (seconds > 0) {
          status.textContent = "reconnecting in " + seconds.toFixed(1) + " s (attempt " + event.attempt + ")";
        } else {
          clearInterval(countdown);
          status.textContent = "connecting (attempt " + event.attempt + ")";
        }
      };
      show();
      countdown = setInterval(show, 100);
    });
    return socket;
  }
`;

/** The echo page: connects to `/websocketserver` on the same host and shows every echo. */
export const echoPage: string = page(
  "edgesocket echo",
  "",
  `
<h1>edgesocket echo</h1>
<p>Status: <span id="status" role="status" aria-live="polite">connecting</span></p>
<form id="form">
  <label for="message">Message</label>
  <input id="message" name="message" autocomplete="off" required>
  <button id="send" type="submit">Send</button>
</form>
<p>Sent while the server is away, a message waits and goes out, in order, once it is back.</p>
<h2>Echoes</h2>
<ul id="log" aria-live="polite"></ul>
<details><summary>Connection history</summary><ol id="history"></ol></details>
<script type="module">${connectionScript}
  const log = document.getElementById("log");
  const socket = connect(socketURL("/websocketserver"), {}, "open");
  socket.addEventListener("message", (event) => {
    const item = document.createElement("li");
    item.textContent = event.data;
    log.append(item);
  });
  socket.addEventListener("close", (event) => {
    if (!event.willRetry) document.getElementById("send").disabled = true;
  });
  document.getElementById("form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("message");
    socket.send(input.value);
    input.value = "";
  });
</script>
`,
);

/** The chat page: joins `/chat/:room` on the same host; everyone in the room sees every message. */
export const chatPage: string = page(
  "edgesocket chat",
  `
  #log { min-height: 10rem; }
  #log li.system { color: #555; font-style: italic; }
  label { margin-right: .5rem; }
`,
  `
<h1>edgesocket chat</h1>
<form id="join">
  <label for="room">Room</label><input id="room" value="lobby" required pattern="[A-Za-z0-9_\\-]{1,40}">
  <label for="name">Name</label><input id="name" value="guest" required maxlength="40">
  <button type="submit">Join</button>
</form>
<p>Status: <span id="status" role="status" aria-live="polite">not joined</span></p>
<form id="form">
  <label for="message">Message</label>
  <input id="message" name="message" autocomplete="off" required>
  <button type="submit">Send</button>
</form>
<ul id="log" aria-live="polite"></ul>
<details><summary>Connection history</summary><ol id="history"></ol></details>
<script type="module">${connectionScript}
  const log = document.getElementById("log");
  /** A Standard Schema (https://standardschema.dev) for what the room sends: { name, text } or { system }. */
  const ChatMessage = {
    "~standard": {
      version: 1,
      vendor: "edgesocket-demo",
      validate(value) {
        const ok = value && (typeof value.system === "string" ||
          (typeof value.name === "string" && typeof value.text === "string"));
        return ok ? { value } : { issues: [{ message: "expected { name, text } or { system }" }] };
      },
    },
  };
  let socket;
  function show(text, className) {
    const item = document.createElement("li");
    item.textContent = text;
    if (className) item.className = className;
    log.append(item);
  }
  document.getElementById("join").addEventListener("submit", (event) => {
    event.preventDefault();
    if (socket) socket.close();
    log.replaceChildren();
    const room = document.getElementById("room").value;
    socket = connect(socketURL("/chat/" + encodeURIComponent(room)), { schema: ChatMessage }, "in room " + room);
    socket.addEventListener("message", (event) => {
      if (event.data.system) show(event.data.system, "system");
      else show(event.data.name + ": " + event.data.text);
    });
    socket.addEventListener("invalidmessage", (event) => show("unreadable message: " + event.issues[0].message, "system"));
  });
  document.getElementById("form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("message");
    const name = document.getElementById("name").value;
    if (socket && socket.readyState !== socket.CLOSED) socket.send(JSON.stringify({ name, text: input.value }));
    input.value = "";
  });
</script>
`,
);

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
  #log li { padding: .25rem .5rem; border-bottom: 1px solid #eee; }${style}</style>
</head>
<body>${body}</body>
</html>
`;
}

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
<h2>Echoes</h2>
<ul id="log" aria-live="polite"></ul>
<script>
  const status = document.getElementById("status");
  const log = document.getElementById("log");
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(scheme + "//" + location.host + "/websocketserver");
  socket.onopen = () => { status.textContent = "open"; };
  socket.onclose = (event) => {
    status.textContent = "closed (" + event.code + ")";
    document.getElementById("send").disabled = true;
  };
  socket.onmessage = (event) => {
    const item = document.createElement("li");
    item.textContent = event.data;
    log.append(item);
  };
  document.getElementById("form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("message");
    if (socket.readyState === WebSocket.OPEN) socket.send(input.value);
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
  <label for="room">Room</label><input id="room" value="lobby" required pattern="[A-Za-z0-9_-]{1,40}">
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
<script>
  const status = document.getElementById("status");
  const log = document.getElementById("log");
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
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(scheme + "//" + location.host + "/chat/" + encodeURIComponent(room));
    status.textContent = "connecting to " + room;
    socket.onopen = () => { status.textContent = "in room " + room; };
    socket.onclose = (event) => { status.textContent = "closed (" + event.code + ")"; };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.system) show(message.system, "system");
      else show(message.name + ": " + message.text);
    };
  });
  document.getElementById("form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("message");
    const name = document.getElementById("name").value;
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ name, text: input.value }));
    input.value = "";
  });
</script>
`,
);

/** The echo page: connects to `/websocketserver` on the same host and shows every echo. */
export const echoPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edgesocket echo</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
  #status { font-weight: bold; }
  #log { list-style: none; padding: 0; border: 1px solid #ccc; min-height: 6rem; }
  #log li { padding: .25rem .5rem; border-bottom: 1px solid #eee; }
</style>
</head>
<body>
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
</body>
</html>
`;

"""The seed's system: a Tornado WebSocketHandler echo at /websocketserver (Debian's python3-tornado)."""
import asyncio
import os

import tornado.web
import tornado.websocket


class EchoHandler(tornado.websocket.WebSocketHandler):
    def on_message(self, message):
        self.write_message(message, binary=isinstance(message, bytes))


async def main():
    app = tornado.web.Application([(r"/websocketserver", EchoHandler)])
    app.listen(int(os.environ["PORT"]), address="127.0.0.1")
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())

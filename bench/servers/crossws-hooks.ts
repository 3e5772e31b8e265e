/**
 * The hooks every `echo-crossws-*` bench server gives its runtime's crossws adapter: what arrives goes back.
 * @module
 */
import type { Hooks } from "crossws";

/** Echoes each message as it came (text as text, binary as binary). */
export const echoHooks: Partial<Hooks> = {
  message(peer, message) {
    peer.send(message.rawData);
  },
};

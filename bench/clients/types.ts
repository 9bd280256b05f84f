export interface Closable {
  close(): Promise<void>;
}

export interface Sender extends Closable {
  /** Resolves when the server acknowledged the message. */
  send(body: string): Promise<void>;
}

export interface ReceiverEvents {
  /** The body of a `message` event, as soon as the client library hands it over. */
  onBody(body: string): void;
  /** Anything that went wrong after the receiver was live. */
  onError(error: unknown): void;
}

/** The client side of one system: a room member, and a sender. Both resolve once usable. */
export interface SystemClient {
  receiver(url: string, credential: string, events: ReceiverEvents): Promise<Closable>;
  sender(url: string, credential: string): Promise<Sender>;
}

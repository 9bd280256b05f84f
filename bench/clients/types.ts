export interface Closable {
  close(): Promise<void>;
}

export interface Sender extends Closable {
  /** Resolves when the server acknowledged the message. */
  send(body: string): Promise<void>;
}

export interface ReceiverEvents {
  /** The body of a `message` event, as soon as it is read from the frame. */
  onBody(body: string): void;
  /** Anything that went wrong after the receiver was live, a disconnect included. */
  onError(error: unknown): void;
}

/** The client side of one system: a room member, and a sender. Both resolve once usable. */
export interface SystemClient {
  receiver(
    url: string,
    credential: string,
    roomId: string,
    events: ReceiverEvents,
  ): Promise<Closable>;
  sender(url: string, credential: string, roomId: string): Promise<Sender>;
}

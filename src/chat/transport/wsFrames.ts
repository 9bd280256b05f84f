/**
 * WebSocket text frames as the server sends them (RFC 6455 §5.2: final, unmasked, no extension),
 * built once and written straight to the socket. A room event's frame is the same bytes for every
 * member, so it is built once for all of them; `ws` would build a header per member and send.
 */

const FIN_TEXT = 0x81;
const LENGTH_16 = 126;
const LENGTH_64 = 127;

function headerLength(payloadBytes: number): number {
  if (payloadBytes < LENGTH_16) return 2;
  return payloadBytes <= 0xffff ? 4 : 10;
}

/** Writes a header at `at`; returns its length. */
function writeHeader(frame: Buffer, at: number, payloadBytes: number): number {
  frame[at] = FIN_TEXT;
  if (payloadBytes < LENGTH_16) {
    frame[at + 1] = payloadBytes;
    return 2;
  }
  if (payloadBytes <= 0xffff) {
    frame[at + 1] = LENGTH_16;
    frame.writeUInt16BE(payloadBytes, at + 2);
    return 4;
  }
  frame[at + 1] = LENGTH_64;
  frame.writeBigUInt64BE(BigInt(payloadBytes), at + 2);
  return 10;
}

/** Where a frame built here has its payload. */
export function payloadStart(frame: Buffer): number {
  const length = frame[1] ?? 0;
  if (length === LENGTH_64) return 10;
  return length === LENGTH_16 ? 4 : 2;
}

/** One text frame carrying `text`. */
export function textFrame(text: string): Buffer {
  const payloadBytes = Buffer.byteLength(text);
  const start = headerLength(payloadBytes);
  const frame = Buffer.allocUnsafe(start + payloadBytes);
  writeHeader(frame, 0, payloadBytes);
  frame.write(text, start);
  return frame;
}

const NEWLINE = 0x0a;

/**
 * The messages of `frames`, newline-separated, in as few text frames as fit `maxPayload` bytes
 * each (a message larger than that gets a frame of its own), back to back in one buffer. JSON
 * never holds a raw newline, so the client splits them unambiguously.
 */
export function mergeFrames(frames: readonly Buffer[], maxPayload: number): Buffer {
  const groups: { from: number; to: number; bytes: number }[] = [];
  let group = { from: 0, to: 0, bytes: -1 };
  for (const [index, frame] of frames.entries()) {
    const bytes = frame.length - payloadStart(frame);
    if (group.to > group.from && group.bytes + 1 + bytes > maxPayload) {
      groups.push(group);
      group = { from: index, to: index, bytes: -1 };
    }
    group.bytes += 1 + bytes;
    group.to = index + 1;
  }
  groups.push(group);
  let total = 0;
  for (const { bytes } of groups) total += headerLength(bytes) + bytes;
  const merged = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const { from, to, bytes } of groups) {
    offset += writeHeader(merged, offset, bytes);
    for (let index = from; index < to; index++) {
      const frame = frames[index] as Buffer;
      if (index > from) merged[offset++] = NEWLINE;
      offset += frame.copy(merged, offset, payloadStart(frame));
    }
  }
  return merged;
}

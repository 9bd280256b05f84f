import { describe, expect, it } from 'vitest';
import { mergeFrames, textFrame } from '../../src/chat/transport/wsFrames.js';

/** Reads server frames back (RFC 6455 §5.2), independently of the code under test. */
function readFrames(bytes: Buffer): string[] {
  const texts: string[] = [];
  let at = 0;
  while (at < bytes.length) {
    expect(bytes[at]).toBe(0x81); // FIN, text
    const second = bytes[at + 1] as number;
    expect(second & 0x80).toBe(0); // a server never masks
    let length = second & 0x7f;
    let header = 2;
    if (length === 126) {
      length = bytes.readUInt16BE(at + 2);
      header = 4;
      expect(length).toBeGreaterThanOrEqual(126);
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(at + 2));
      header = 10;
      expect(length).toBeGreaterThan(0xffff);
    }
    texts.push(bytes.toString('utf8', at + header, at + header + length));
    at += header + length;
  }
  expect(at).toBe(bytes.length);
  return texts;
}

const text = (bytes: number, fill = 'x') => fill.repeat(bytes);

describe('textFrame', () => {
  it.each([0, 1, 125, 126, 127, 0xffff, 0x10000, 300_000])(
    'frames a payload of %i bytes with the shortest header',
    (bytes) => {
      const frame = textFrame(text(bytes));
      expect(readFrames(frame)).toEqual([text(bytes)]);
      const header = bytes < 126 ? 2 : bytes <= 0xffff ? 4 : 10;
      expect(frame.length).toBe(header + bytes);
    },
  );

  it('counts bytes, not characters', () => {
    expect(readFrames(textFrame('é€😀'.repeat(50)))).toEqual(['é€😀'.repeat(50)]);
  });
});

describe('mergeFrames', () => {
  it('puts messages one per line, in order, in one frame while they fit', () => {
    const messages = ['{"id":1}', '{"id":2}', '{"id":3}'];
    expect(readFrames(mergeFrames(messages.map(textFrame), 1024))).toEqual([messages.join('\n')]);
  });

  it('starts a new frame before one would pass the limit, and gives a larger message its own', () => {
    const messages = [text(40, 'a'), text(40, 'b'), text(40, 'c'), text(300, 'd'), text(10, 'e')];
    const frames = readFrames(mergeFrames(messages.map(textFrame), 100));
    expect(frames).toEqual([
      `${messages[0]}\n${messages[1]}`,
      messages[2],
      messages[3],
      messages[4],
    ]);
    expect(frames.join('\n')).toBe(messages.join('\n'));
  });

  it('fills a frame exactly to the limit, separators included', () => {
    const messages = [text(49, 'a'), text(50, 'b'), text(1, 'c')];
    const frames = readFrames(mergeFrames(messages.map(textFrame), 100));
    expect(frames).toEqual([`${messages[0]}\n${messages[1]}`, messages[2]]);
    expect(Buffer.byteLength(frames[0] ?? '')).toBe(100);
  });

  it('reads merged frames of every header size back', () => {
    const messages = Array.from({ length: 40 }, (_, i) => text(3_000 + i, String(i % 10)));
    const frames = readFrames(mergeFrames(messages.map(textFrame), 64 * 1024));
    expect(frames.join('\n')).toBe(messages.join('\n'));
    expect(frames.length).toBe(2);
  });
});

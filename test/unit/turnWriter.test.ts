import { describe, expect, it } from 'vitest';
import { type Outlet, TurnWriter } from '../../src/chat/transport/turnWriter.js';
import { mergeFrames, textFrame } from '../../src/chat/transport/wsFrames.js';

/** An outlet over a fake socket that records every write. */
function outlet(batched: boolean, open = true) {
  const writes: Buffer[] = [];
  const socket = { write: (bytes: Buffer) => writes.push(bytes) };
  const target: Outlet = { queued: null, queuedBytes: 0, batched, socket, isOpen: () => open };
  return { target, writes };
}

const endOfTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('TurnWriter', () => {
  const frames = ['{"id":1}', '{"id":2}', '{"id":3}'].map(textFrame);

  it('writes what a socket got in one turn once, at the end of the turn', async () => {
    const writer = new TurnWriter(1024);
    const { target, writes } = outlet(false);
    for (const frame of frames) writer.queue(target, frame);
    expect(target.queuedBytes).toBe(frames.reduce((sum, frame) => sum + frame.length, 0));
    expect(writes).toEqual([]);
    await endOfTurn();
    expect(writes).toEqual([Buffer.concat(frames)]);
    expect(target.queued).toBeNull();
    expect(target.queuedBytes).toBe(0);
  });

  it('merges the turn into batched frames for a batched socket', async () => {
    const writer = new TurnWriter(1024);
    const { target, writes } = outlet(true);
    for (const frame of frames) writer.queue(target, frame);
    await endOfTurn();
    expect(writes).toEqual([mergeFrames(frames, 1024)]);
  });

  it('writes the same buffer to every socket that got the same frames, and builds it once', async () => {
    const writer = new TurnWriter(1024);
    const members = [outlet(true), outlet(true), outlet(false), outlet(false)];
    for (const frame of frames) for (const { target } of members) writer.queue(target, frame);
    const different = outlet(true);
    writer.queue(different.target, frames[0] as Buffer);
    writer.queue(different.target, frames[2] as Buffer);
    await endOfTurn();
    const [a, b, c, d] = members.map(({ writes }) => writes[0]);
    expect(a).toBe(b);
    expect(c).toBe(d);
    expect(a).not.toEqual(c);
    expect(different.writes[0]).toEqual(mergeFrames([frames[0], frames[2]] as Buffer[], 1024));
    expect(members.every(({ writes }) => writes.length === 1)).toBe(true);
  });

  it('writes a lone frame as it is, shared', async () => {
    const writer = new TurnWriter(1024);
    const { target, writes } = outlet(true);
    writer.queue(target, frames[0] as Buffer);
    await endOfTurn();
    expect(writes[0]).toBe(frames[0]);
  });

  it('flushes at once when asked, and writes nothing for a closed socket', async () => {
    const writer = new TurnWriter(1024);
    const open = outlet(false);
    const closed = outlet(false, false);
    writer.queue(open.target, frames[0] as Buffer);
    writer.queue(closed.target, frames[0] as Buffer);
    writer.flush(open.target);
    expect(open.writes).toEqual([frames[0]]);
    await endOfTurn();
    expect(open.writes).toHaveLength(1);
    expect(closed.writes).toEqual([]);
  });
});

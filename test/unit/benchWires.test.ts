import { describe, expect, it } from 'vitest';
import { frameReader, type Reading, SPLITTERS, type Wire } from '../../bench/clients/bare.js';
import { centrifugoReceiverWire, centrifugoSenderWire } from '../../bench/clients/centrifugo.js';
import { chatHubReceiverWire, chatHubSenderWire } from '../../bench/clients/chathub.js';
import { socketIoReceiverWire } from '../../bench/clients/socketio.js';
import { roomMessageEvent } from '../../bench/payload.js';

/** What a wire makes of one text frame, as the bare client would see it. */
function readFrame(wire: Wire, text: string): (Reading | null)[] {
  return frameReader(wire)(text);
}

const event = (body: string) => roomMessageEvent(1, 'general', { id: 'u', username: 'u' }, body);

describe('bench frame splitters', () => {
  it('reads one JSON document per frame, per line, or per array element', () => {
    expect(SPLITTERS.single('{"a":1}')).toEqual([{ a: 1 }]);
    expect(SPLITTERS.lines('{"a":1}\n{}\n{"b":2}\n')).toEqual([{ a: 1 }, {}, { b: 2 }]);
    expect(SPLITTERS.lines('{"a":1}')).toEqual([{ a: 1 }]);
    expect(SPLITTERS.array('[{"a":1},{"b":2}]')).toEqual([{ a: 1 }, { b: 2 }]);
    expect(SPLITTERS.array('{"a":1}')).toEqual([{ a: 1 }]);
  });

  it('refuses a frame that is not JSON', () => {
    expect(() => SPLITTERS.single('{"a":')).toThrow();
    expect(() => SPLITTERS.lines('{"a":1}\nnope')).toThrow();
  });
});

describe('bench ChatHub wire (tRPC over ws, by hand)', () => {
  const tracked = (data: unknown) =>
    JSON.stringify({ id: 1, result: { type: 'data', id: '7', data: { id: '7', data } } });

  it('authenticates with connection params, subscribes, and counts message bodies', () => {
    const wire = chatHubReceiverWire('tok', 'room-1', { format: 'single' });
    expect(wire.hello.map((frame) => JSON.parse(frame))).toEqual([
      { method: 'connectionParams', data: { token: 'tok' } },
      {
        id: 1,
        method: 'subscription',
        params: { path: 'chat.events', input: { roomId: 'room-1' } },
      },
    ]);
    expect(readFrame(wire, '{"id":1,"result":{"type":"started"}}')).toEqual([null]);
    expect(readFrame(wire, tracked({ type: 'snapshot', messages: [], hasMore: false }))).toEqual([
      { kind: 'live' },
    ]);
    expect(readFrame(wire, tracked(event('t:2:5')))).toEqual([{ kind: 'body', body: 't:2:5' }]);
    expect(readFrame(wire, tracked({ type: 'presence', online: 3 }))).toEqual([null]);
    expect(readFrame(wire, 'PING')).toEqual([{ kind: 'reply', frame: 'PONG' }]);
  });

  it('reads several events from one frame in the lines and array formats', () => {
    const frames = [tracked(event('a')), tracked(event('b'))];
    const lines = chatHubReceiverWire('tok', 'general', { format: 'lines' });
    const array = chatHubReceiverWire('tok', 'general', { format: 'array' });
    const bodies = [
      { kind: 'body', body: 'a' },
      { kind: 'body', body: 'b' },
    ];
    expect(readFrame(lines, frames.join('\n'))).toEqual(bodies);
    expect(readFrame(array, `[${frames.join(',')}]`)).toEqual(bodies);
  });

  it('passes negotiated connection params on connect', () => {
    const wire = chatHubReceiverWire('tok', 'general', {
      format: 'array',
      connectionParams: { wire: 'batched' },
    });
    expect(JSON.parse(wire.hello[0] ?? '')).toEqual({
      method: 'connectionParams',
      data: { token: 'tok', wire: 'batched' },
    });
  });

  it('turns error responses into failures with their code', () => {
    const wire = chatHubReceiverWire('tok', 'general', { format: 'single' });
    const error = { message: 'Sign in first', data: { code: 'UNAUTHORIZED' } };
    expect(readFrame(wire, JSON.stringify({ id: 1, error }))).toEqual([
      { kind: 'nack', id: 1, error: 'UNAUTHORIZED: Sign in first' },
    ]);
    expect(readFrame(wire, JSON.stringify({ id: null, error }))).toEqual([
      { kind: 'error', error: 'UNAUTHORIZED: Sign in first' },
    ]);
    expect(readFrame(wire, '{"id":null,"method":"reconnect"}')).toEqual([
      { kind: 'error', error: 'the server asked clients to reconnect' },
    ]);
  });

  it('sends chat.send mutations and matches their acknowledgements by id', () => {
    const wire = chatHubSenderWire('tok', 'general', { format: 'single' });
    expect(JSON.parse(wire.request(100, 'hi'))).toEqual({
      id: 100,
      method: 'mutation',
      params: { path: 'chat.send', input: { roomId: 'general', body: 'hi' } },
    });
    expect(readFrame(wire, '{"id":0,"result":{"type":"data","data":{"messages":[]}}}')).toEqual([
      { kind: 'live' },
    ]);
    expect(readFrame(wire, '{"id":100,"result":{"type":"data","data":{"id":"m"}}}')).toEqual([
      { kind: 'ack', id: 100 },
    ]);
    const tooMany = { message: 'Slow down', data: { code: 'TOO_MANY_REQUESTS' } };
    expect(readFrame(wire, JSON.stringify({ id: 101, error: tooMany }))).toEqual([
      { kind: 'nack', id: 101, error: 'TOO_MANY_REQUESTS: Slow down' },
    ]);
  });
});

describe('bench Centrifugo wire (JSON protocol)', () => {
  const push = (body: string) =>
    JSON.stringify({ push: { channel: 'general', pub: { data: event(body), offset: 1 } } });

  it('connects, subscribes once connected, and is live once subscribed', () => {
    const wire = centrifugoReceiverWire('tok', 'general');
    expect(wire.hello).toEqual(['{"id":1,"connect":{"token":"tok"}}']);
    expect(readFrame(wire, '{"id":1,"connect":{"client":"c","version":"6.9.1"}}')).toEqual([
      { kind: 'reply', frame: '{"id":2,"subscribe":{"channel":"general"}}' },
    ]);
    expect(readFrame(wire, '{"id":2,"subscribe":{"recoverable":true,"epoch":"e"}}')).toEqual([
      { kind: 'live' },
    ]);
  });

  it('reads every reply of a merged frame and answers the ping inside it', () => {
    const wire = centrifugoReceiverWire('tok', 'general');
    expect(readFrame(wire, `${push('a')}\n{}\n${push('b')}`)).toEqual([
      { kind: 'body', body: 'a' },
      { kind: 'reply', frame: '{}' },
      { kind: 'body', body: 'b' },
    ]);
  });

  it('reports refusals and disconnects', () => {
    const wire = centrifugoReceiverWire('tok', 'general');
    expect(readFrame(wire, '{"id":2,"error":{"code":103,"message":"permission denied"}}')).toEqual([
      { kind: 'nack', id: 2, error: 'Centrifugo error 103: permission denied' },
    ]);
    expect(readFrame(wire, '{"push":{"disconnect":{"code":3501,"reason":"bad request"}}}')).toEqual(
      [{ kind: 'error', error: 'disconnected: {"code":3501,"reason":"bad request"}' }],
    );
  });

  it('publishes the same event shape as the other systems, signed by the token subject', () => {
    const payload = Buffer.from(JSON.stringify({ sub: 'bench-s3' })).toString('base64url');
    const wire = centrifugoSenderWire(`h.${payload}.s`, 'general');
    const { id, publish } = JSON.parse(wire.request(100, 't:2:1')) as {
      id: number;
      publish: { channel: string; data: ReturnType<typeof event> };
    };
    expect(id).toBe(100);
    expect(publish.channel).toBe('general');
    expect(publish.data.message).toMatchObject({
      body: 't:2:1',
      roomId: 'general',
      author: { id: 'bench-s3', username: 'bench-s3' },
    });
    expect(readFrame(wire, '{"id":1,"connect":{}}')).toEqual([{ kind: 'live' }]);
    expect(readFrame(wire, '{"id":100,"publish":{}}')).toEqual([{ kind: 'ack', id: 100 }]);
  });
});

describe('bench Socket.IO wire (Engine.IO 4 packets)', () => {
  it('connects the namespace with its auth, joins, and reads message events', () => {
    const wire = socketIoReceiverWire('bench-r1', 'room-2');
    expect(readFrame(wire, '0{"sid":"s","pingInterval":25000}')).toEqual([
      { kind: 'reply', frame: '40{"user":"bench-r1"}' },
    ]);
    expect(readFrame(wire, '40{"sid":"n"}')).toEqual([
      { kind: 'reply', frame: '420["join","room-2"]' },
    ]);
    expect(readFrame(wire, '430[]')).toEqual([{ kind: 'live' }]);
    expect(readFrame(wire, `42${JSON.stringify(['message', event('x')])}`)).toEqual([
      { kind: 'body', body: 'x' },
    ]);
    expect(readFrame(wire, '2')).toEqual([{ kind: 'reply', frame: '3' }]);
    expect(readFrame(wire, '44{"message":"no"}')).toEqual([
      { kind: 'error', error: 'connect refused: 44{"message":"no"}' },
    ]);
  });
});

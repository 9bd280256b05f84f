import { type FormEvent, useState } from 'react';
import { describeError } from '../../client/errors.js';
import { LIMITS } from '../../contract/limits.js';
import { trpc } from '../api/trpc.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { hrefFor, navigate } from '../router.js';

const REFRESH_MS = 5_000;

export function RoomsScreen() {
  const rooms = trpc.rooms.list.useQuery(undefined, { refetchInterval: REFRESH_MS });
  const utils = trpc.useUtils();
  const create = trpc.rooms.create.useMutation();
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const room = await create.mutateAsync({ name });
      setName('');
      setError(null);
      await utils.rooms.list.invalidate();
      navigate({ name: 'room', roomId: room.id });
    } catch (failure) {
      setError(describeError(failure).message);
    }
  };

  return (
    <section className="rooms" aria-labelledby="rooms-title">
      <h1 id="rooms-title">Rooms</h1>
      {rooms.error ? <ErrorBanner message={describeError(rooms.error).message} /> : null}
      {rooms.isPending ? <p className="muted">Loading rooms…</p> : null}
      <ul className="room-list">
        {rooms.data?.map((room) => (
          <li key={room.id}>
            <a
              className="room-link"
              href={hrefFor({ name: 'room', roomId: room.id })}
              onClick={(event) => {
                event.preventDefault();
                navigate({ name: 'room', roomId: room.id });
              }}
            >
              <span className="room-name"># {room.name}</span>
              <span className={room.online > 0 ? 'online online-active' : 'online'}>
                {room.online} online
              </span>
            </a>
          </li>
        ))}
      </ul>
      <form className="create-room" onSubmit={submit}>
        <label htmlFor="new-room">New room name</label>
        <div className="create-room-row">
          <input
            id="new-room"
            value={name}
            maxLength={LIMITS.roomNameMax}
            placeholder="e.g. Product Q&A"
            onChange={(event) => setName(event.target.value)}
          />
          <button
            type="submit"
            className="button button-primary"
            disabled={create.isPending || !name.trim()}
          >
            Create room
          </button>
        </div>
        <ErrorBanner message={error} onDismiss={() => setError(null)} />
      </form>
    </section>
  );
}

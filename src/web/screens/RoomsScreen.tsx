import { useState } from 'react';
import { LIMITS } from '../../contract/limits.js';
import { CreateRoomForm } from '../directory/CreateRoomForm.js';
import { RoomDirectory } from '../directory/RoomDirectory.js';
import { useDebouncedValue } from '../directory/useDebouncedValue.js';

/** Typing pauses this long before the server is asked. */
const SEARCH_DEBOUNCE_MS = 300;

export function RoomsScreen() {
  const [search, setSearch] = useState('');
  const query = useDebouncedValue(search.trim(), SEARCH_DEBOUNCE_MS);

  return (
    <section className="rooms" aria-labelledby="rooms-title">
      <h1 id="rooms-title">Rooms</h1>
      {/* Above the directory, which may grow long with "Load more". */}
      <CreateRoomForm />
      <div className="room-search">
        <label htmlFor="room-search">Find a room</label>
        <input
          id="room-search"
          type="search"
          value={search}
          maxLength={LIMITS.roomSearchMax}
          placeholder="Start of a room name"
          autoComplete="off"
          onChange={(event) => setSearch(event.target.value)}
        />
      </div>
      <RoomDirectory query={query} />
    </section>
  );
}

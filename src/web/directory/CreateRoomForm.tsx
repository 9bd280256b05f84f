import { type FormEvent, useId, useState } from 'react';
import { describeError, type ErrorDetails } from '../../client/errors.js';
import { LIMITS } from '../../contract/limits.js';
import { trpc } from '../api/trpc.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { navigate } from '../router.js';

/** Creates a room and opens it; the server's objection to the name is shown next to the field. */
export function CreateRoomForm() {
  const utils = trpc.useUtils();
  const create = trpc.rooms.create.useMutation();
  const [name, setName] = useState('');
  const [failure, setFailure] = useState<ErrorDetails | null>(null);
  const id = useId();
  const nameError = failure?.fieldErrors.name?.[0] ?? null;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const room = await create.mutateAsync({ name });
      setName('');
      setFailure(null);
      await utils.rooms.list.invalidate();
      navigate({ name: 'room', roomId: room.id });
    } catch (error) {
      setFailure(describeError(error));
    }
  };

  return (
    <form className="create-room" onSubmit={submit}>
      <label htmlFor={id}>New room name</label>
      <div className="create-room-row">
        <input
          id={id}
          value={name}
          maxLength={LIMITS.roomNameMax}
          placeholder="e.g. Product Q&A"
          onChange={(event) => setName(event.target.value)}
          aria-invalid={nameError ? true : undefined}
          aria-describedby={`${id}-message`}
        />
        <button
          type="submit"
          className="button button-primary"
          disabled={create.isPending || !name.trim()}
        >
          Create room
        </button>
      </div>
      <p id={`${id}-message`} className={nameError ? 'field-error' : 'field-hint'}>
        {nameError ?? ''}
      </p>
      <ErrorBanner
        message={failure && !nameError ? failure.message : null}
        onDismiss={() => setFailure(null)}
      />
    </form>
  );
}

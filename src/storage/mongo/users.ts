import { DuplicateKeyError, type UserRecord, type UserRepository } from '../store.js';
import type { Collections } from './collections.js';
import { isDuplicateKey } from './errors.js';

export function userRepository({ users }: Collections): UserRepository {
  return {
    async create(user: UserRecord) {
      try {
        await users.insertOne({
          _id: user.id,
          username: user.username,
          usernameKey: user.username.toLowerCase(),
          passwordHash: user.passwordHash,
          createdAt: user.createdAt,
        });
      } catch (error) {
        if (isDuplicateKey(error)) throw new DuplicateKeyError('username');
        throw error;
      }
    },
    async findByUsername(username: string) {
      const doc = await users.findOne({ usernameKey: username.toLowerCase() });
      if (!doc) return null;
      return {
        id: doc._id,
        username: doc.username,
        passwordHash: doc.passwordHash,
        createdAt: doc.createdAt,
      };
    },
  };
}

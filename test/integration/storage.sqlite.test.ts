import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openSqliteStore } from '../../src/storage/sqlite.js';
import { describeStoreContract } from '../contract/store.contract.js';

const dir = mkdtempSync(join(tmpdir(), 'chathub-sqlite-contract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Every open() is a new connection to the same file, as the contract's durability test needs.
describeStoreContract('sqlite', async () => openSqliteStore(join(dir, 'chathub.db')));

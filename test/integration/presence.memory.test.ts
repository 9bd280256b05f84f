import { createMemoryPresence } from '../../src/presence/memory.js';
import { describePresenceContract } from '../contract/presence.contract.js';

describePresenceContract('memory', async () => createMemoryPresence());

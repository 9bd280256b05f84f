import { createMemoryBus } from '../../src/bus/memory.js';
import { describeBusContract } from '../contract/bus.contract.js';

describeBusContract('memory', async () => createMemoryBus());

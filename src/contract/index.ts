export * from './events.js';
export * from './limits.js';
export * from './models.js';
export * from './roomState.js';
export * from './schemas.js';

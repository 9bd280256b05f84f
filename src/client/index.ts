export { type ApiClient, createApiClient, type TokenSource } from './apiClient.js';
export { type Backoff, DEFAULT_BACKOFF } from './backoff.js';
export {
  type ChatHubConnection,
  type ChatHubControls,
  type ConnectOptions,
  type CredentialsInput,
  connect,
} from './connect.js';
export { describeError, type ErrorDetails, isRetryable, isUnauthorized } from './errors.js';
export {
  type ChatHubLinkOptions,
  type ChatHubLinks,
  createChatHubLinks,
  type WebSocketImplementation,
} from './links.js';
export { newClientMessageId, type PendingMessage } from './pendingSends.js';
export {
  type FollowedRoom,
  type FollowOptions,
  followRoom,
  type RoomClient,
  type RoomFollower,
  type RoomStatus,
} from './roomFollower.js';

// Type declarations of rtd.js, the client of rtd's channel protocol.

export declare const ErrorCode: Readonly<{
  BadRequest: 100;
  UnknownOp: 101;
  PermissionDenied: 103;
  InvalidChannel: 104;
  AlreadySubscribed: 105;
  NotSubscribed: 106;
  LimitExceeded: 107;
  Unavailable: 108;
  TokenInvalid: 109;
  Internal: 110;
  InvalidPosition: 111;
  BrokerUnavailable: 112;
}>;

export declare const CloseCode: Readonly<{
  Normal: 1000;
  GoingAway: 1001;
  Abnormal: 1006;
  Policy: 1008;
  TooBig: 1009;
  TryAgainLater: 1013;
  TokenExpired: 3000;
}>;

/** The base of every error rtd.js reports; code is the protocol's code (0: client-side). */
export declare class RtdError extends Error {
  constructor(code: number, message: string);
  readonly code: number;
}
export declare class BadRequestError extends RtdError {}
export declare class UnknownOpError extends RtdError {}
export declare class PermissionDeniedError extends RtdError {}
export declare class InvalidChannelError extends RtdError {}
export declare class AlreadySubscribedError extends RtdError {}
export declare class NotSubscribedError extends RtdError {}
export declare class LimitExceededError extends RtdError {}
export declare class UnavailableError extends RtdError {}
export declare class TokenInvalidError extends RtdError {}
export declare class InternalError extends RtdError {}
export declare class InvalidPositionError extends RtdError {}
export declare class BrokerUnavailableError extends RtdError {}
export declare class TimeoutError extends RtdError {
  constructor(message?: string);
}
export declare class DisconnectedError extends RtdError {
  constructor(message?: string);
}
export declare class TransportError extends RtdError {
  constructor(message: string);
}

/** Turns a reply's error object into the typed error of its code. */
export declare function errorFromReply(e: { code: number; message: string }): RtdError;

/** The WebSocket class rtd.js uses: the browser's, or npm `ws`'s in Node. */
export interface WebSocketLike {
  onopen: ((ev: any) => void) | null;
  onmessage: ((ev: { data: any }) => void) | null;
  onerror: ((ev: any) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface ClientOptions {
  /** A connection token (JWT). */
  token?: string;
  /** Called before connecting when there is no token (or it is about to expire), and before it expires, to refresh it. */
  getToken?: () => Promise<string>;
  /** The WebSocket class (default: globalThis.WebSocket; in Node pass npm `ws`'s). */
  websocket?: WebSocketConstructor;
  /** First reconnect delay in ms (default 500); doubles per failed attempt, with jitter. */
  minReconnectDelay?: number;
  /** Longest reconnect delay in ms (default 20000). */
  maxReconnectDelay?: number;
  /** How long a command waits for its reply, in ms (default 5000). */
  timeout?: number;
  /** Fall back to SSE when WebSocket cannot connect (default true). */
  sse?: boolean;
  /** The /sse endpoint (default: derived from the /ws URL). */
  sseUrl?: string;
  /** The fetch used for SSE (default: globalThis.fetch). */
  fetch?: typeof fetch;
}

export type ClientState = 'disconnected' | 'connecting' | 'connected';
export type Transport = 'websocket' | 'sse';

export interface ConnectingContext { code: number; reason: string }
export interface ConnectedContext { transport: Transport }
export interface DisconnectedContext { code: number; reason: string }
export interface ErrorContext { type: 'token' | 'transport' | 'refresh' | 'protocol'; error: unknown }
export interface RefreshedContext { expires?: number }

export interface ClientEvents {
  connecting: (ctx: ConnectingContext) => void;
  connected: (ctx: ConnectedContext) => void;
  disconnected: (ctx: DisconnectedContext) => void;
  error: (ctx: ErrorContext) => void;
  refreshed: (ctx: RefreshedContext) => void;
  /** A push with no channel (/api/send, /api/broadcast). */
  message: (push: Record<string, unknown>) => void;
}

export interface Reply { id: number; ok: true; [field: string]: unknown }
export interface PublishResult extends Reply { offset: number; epoch: string }
export interface PresenceClient { client: string; user: string; info?: unknown }
export interface PresenceResult extends Reply {
  clients: number;
  users: string[];
  user_count: number;
  list: PresenceClient[];
  node?: { clients: number; users: string[]; user_count: number; list: PresenceClient[] };
}
export interface HistoryPublication { channel: string; offset: number; epoch: string; event?: string; data: unknown }
export interface HistoryResult extends Reply {
  position: string;
  recovered?: boolean;
  publications: HistoryPublication[];
  more?: boolean;
  next?: string;
}
export interface HistoryOptions { since?: string; limit?: number }
export interface PublishOptions { event?: string }

declare class Emitter<E extends { [K in keyof E]: (...args: any[]) => void }> {
  on<K extends keyof E>(event: K, fn: E[K]): this;
  once<K extends keyof E>(event: K, fn: E[K]): this;
  off<K extends keyof E>(event: K, fn?: E[K]): this;
}

export declare class Client extends Emitter<ClientEvents> {
  constructor(url: string, opts?: ClientOptions);
  readonly state: ClientState;
  /** The transport in use while connected. */
  readonly transport: Transport | null;
  connect(): void;
  disconnect(): void;
  newSubscription(channel: string, opts?: SubscriptionOptions): Subscription;
  getSubscription(channel: string): Subscription | null;
  removeSubscription(sub: Subscription): void;
  publish(channel: string, data: unknown, opts?: PublishOptions): Promise<PublishResult>;
  presence(channel: string): Promise<PresenceResult>;
  history(channel: string, opts?: HistoryOptions): Promise<HistoryResult>;
  ping(): Promise<Reply>;
  /** Any command of the channel protocol; resolves with the reply. */
  command(op: string, fields?: Record<string, unknown>): Promise<Reply>;
}

export interface SubscriptionOptions {
  /** Resume from this position ("epoch:offset"): publications after it are delivered first. */
  since?: string;
}

export type SubscriptionState = 'unsubscribed' | 'subscribing' | 'subscribed';

export interface Publication {
  channel: string;
  data: unknown;
  event?: string;
  offset: number;
  epoch: string;
}
export interface SubscribedContext {
  channel: string;
  /**
   * With a position to resume from: whether every publication after it will be delivered.
   * Over SSE a resume is taken as recovered when the stream opens; the server's word that it
   * was not comes as a second subscribed event with recovered false.
   */
  recovered: boolean;
  position?: string;
  transport: Transport;
}
export interface UnsubscribedContext { channel: string; code: number; reason: string }
export interface SubscriptionErrorContext { channel: string; error: RtdError }
export interface JoinLeaveContext { channel: string; info: { client: string; user?: string } }

export interface SubscriptionEvents {
  subscribing: (ctx: { channel: string }) => void;
  subscribed: (ctx: SubscribedContext) => void;
  publication: (pub: Publication) => void;
  unsubscribed: (ctx: UnsubscribedContext) => void;
  error: (ctx: SubscriptionErrorContext) => void;
  join: (ctx: JoinLeaveContext) => void;
  leave: (ctx: JoinLeaveContext) => void;
}

export declare class Subscription extends Emitter<SubscriptionEvents> {
  readonly channel: string;
  readonly state: SubscriptionState;
  /** The position of the last publication delivered, "epoch:offset". */
  readonly position: string | undefined;
  subscribe(): void;
  unsubscribe(): void;
  publish(data: unknown, opts?: PublishOptions): Promise<PublishResult>;
  presence(): Promise<PresenceResult>;
  history(opts?: HistoryOptions): Promise<HistoryResult>;
}

// The one config schema (zod), with its defaults as exported constants. Parsed once at start.

import { z } from 'zod';
import { TIER_IDS } from '../pricing/types.js';
import { DEFAULT_DAILY_RETENTION_DAYS, DEFAULT_HOURLY_RETENTION_DAYS, DEFAULT_RECEIPTS_PER_ACCOUNT, isTimeZone } from '../ledger/usage-history.js';

export const DEFAULT_PROXY_PORT = 8080;
export const DEFAULT_ADMIN_PORT = 8081;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_KEY_PREFIX = 'tg';
/**
 * Bodies read whole before forwarding (JSON, small forms), per modality; bigger ones get 413
 * before more is read. LLM: base64 images ride in the JSON (OpenAI takes 20 MB images, Anthropic
 * caps a request at 32 MB and an image at 5 MB): 20 MiB holds several photos; larger inputs go by
 * URL or file id. TTS: 40,000 characters (ElevenLabs' longest) are < 200 KB even as \u escapes,
 * but Chatterbox, Pocket TTS and Fish Audio carry a voice sample in the body: 4 MiB is ~45 s of
 * 16-bit 44.1 kHz WAV. STT and RAG bodies read whole are options and queries (audio streams through).
 */
export const DEFAULT_MAX_JSON_BODY_BYTES = { llm: 20 * 1024 * 1024, tts: 4 * 1024 * 1024, stt: 64 * 1024, rag: 64 * 1024 } as const;
/** Bytes of request bodies one process holds before their reservation; past it: 503 server_busy. */
export const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
/** Open connections on the proxy port, per process; more are closed at once. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/** Config API keys (accounts[].apiKeys) are at least this long (issued keys: 35 characters). */
export const MIN_CONFIG_KEY_LENGTH = 32;
/** ... and use at least this many distinct characters (refuses 'aaaa…' and '0000…' placeholders). */
export const MIN_CONFIG_KEY_DISTINCT_CHARS = 8;
/** Time to the upstream's response headers before 504 upstream_timeout. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 120_000;
/** Longest silence inside a streamed response body before it is cut. */
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 300_000;
/** LLM reservation when the request names no max_tokens. */
export const DEFAULT_LLM_MAX_TOKENS = 4096;
/** An unsettled reservation is released after this long (a crashed process holds nothing forever). */
export const DEFAULT_RESERVATION_TTL_MS = 30 * 60_000;
/** STT reservation bound when the duration is unknown before forwarding: bytes per second of audio assumed. */
export const DEFAULT_STT_RESERVE_BYTES_PER_SECOND = 4_000;
/** STT reservation cap in seconds when only Content-Length is known. */
export const DEFAULT_STT_MAX_RESERVE_SECONDS = 3_600;
export const DEFAULT_SHUTDOWN_GRACE_MS = 30_000;
/**
 * A graceful stop ends within shutdown.graceMs plus this: past the grace period, calls still
 * running are cut and settled (1 s), then the admin port and the ledger close; bin/tollgate.ts
 * exits at graceMs + SHUTDOWN_MARGIN_MS whatever still hangs.
 */
export const SHUTDOWN_MARGIN_MS = 3_000;
/** A non-streamed answer whose client left is read on (and discarded) up to this many bytes for its usage. */
export const DEFAULT_DRAIN_MAX_BYTES = 16 * 1024 * 1024;
/** A stored BYOK key changed on one replica reaches the others within this time. */
export const DEFAULT_STORED_KEY_CACHE_TTL_MS = 5_000;
export const DEFAULT_FLUSH_INTERVAL_MS = 60_000;
export const DEFAULT_METER_EVENT_NAME = 'tollgate_overage_credits';
/** Where settles that cannot reach Redis wait (and the ledger epoch is remembered): relative to the working directory. */
export const DEFAULT_JOURNAL_DIR = './data/journal';
export const DEFAULT_JOURNAL_MAX_BYTES = 64 * 1024 * 1024;
/** How often each process checks that Redis still holds the ledger it knew (its epoch). */
export const DEFAULT_EPOCH_CHECK_MS = 5_000;
/** Realtime sessions settle what passed at this interval (so /v1/usage shows them live). */
export const DEFAULT_REALTIME_SETTLE_INTERVAL_MS = 5_000;
/** Open realtime sessions per account, per tier (across every replica: the ledger counts them). */
export const DEFAULT_REALTIME_MAX_SESSIONS = { free: 2, starter: 10, pro: 50, scale: 200 } as const;
/** A session's slot in the ledger lives this long unless renewed (its process renews every third). */
export const DEFAULT_REALTIME_SESSION_LEASE_MS = 30_000;
/** Dashboard sessions (a signed cookie) last this long; then log in again. */
export const DEFAULT_DASHBOARD_SESSION_TTL_SECONDS = 8 * 3600;
/** A customer's signed link lasts this long unless the mint asks for less or more (up to the max). */
export const DEFAULT_DASHBOARD_LINK_TTL_SECONDS = 15 * 60;
export const DEFAULT_DASHBOARD_LINK_MAX_TTL_SECONDS = 24 * 3600;

/** Alert thresholds in percent of the period's limit (README, Alerts). */
export const DEFAULT_ALERT_THRESHOLDS = [50, 80, 100] as const;
export const DEFAULT_ALERT_TIMEOUT_MS = 10_000;
export const DEFAULT_ALERT_RETRIES = 3;
export const DEFAULT_ALERT_BACKOFF_MS = 1_000;
export const DEFAULT_ALERT_MAX_BACKOFF_MS = 300_000;
export const DEFAULT_ALERT_INTERVAL_MS = 5_000;
export const DEFAULT_ALERT_LEASE_MS = 60_000;
export const DEFAULT_ALERT_SWEEP_EVERY = 12;

const host = z.string().min(1);
const port = z.coerce.number().int().min(0).max(65535);
const url = z.string().url();
const bytes = z.coerce.number().int().positive();

export const PROVIDER_IDS = [
  'openai',
  'anthropic',
  'groq',
  'mistral',
  'elevenlabs',
  'deepgram',
  'cartesia',
  'fishaudio',
  'resemble',
  'inworld',
  'qwen',
  'kokoro',
  'chatterbox',
  'pockettts',
  'whisper',
  'rag',
] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];
/** Self-hosted providers: no default baseUrl, an upstream that may take no key, BYOK off by default. */
export const SELF_HOSTED_PROVIDERS = ['kokoro', 'chatterbox', 'pockettts', 'whisper', 'rag'] as const satisfies readonly ProviderId[];

const providerSchema = z.strictObject({
  baseUrl: url.optional(),
  apiKey: z.string().min(1).optional(),
  /** Overrides proxy.upstreamTimeoutMs for this provider. */
  timeoutMs: z.coerce.number().int().positive().optional(),
  /**
   * X-Provider-Key-{Provider} / stored keys replace the platform's upstream key (zero credits).
   * Default: on for hosted providers, off for self-hosted ones (SELF_HOSTED_PROVIDERS), where it
   * can be turned on only with an `apiKey` (an upstream that takes no key makes BYOK free work).
   */
  byok: z.boolean().optional(),
});

const tierEnum = z.enum(TIER_IDS as unknown as [string, ...string[]]);

const sortedUnique = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);
const alertPercents = z.array(z.number().int('alert thresholds are whole percents').min(1).max(1000)).transform(sortedUnique);
/** Credits left at which an alert fires; stored as µcr (6 decimal places). */
const alertRemaining = z.array(z.number().positive().max(1e12)).transform(sortedUnique);
/** An account's own lists; each given one replaces the `alerts` list of its kind. */
const accountAlertsSchema = z.strictObject({ thresholds: alertPercents.optional(), remainingCredits: alertRemaining.optional() });

const accountSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'account ids are 1-64 characters of letters, digits, _ . -'),
  tier: tierEnum.default('free'),
  apiKeys: z.array(z.string().min(1)).default([]),
  stripeCustomerId: z.string().startsWith('cus_').optional(),
  overageCapCredits: z.number().nonnegative().optional(),
  /** IANA time zone of the account's daily usage history (default UTC). */
  timeZone: z.string().refine(isTimeZone, 'an IANA time zone such as Europe/Paris or UTC').optional(),
  alerts: accountAlertsSchema.optional(),
});

const alertsSchema = z
  .strictObject({
    webhookUrl: url.refine((u) => /^https?:/.test(u), 'an http(s) URL'),
    /** Signs every POST (Tollgate-Signature); give it as ${VAR}. */
    secret: z.string().min(16, 'the alerts secret is at least 16 characters'),
    thresholds: alertPercents.default([...DEFAULT_ALERT_THRESHOLDS]),
    remainingCredits: alertRemaining.default([]),
    timeoutMs: z.coerce.number().int().positive().default(DEFAULT_ALERT_TIMEOUT_MS),
    retries: z.coerce.number().int().min(0).max(20).default(DEFAULT_ALERT_RETRIES),
    backoffMs: z.coerce.number().int().positive().default(DEFAULT_ALERT_BACKOFF_MS),
    maxBackoffMs: z.coerce.number().int().positive().default(DEFAULT_ALERT_MAX_BACKOFF_MS),
    intervalMs: z.coerce.number().int().min(50).default(DEFAULT_ALERT_INTERVAL_MS),
    leaseMs: z.coerce.number().int().positive().default(DEFAULT_ALERT_LEASE_MS),
    sweepEvery: z.coerce.number().int().positive().default(DEFAULT_ALERT_SWEEP_EVERY),
  })
  .superRefine((a, ctx) => {
    // One event's sends, retries and backoffs must fit in the lease, else a second replica may
    // take the account mid-send and the receiver sees the id twice.
    let worst = (a.retries + 1) * a.timeoutMs;
    for (let i = 0; i < a.retries; i++) worst += Math.min(a.maxBackoffMs, a.backoffMs * 2 ** i);
    if (a.leaseMs <= worst) {
      ctx.addIssue({ code: 'custom', path: ['leaseMs'], message: `must exceed one event's sends with their retries and backoffs: ${worst} ms with these settings` });
    }
  });

const tierPrices = z.strictObject({ base: z.string().min(1), overage: z.string().min(1) });

const stripeSchema = z.strictObject({
  secretKey: z.string().min(1),
  apiBase: url.default('https://api.stripe.com'),
  webhookSecret: z.string().min(1).optional(),
  meterEventName: z.string().min(1).default(DEFAULT_METER_EVENT_NAME),
  flushIntervalMs: z.coerce.number().int().positive().default(DEFAULT_FLUSH_INTERVAL_MS),
  prices: z
    .strictObject({ starter: tierPrices.optional(), pro: tierPrices.optional(), scale: tierPrices.optional() })
    .default({}),
});

const credits = z.number().nonnegative();
const pricingSchema = z.strictObject({
  tts: z.record(z.string(), credits).optional(),
  stt: z.record(z.string(), credits).optional(),
  llm: z
    .record(
      z.string().regex(/^[a-z0-9]+:.+$/, 'LLM price keys are provider:model'),
      z.strictObject({
        input: credits,
        output: credits,
        cacheRead: credits.optional(),
        cacheWrite: credits.optional(),
        /** Audio tokens of realtime models (OpenAI Realtime); absent: billed as input / output. */
        audioInput: credits.optional(),
        audioOutput: credits.optional(),
      }),
    )
    .optional(),
  aliases: z.record(z.string(), z.string()).optional(),
  rag: credits.optional(),
});

const tierOverrideSchema = z.strictObject({
  priceCents: z.number().int().nonnegative().optional(),
  includedCredits: z.number().int().nonnegative().optional(),
  carryoverPeriods: z.number().int().min(0).max(12).optional(),
  overageUsdPerCredit: z.string().regex(/^\d+(\.\d+)?$/).nullable().optional(),
});


const redisUrl = z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL');
/** The slot map is re-read this often (ioredis does not by default): a topology change is seen within it. */
export const DEFAULT_SLOTS_REFRESH_MS = 5_000;
const redisClusterSchema = z.strictObject({
  nodes: z.array(redisUrl).min(1, 'redis.cluster.nodes lists at least one seed node (redis://host:port)'),
  /** Announced address (host:port) -> the address this process reaches it at (Docker, Kubernetes). */
  natMap: z
    .record(z.string().regex(/^[^:]+:\d+$/, 'a natMap key is host:port'), z.strictObject({ host: z.string().min(1), port: z.coerce.number().int().min(1).max(65535) }))
    .optional(),
  /** TLS to every node; rediss:// seeds imply it. */
  tls: z.boolean().default(false),
  slotsRefreshInterval: z.coerce.number().int().min(100, 'redis.cluster.slotsRefreshInterval is in ms, at least 100').default(DEFAULT_SLOTS_REFRESH_MS),
  username: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
});
const redisSentinelSchema = z.strictObject({
  /** The master group's name, as in the sentinels' `sentinel monitor NAME ...`. */
  name: z.string().min(1, 'redis.sentinel.name is the monitored master group'),
  sentinels: z.array(redisUrl).min(1, 'redis.sentinel.sentinels lists at least one sentinel (redis://host:26379)'),
  username: z.string().min(1).optional(),
  /** The data nodes' password. */
  password: z.string().min(1).optional(),
  /** The sentinels' own password (requirepass on the sentinels), if any. */
  sentinelPassword: z.string().min(1).optional(),
  tls: z.boolean().default(false),
});

export const configSchema = z.strictObject({
  proxy: z
    .strictObject({
      host: host.default(DEFAULT_HOST),
      port: port.default(DEFAULT_PROXY_PORT),
      /** A number (every modality, the old form) or per modality; missing modalities keep their default. */
      maxJsonBodyBytes: z
        .union([bytes, z.strictObject({ llm: bytes.optional(), tts: bytes.optional(), stt: bytes.optional(), rag: bytes.optional() })])
        .optional()
        .transform((v) => (typeof v === 'number' ? { llm: v, tts: v, stt: v, rag: v } : { ...DEFAULT_MAX_JSON_BODY_BYTES, ...v })),
      maxBufferedBytes: bytes.default(DEFAULT_MAX_BUFFERED_BYTES),
      maxConnections: z.coerce.number().int().positive().default(DEFAULT_MAX_CONNECTIONS),
      upstreamTimeoutMs: z.coerce.number().int().positive().default(DEFAULT_UPSTREAM_TIMEOUT_MS),
      streamIdleTimeoutMs: z.coerce.number().int().positive().default(DEFAULT_STREAM_IDLE_TIMEOUT_MS),
      llmDefaultMaxTokens: z.coerce.number().int().positive().default(DEFAULT_LLM_MAX_TOKENS),
      reservationTtlMs: z.coerce.number().int().positive().default(DEFAULT_RESERVATION_TTL_MS),
      sttReserveBytesPerSecond: z.coerce.number().int().positive().default(DEFAULT_STT_RESERVE_BYTES_PER_SECOND),
      sttMaxReserveSeconds: z.coerce.number().int().positive().default(DEFAULT_STT_MAX_RESERVE_SECONDS),
      // A client gone before a non-streamed answer ends (README, Reliability): the provider's
      // answer is still read for its usage, up to drainMaxBytes and drainTimeoutMs (default:
      // upstreamTimeoutMs) after the client left; past either it is cut and charged the
      // reservation (or the usage already read).
      drainMaxBytes: z.coerce.number().int().nonnegative().default(DEFAULT_DRAIN_MAX_BYTES),
      drainTimeoutMs: z.coerce.number().int().positive().optional(),
    })
    .prefault({}),
  admin: z
    .strictObject({
      host: host.default(DEFAULT_HOST),
      port: port.default(DEFAULT_ADMIN_PORT),
      token: z.string().min(16, 'the admin token is at least 16 characters').optional(),
    })
    .prefault({}),
  redis: z
    .strictObject({
      /** One Redis. Exactly one of url, cluster, sentinel. */
      url: redisUrl.optional(),
      /** A Redis Cluster (Redis OSS 7, Valkey, ElastiCache, Memorystore), by seed nodes. */
      cluster: redisClusterSchema.optional(),
      /** A master found through Sentinel. */
      sentinel: redisSentinelSchema.optional(),
      keyPrefix: z.string().min(1).default(DEFAULT_KEY_PREFIX),
      /** A paid account with no spend limit is admitted without a reserve round trip (README, Metering). */
      localAdmission: z.boolean().default(true),
      /** Settles that cannot reach Redis wait here, one file per process, until replayed (docs/reliability.md). */
      journal: z
        .strictObject({
          dir: z.string().min(1).default(DEFAULT_JOURNAL_DIR),
          maxBytes: z.coerce.number().int().min(4096).default(DEFAULT_JOURNAL_MAX_BYTES),
        })
        .prefault({}),
      /** Check the ledger's epoch this often (and on every reconnect): an emptied Redis is refused. */
      epochCheckMs: z.coerce.number().int().positive().default(DEFAULT_EPOCH_CHECK_MS),
    })
    .superRefine((r, ctx) => {
      const given = (['url', 'cluster', 'sentinel'] as const).filter((k) => r[k] !== undefined);
      if (given.length !== 1) {
        ctx.addIssue({
          code: 'custom',
          message:
            given.length === 0
              ? 'give one of redis.url (one Redis), redis.cluster (a Redis Cluster) or redis.sentinel (a master found through Sentinel)'
              : `give only one of redis.url, redis.cluster, redis.sentinel (got ${given.join(' and ')})`,
        });
      }
    })
    .optional(),
  providers: z.partialRecord(z.enum(PROVIDER_IDS), providerSchema).default({}),
  accounts: z.array(accountSchema).default([]),
  stripe: stripeSchema.optional(),
  /** Threshold alerts to a webhook (README, Alerts); absent: none are recorded. */
  alerts: alertsSchema.optional(),
  pricing: pricingSchema.default({}),
  tiers: z.partialRecord(tierEnum, tierOverrideSchema).default({}),
  byok: z
    .strictObject({
      /** 32 bytes, base64 or hex: encrypts stored BYOK keys (AES-256-GCM). Old keys for rotation. */
      masterKey: z.string().min(1).optional(),
      previousMasterKeys: z.array(z.string().min(1)).default([]),
      /** How long a replica trusts a decrypted stored key (or its absence) before asking the ledger again. */
      cacheTtlMs: z.coerce.number().int().nonnegative().default(DEFAULT_STORED_KEY_CACHE_TTL_MS),
    })
    .prefault({}),
  auth: z
    .strictObject({
      /** Demos and tests only: accept config API keys shorter than 32 characters or with few distinct characters. */
      allowWeakKeys: z.boolean().default(false),
    })
    .prefault({}),
  metrics: z
    .strictObject({
      /** `Authorization: Bearer <token>` required on /metrics; absent: open (as /healthz). */
      token: z.string().min(16, 'the metrics token is at least 16 characters').optional(),
      /** Its own listener for /metrics (then the admin port no longer serves it). */
      host: host.optional(),
      port: port.optional(),
    })
    .prefault({}),
  logging: z
    .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
    .prefault({}),
  realtime: z
    .strictObject({
      /** Interim settle interval of an open session. */
      settleIntervalMs: z.coerce.number().int().min(50).default(DEFAULT_REALTIME_SETTLE_INTERVAL_MS),
      /** A session with no frame either way this long is closed (1000 idle_timeout); never shorter than the provider's own. */
      idleTimeoutMs: z.coerce.number().int().positive().default(300_000),
      /** Open sessions per account across every replica; the next handshake gets 429 too_many_sessions. */
      maxSessionsPerAccount: z
        .strictObject({
          free: z.coerce.number().int().nonnegative().default(DEFAULT_REALTIME_MAX_SESSIONS.free),
          starter: z.coerce.number().int().nonnegative().default(DEFAULT_REALTIME_MAX_SESSIONS.starter),
          pro: z.coerce.number().int().nonnegative().default(DEFAULT_REALTIME_MAX_SESSIONS.pro),
          scale: z.coerce.number().int().nonnegative().default(DEFAULT_REALTIME_MAX_SESSIONS.scale),
        })
        .prefault({}),
      /**
       * A session's slot in the ledger lapses this long after its process last renewed it (every
       * third of it): what a process killed with -9 keeps holding, at most.
       */
      sessionLeaseMs: z.coerce
        .number()
        .int()
        .min(1_000, 'realtime.sessionLeaseMs is at least 1000 (sessions renew every third of it)')
        .max(600_000, 'realtime.sessionLeaseMs is at most 600000 (a crashed process holds its sessions that long)')
        .default(DEFAULT_REALTIME_SESSION_LEASE_MS),
      /** Bytes queued toward one side before the other side's socket is paused (backpressure). */
      highWaterMarkBytes: z.coerce.number().int().positive().default(256 * 1024),
      /** Largest message accepted from either side (a bigger one closes the session 1009). */
      maxFrameBytes: z.coerce.number().int().positive().default(16 * 1024 * 1024),
      /** Both sockets are pinged this often; a side that missed the previous pong is cut. */
      pingIntervalMs: z.coerce.number().int().positive().default(30_000),
      /** Key in the first message (ElevenLabs): how long to wait for that message. */
      authTimeoutMs: z.coerce.number().int().positive().default(10_000),
    })
    .prefault({}),
  dashboard: z
    .strictObject({
      /** Pages under /dashboard on the admin port (README, Dashboard). */
      enabled: z.boolean().default(true),
      /** HMAC key of the customers' signed links (and of their sessions); absent: no links. */
      linkSecret: z.string().min(32, 'dashboard.linkSecret is at least 32 characters (e.g. `openssl rand -hex 32`)').optional(),
      sessionTtlSeconds: z.coerce.number().int().min(60, 'dashboard.sessionTtlSeconds is at least 60').max(30 * 86400, 'dashboard.sessionTtlSeconds is at most 30 days').default(DEFAULT_DASHBOARD_SESSION_TTL_SECONDS),
      linkTtlSeconds: z.coerce.number().int().min(10).default(DEFAULT_DASHBOARD_LINK_TTL_SECONDS),
      linkMaxTtlSeconds: z.coerce.number().int().min(10).max(7 * 86400, 'dashboard.linkMaxTtlSeconds is at most 7 days').default(DEFAULT_DASHBOARD_LINK_MAX_TTL_SECONDS),
      /** Origins allowed to frame the customer page (CSP frame-ancestors), e.g. https://app.example.com. */
      embedOrigins: z.array(z.string().regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d+)?$/, 'an origin: scheme://host[:port], no path')).default([]),
    })
    .refine((d) => d.linkTtlSeconds <= d.linkMaxTtlSeconds, { message: 'dashboard.linkTtlSeconds is at most dashboard.linkMaxTtlSeconds', path: ['linkTtlSeconds'] })
    .prefault({}),
  /** Usage history buckets and receipts (README, "Usage history and receipts"). */
  history: z
    .strictObject({
      /**
       * false: settles write no usage history and no receipts (less Redis work per request);
       * GET /v1/usage/history and /v1/usage/events answer 404 history_disabled.
       */
      enabled: z.boolean().default(true),
      /** Hourly (UTC) buckets live this long; at least 7 (burnRate reads the last 7 days). */
      hourlyRetentionDays: z.coerce.number().int().min(7, 'at least 7: /v1/usage burnRate reads the last 7 days of hourly buckets').max(400).default(DEFAULT_HOURLY_RETENTION_DAYS),
      /** Daily buckets (the account's time zone) live this long. */
      dailyRetentionDays: z.coerce.number().int().min(1).max(3660).default(DEFAULT_DAILY_RETENTION_DAYS),
      /** Receipts kept per account (GET /v1/usage/events): the newest, exactly; 0: none (no receipt written). */
      receiptsPerAccount: z.coerce.number().int().min(0).max(100_000).default(DEFAULT_RECEIPTS_PER_ACCOUNT),
    })
    .prefault({}),
  shutdown: z.strictObject({ graceMs: z.coerce.number().int().nonnegative().default(DEFAULT_SHUTDOWN_GRACE_MS) }).prefault({}),
  workers: z.coerce.number().int().positive().optional(),
});

export type Config = z.infer<typeof configSchema>;
export type ProviderConfig = z.infer<typeof providerSchema>;
export type StripeConfig = z.infer<typeof stripeSchema>;
export type AccountConfig = z.infer<typeof accountSchema>;
export type AlertsConfig = z.infer<typeof alertsSchema>;

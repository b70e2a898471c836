-- session-open.lua: admit a realtime session if the account has fewer than `cap` open.
--
-- KEYS[1] tg:{acct:ID}:sessions   ZSET sessionId -> lease expiry (ms)
-- ARGV[1] now (ms)  ARGV[2] sessionId  ARGV[3] cap  ARGV[4] lease (ms)
--
-- Reply: {1, open} admitted (open counts it), {0, open} refused (open = the sessions holding
-- the account's slots). Lapsed leases are dropped first, so a crashed process's sessions stop
-- counting one lease after its last renewal. An id already open is renewed, not counted twice.

--@include lib/sessions.lua

local key = KEYS[1]
local now = tonumber(ARGV[1])
local cap = tonumber(ARGV[3])
local expiry = string.format('%.0f', now + tonumber(ARGV[4]))
sessions_purge(key, now)
if redis.call('ZSCORE', key, ARGV[2]) then
  redis.call('ZADD', key, expiry, ARGV[2])
  sessions_expire(key, now)
  return {1, redis.call('ZCARD', key)}
end
local open = redis.call('ZCARD', key)
if open >= cap then return {0, open} end
redis.call('ZADD', key, expiry, ARGV[2])
sessions_expire(key, now)
return {1, open + 1}

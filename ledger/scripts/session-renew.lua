-- session-renew.lua: extend the leases of one account's running sessions (the realtime sweep).
--
-- KEYS[1] tg:{acct:ID}:sessions   ZSET sessionId -> lease expiry (ms)
-- ARGV[1] now (ms)  ARGV[2] lease (ms)  ARGV[3..] sessionIds
--
-- Reply: the account's open sessions after the renewal.
--
-- A session whose lease lapsed (the ledger was unreachable longer than a lease) is added back:
-- it is still running, and the ledger lists every running session. Its process removes it
-- before it renews again once it ends (server.ts waits for a renewal in flight).

--@include lib/sessions.lua

local key = KEYS[1]
local now = tonumber(ARGV[1])
local expiry = string.format('%.0f', now + tonumber(ARGV[2]))
sessions_purge(key, now)
for i = 3, #ARGV do
  redis.call('ZADD', key, expiry, ARGV[i])
end
sessions_expire(key, now)
return redis.call('ZCARD', key)

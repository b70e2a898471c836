-- lib/sessions.lua: shared by session-open.lua and session-renew.lua (the open-sessions ZSET).

-- Drops the sessions whose lease lapsed (their process died or lost the ledger) before `now`.
local function sessions_purge(key, now)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
end

-- The key lives as long as its longest lease: a ZSET of dead sessions goes by itself.
local function sessions_expire(key, now)
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if last[2] then
    local ttl = tonumber(last[2]) - now
    if ttl > 0 then redis.call('PEXPIRE', key, string.format('%.0f', ttl)) end
  end
end

-- reserve.lua: hold an estimate for a request, or refuse it. One round trip per request.
--
-- KEYS[1] tg:{acct:ID}:acct      account hash (tier, cap)
-- KEYS[2] tg:{acct:ID}:state     period state hash
-- KEYS[3] tg:{acct:ID}:resv      reservations: ZSET requestId -> expiry (ms)
-- KEYS[4] tg:{acct:ID}:resv:amt  reservations: HASH requestId -> µcr held
-- KEYS[5] tg:{acct:ID}:req:RID   the request's idempotency marker ('R' reserved, 'S' settled)
-- KEYS[6] tg:{acct:ID}:hist      closed periods (LIST, newest first)
-- ARGV[1] now (ms)  ARGV[2] requestId  ARGV[3] estimate (µcr)  ARGV[4] reservation ttl (ms)
-- ARGV[5] idempotency ttl (ms)  ARGV[6] tier table (see parse_tiers)
--
-- Reply: { code, usedMicro, limitMicro }
--   code 1 held; 2 already reserved or settled (nothing more held); 0 unknown account;
--   -1 insufficient_credits (hard-capped tier); -2 overage_cap (the account's spend limit)
--
-- Rolls the period over and releases expired reservations first, in the same script.

--@include lib/base.lua

local now, rid, amount = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local ttl, idem_ttl = tonumber(ARGV[4]), tonumber(ARGV[5])

-- The marker outlives the reservation, so a late duplicate reserve holds nothing.
local marker_ttl = idem_ttl
if ttl + 60000 > marker_ttl then marker_ttl = ttl + 60000 end

-- Both paths decide and hold the same way.
local function refusal(projected, limit, hard, cap)
  if hard then
    if projected > limit then return -1 end
  elseif cap ~= nil and projected - limit > cap then
    return -2
  end
  return nil
end

local function hold()
  redis.call('SET', KEYS[5], 'R', 'PX', fmt(marker_ttl))
  if amount > 0 then
    redis.call('ZADD', KEYS[3], fmt(now + ttl), rid)
    redis.call('HSET', KEYS[4], rid, fmt(amount))
  end
end

-- Fast path (nearly every call): the period is current and no reservation has expired. Reads
-- only what the decision needs and writes by HINCRBY; otherwise nothing is written here and
-- the full path below runs (rollover, purge, first use).
do
  local a = redis.call('HMGET', KEYS[1], 'id', 'tier', 'cap')
  if not a[1] and not a[2] then return { 0, 0, 0 } end
  local s = redis.call('HMGET', KEYS[2], 'pe', 'used', 'held', 'cs')
  if s[1] and now < tonumber(s[1]) and #redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 1) == 0 then
    local tier = find_tier(ARGV[6], a[2] or 'free')
    local used, held = num(s[2]), num(s[3])
    local limit = tier.inc + num(s[4])
    if redis.call('EXISTS', KEYS[5]) == 1 then return { 2, used, limit } end
    local cap = nil
    if a[3] and a[3] ~= '' then cap = tonumber(a[3]) end
    local code = refusal(used + held + amount, limit, tier.hard, cap)
    if code then return { code, used, limit } end
    hold()
    if amount > 0 then redis.call('HINCRBY', KEYS[2], 'held', fmt(amount)) end
    return { 1, used, limit }
  end
end

--@include lib/state.lua

local tier, cap = account_tier(KEYS[1], parse_tiers(ARGV[6]))

local st = load_state(KEYS[2])
init_state(st, now)
rollover(st, now, tier, KEYS[6])
purge_reservations(st, KEYS[3], KEYS[4], now)

local used, held, limit = st.get('used'), st.get('held'), limit_of(st, tier)
if redis.call('EXISTS', KEYS[5]) == 1 then
  st.save()
  return { 2, used, limit }
end

local code = refusal(used + held + amount, limit, tier.hard, cap)
if code then
  st.save()
  return { code, used, limit }
end
hold()
if amount > 0 then st.set('held', held + amount) end
st.save()
return { 1, used, limit }

-- reserve.lua: hold an estimate for each of a batch of one account's requests, or refuse it.
-- One script call per account per event-loop turn (ledger/redis-ledger.ts batches them); a
-- batch of one is the plain case. Entries are decided in order, each seeing what the ones
-- before it held, exactly as if each had been its own call.
--
-- KEYS[1] tg:{acct:ID}:acct      account hash (tier, cap)
-- KEYS[2] tg:{acct:ID}:state     period state hash
-- KEYS[3] tg:{acct:ID}:resv      reservations: ZSET requestId -> expiry (ms)
-- KEYS[4] tg:{acct:ID}:resv:amt  reservations: HASH requestId -> µcr held
-- KEYS[5] tg:{acct:ID}:hist      closed periods (LIST, newest first)
-- KEYS[6] tg:{acct:ID}:mk:W     idempotency markers of the current window (lib/batch.lua)
-- KEYS[7] tg:{acct:ID}:mk:W-1   and of the one before
-- KEYS[8] tg:{acct:ID}:mk:W-2   the window before that, unlinked when markers are written
-- KEYS[9..11] the usage history's buckets and receipts: an expired reservation's floor is
-- charged here too (lib/usage-history.lua)
-- ARGV[1] now (ms)  ARGV[2] reservation ttl (ms)  ARGV[3] idempotency window (ms; at least
-- the reservation ttl + 60 s, so a marker outlives its reservation and a late duplicate
-- reserve holds nothing)  ARGV[4] tier table (see parse_tiers)  ARGV[5] history settings
-- ARGV[2+4i] entry i's requestId  ARGV[3+4i] its estimate (µcr)  ARGV[4+4i] its floor (µcr
-- charged if it expires unsettled; lib/state.lua)  ARGV[5+4i] its modality ('' with floor 0)
--
-- Reply: one { code, usedMicro, limitMicro, open } per entry, in order:
--   code 1 held; 2 already reserved or settled (nothing more held); 0 unknown account;
--   -1 insufficient_credits (hard-capped tier); -2 overage_cap (the account's spend limit);
--   open 1 when nothing bounds the account (no hard cap, no spend limit), else 0: a capped
--   account's request gets its output bound written in (ReserveResult.open)
--
-- Rolls the period over and releases expired reservations first, in the same script.

--@include lib/base.lua
--@include lib/usage-history.lua
--@include lib/batch.lua

local now, ttl, window, tiers = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local n = (#ARGV - 5) / 4
hist_config(ARGV[5])

local function entry(i)
  return ARGV[2 + 4 * i], tonumber(ARGV[3 + 4 * i])
end

-- Both paths decide and hold the same way.
local function refusal(projected, limit, hard, cap)
  if hard then
    if projected > limit then return -1 end
  elseif cap ~= nil and projected - limit > cap then
    return -2
  end
  return nil
end

-- 1 when nothing bounds the account's spending (no hard cap, no spend limit), else 0.
local function open_of(tier, cap)
  if tier.hard or cap ~= nil then return 0 end
  return 1
end

-- Whether the entry was already reserved or settled (its marker exists).
local function known(rid)
  return mark_of(rid) ~= false
end

-- Marks the entry reserved and holds its estimate (written at the flush). Every hold of a
-- batch expires at the same time; the amount goes back as the client wrote it (an integer).
local expiry = fmt(now + ttl)
local function hold(i, rid, amount)
  set_mark(rid, 'R')
  if amount > 0 then
    later('ZADD', KEYS[3], expiry, rid)
    later('HSET', KEYS[4], rid, hold_value(amount, tonumber(ARGV[4 + 4 * i]), ARGV[5 + 4 * i]))
  end
end

-- The full path, for an entry that finds the period over, a reservation expired, or no state
-- yet: rollover and purge, then the decision.
local full = lazy(function()
--@include lib/state.lua
  return function(j)
    local rid, amount = entry(j)
    local tier, cap = account_tier(KEYS[1], parse_tiers(tiers))
    local st = load_state(KEYS[2])
    init_state(st, now)
    rollover(st, now, tier, KEYS[5])
    purge_reservations(st, KEYS[3], KEYS[4], now, tier, set_mark, hist_on_floor(now))
    local used, held, limit = st.get('used'), st.get('held'), limit_of(st, tier)
    local open = open_of(tier, cap)
    local r
    if known(rid) then
      r = { 2, used, limit, open }
    else
      local code = refusal(used + held + amount, limit, tier.hard, cap)
      if code then
        r = { code, used, limit, open }
      else
        hold(j, rid, amount)
        if amount > 0 then st.set('held', held + amount) end
        r = { 1, used, limit, open }
      end
    end
    save_all(st, now, window)
    return r
  end
end)

local a = redis.call('HMGET', KEYS[1], 'id', 'tier', 'cap')
if not a[1] and not a[2] then return each(n, { 0, 0, 0, 0 }) end
do
  local rids = {}
  for i = 1, n do rids[i] = ARGV[2 + 4 * i] end
  load_marks(rids)
end
local tier = find_tier(tiers, a[2] or 'free')
local cap = nil
if a[3] and a[3] ~= '' then cap = tonumber(a[3]) end
local open = open_of(tier, cap)

-- Fast path (nearly every call): the period is current and no reservation has expired. Reads
-- only what the decisions need, keeps the running totals here, and writes `held` once.
local used, held, limit, added
local function read()
  local s = redis.call('HMGET', KEYS[2], 'pe', 'used', 'held', 'cs')
  used, held, limit, added = num(s[2]), num(s[3]), tier.inc + num(s[4]), 0
  return s[1] and now < tonumber(s[1]) and #redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 1) == 0
end
local function flush()
  write_pending(now, window)
  if added > 0 then redis.call('HINCRBY', KEYS[2], 'held', fmt(added)) end
  added = 0
end
local function fast(i)
  local rid, amount = entry(i)
  if known(rid) then return { 2, used, limit, open } end
  local code = refusal(used + held + amount, limit, tier.hard, cap)
  if code then return { code, used, limit, open } end
  hold(i, rid, amount)
  held = held + amount
  added = added + amount
  return { 1, used, limit, open }
end

return run_batch(n, read, fast, flush, full)

-- settle.lua: record each of a batch of one account's finished requests at its actual cost and
-- release its reservation. One script call per account per event-loop turn (ledger/
-- redis-ledger.ts batches them); a batch of one is the plain case. Entries apply in order,
-- exactly as if each had been its own call.
--
-- KEYS[1] tg:{acct:ID}:acct      account hash (tier)
-- KEYS[2] tg:{acct:ID}:state     period state hash
-- KEYS[3] tg:{acct:ID}:resv      reservations ZSET
-- KEYS[4] tg:{acct:ID}:resv:amt  reservation amounts HASH
-- KEYS[5] tg:{acct:ID}:hist      closed periods LIST
-- KEYS[6] tg:{acct:ID}:mk:W     idempotency markers of the current window (lib/batch.lua)
-- KEYS[7] tg:{acct:ID}:mk:W-1   and of the one before
-- KEYS[8] tg:{acct:ID}:mk:W-2   the window before that, unlinked when markers are written
-- KEYS[9..11] the usage history's hourly and daily buckets and receipts (lib/usage-history.lua)
-- KEYS[12] tg:{acct:ID}:alerts   threshold alerts fired this period, and waiting (lib/alerts.lua)
-- ARGV[1] now (ms)  ARGV[2] idempotency window (ms)  ARGV[3] tier table (then the alert rules,
-- lib/alerts.lua)  ARGV[4] history
-- settings (lib/usage-history.lua); then per entry: requestId, modality (tts|stt|llm|rag),
-- flags (+1 BYOK, +2 counts no request: a realtime session's interim settle or spare release;
-- 0 and 1 are the plain cases), actual µcr, model (normalised; '' unknown), receipt ('' none: a realtime
-- session's interim settle; else the receipt's JSON, passed through unparsed), µcr the receipt
-- adds to this settle's charge (a session's earlier settles), k, and k units as name, value
-- pairs (chars, audioMs, inputTokens, ...; BYOK too); or a locally admitted request's
-- reservation record (ledger/redis-ledger.ts: sent beside the settles, never refused):
-- requestId, modality, 'r', µcr held, floor µcr (charged if it expires unsettled), expiry (ms);
-- or the release of a reserve tollgate gave up on (answered 503 while Redis failed over or
-- restarted; it may have been applied): requestId, modality, 'c'
--
-- Reply: one { applied, mark, writtenOff } per entry, in order:
--   applied 1, or 0 when the request was already settled (nothing applied twice);
--   applied -1: unknown account. A record answers 1 held, 2 already reserved or settled.
--   A release answers 1 (its reservation, if any, gone at no charge), 0 when already settled.
-- mark 1: a whole credit of overage is now pending and the
--   account was not marked yet (state field mk): the caller adds it to tg:overage:pending,
--   a key of no account's slot. Once per episode, so requests stay at one round trip each;
--   outbox-clean.lua clears mk when the flusher has taken everything whole. writtenOff: µcr
--   of the entry's cost not charged because the account is capped (see apply).
-- The first row has a 4th column, 1, when the call recorded an alert: the caller adds the
--   account to the alert deliverer's pending index.
--
-- A settle without a reservation still applies (BYOK requests are not reserved). On an
-- account with no cap it may take used past the limit (the estimate was low): that is what
-- was spent, and paid tiers bill it as overage.

--@include lib/base.lua
--@include lib/usage-history.lua
--@include lib/batch.lua
--@include lib/alerts.lua

local now, window, tiers = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
hist_config(ARGV[4])

-- The entries, parsed once; `charged`: the request ids that may hold a reservation (not BYOK).
local E, charged = {}, {}
local n = 0
do
  local p = 5
  while p <= #ARGV do
    n = n + 1
    local i = n
    if ARGV[p + 2] == 'r' then
      E[i] = { rid = ARGV[p], modality = ARGV[p + 1], record = true, amount = tonumber(ARGV[p + 3]), floor = tonumber(ARGV[p + 4]), expires = ARGV[p + 5] }
      p = p + 6
    elseif ARGV[p + 2] == 'c' then
      E[i] = { rid = ARGV[p], modality = ARGV[p + 1], release = true }
      charged[#charged + 1] = ARGV[p]
      p = p + 3
    else
      local k = tonumber(ARGV[p + 7])
      local units = {}
      for j = 1, k do
        units[#units + 1] = { ARGV[p + 6 + 2 * j], tonumber(ARGV[p + 7 + 2 * j]) }
      end
      local flags = tonumber(ARGV[p + 2])
      E[i] = { rid = ARGV[p], modality = ARGV[p + 1], byok = flags % 2 == 1, counts = flags < 2, amount = tonumber(ARGV[p + 3]), astr = ARGV[p + 3], model = ARGV[p + 4],
        receipt = ARGV[p + 5], rprior = tonumber(ARGV[p + 6]), units = units }
      if not E[i].byok then charged[#charged + 1] = ARGV[p] end
      p = p + 8 + 2 * k
    end
  end
end

-- The fast path's reservation amounts of the batch's requests (read()), and the records held
-- by this batch, so a settle after its record in one batch releases it.
local holds = {}

-- Both paths apply an entry through the same steps, over a state with get/set; `held_of(rid)`
-- is the reservation record the request still holds, or nil.
-- Marks a request settled and lets go of what its reservation held (if it still holds one).
local function settle_and_release(rid, st, held_of)
  set_mark(rid, 'S')
  local held_for_it = held_of(rid)
  if held_for_it then
    later('ZREM', KEYS[3], rid)
    later('HDEL', KEYS[4], rid)
    local held = st.get('held') - parse_hold(held_for_it)
    if held < 0 then held = 0 end
    st.set('held', held)
  end
end

local function apply(i, st, tier, cap, limit_of_st, held_of)
  local e = E[i]
  local m = mark_of(e.rid)
  if e.record then
    -- A locally admitted request's reservation: held, never refused (no cap could refuse it).
    if m then return { 2, 0, 0 } end
    set_mark(e.rid, 'R')
    local v = hold_value(e.amount, e.floor, e.modality)
    later('ZADD', KEYS[3], e.expires, e.rid)
    later('HSET', KEYS[4], e.rid, v)
    holds[e.rid] = v
    st.set('held', st.get('held') + e.amount)
    return { 1, 0, 0 }
  end
  if m == 'S' then return { 0, 0, 0 } end
  if e.release then
    -- Never forwarded: nothing charged, nothing counted. Marked settled, so the reserve, should
    -- it arrive after this, holds nothing. One already expired at its floor (X) stays charged.
    if m then
      if string.sub(m, 1, 1) == 'X' then return { 0, 0, 0 } end
    end
    settle_and_release(e.rid, st, held_of)
    return { 1, 0, 0 }
  end
  -- X<µcr>: its reservation expired and charged that floor (lib/state.lua); now settled late,
  -- it is charged only what it cost beyond the floor (never refunded below it), counted once.
  local prior = nil
  if m and string.sub(m, 1, 1) == 'X' then prior = tonumber(string.sub(m, 2)) end
  local amount = e.amount
  if prior then amount = math.max(0, amount - prior) end
  settle_and_release(e.rid, st, held_of)
  local counts = e.counts and not prior
  if counts then st.set('n', st.get('n') + 1) end
  st.set('lr', now)
  local accrued, written_off = 0, 0
  if e.byok then
    amount = 0
    if counts then st.set('bn', st.get('bn') + 1) end
    for _, u in ipairs(e.units) do
      if u[2] and u[2] ~= 0 then
        local f = 'bu:' .. e.modality .. ':' .. u[1]
        st.set(f, st.get(f) + u[2])
      end
    end
  else
    -- The cap is a hard cap (issue 18; account-state.ts chargeable() is the same rule): a
    -- hard-capped tier's used never passes its limit, an account with a spend limit's never
    -- passes limit + cap. What the reservation did not cover past that is written off, and the
    -- breakdown takes the same clamped amount, so it still sums to used.
    local ceiling = nil
    if tier.hard then ceiling = limit_of_st(st, tier) elseif cap then ceiling = limit_of_st(st, tier) + cap end
    if ceiling then
      local room = ceiling - st.get('used')
      if room < 0 then room = 0 end
      if amount > room then
        written_off = amount - room
        amount = room
      end
    end
    local used = st.get('used') + amount
    st.set('used', used)
    alert_check(st, used, limit_of_st(st, tier), cap, tier.hard)
    local bf = 'b:' .. e.modality
    st.set(bf, st.get(bf) + amount)
    -- Paid tiers: overage accrues as the high-water mark of used - limit.
    if not tier.hard then
      local over = used - limit_of_st(st, tier)
      local ova = st.get('ova')
      if over > ova then
        st.set('ovp', st.get('ovp') + over - ova)
        st.set('ova', over)
        if st.get('mk') ~= 1 and st.get('ovp') + st.get('ovc') >= MICRO then
          st.set('mk', 1)
          accrued = 1
        end
      end
    end
  end
  -- The history takes what was charged (after the cap), in the same call (lib/usage-history.lua).
  local requests = 0
  if counts then requests = 1 end
  hist_add(e.modality, e.model, amount, requests, e.byok, e.units)
  if e.receipt ~= '' then
    local c = e.rprior + (prior or 0) + amount
    -- Nearly always the entry's own amount, whose argument string needs no formatting.
    hist_receipt(now, c == e.amount and e.astr or fmt(c), e.receipt)
  end
  return { 1, accrued, written_off }
end

-- The full path, for an entry that finds the period over or no state yet: rollover and purge
-- first.
local full = lazy(function()
--@include lib/state.lua
  return function(j)
    local tier, cap = account_tier(KEYS[1], parse_tiers(tiers))
    local st = load_state(KEYS[2])
    init_state(st, now)
    rollover(st, now, tier, KEYS[5])
    local u0 = st.get('used')
    purge_reservations(st, KEYS[3], KEYS[4], now, tier, set_mark, hist_on_floor(now))
    if st.get('used') ~= u0 then alert_check(st, st.get('used'), limit_of(st, tier), cap, tier.hard) end
    local r = apply(j, st, tier, cap, limit_of, function(rid) return redis.call('HGET', KEYS[4], rid) end)
    save_all(st, now, window)
    return r
  end
end)

local a = redis.call('HMGET', KEYS[1], 'id', 'tier', 'cap', 'alt')
if not a[1] and not a[2] then return each(n, { -1, 0, 0 }) end
alerts_init(tiers, a[4], KEYS[12], now)
local tier = find_tier(tiers, a[2] or 'free')
local cap = nil
if a[3] and a[3] ~= '' then cap = tonumber(a[3]) end
do
  local rids = {}
  for i = 1, n do rids[i] = E[i].rid end
  load_marks(rids)
end

-- Fast path (nearly every call): the period is current and no reservation has expired. Reads
-- the fields it decides on once, keeps them here, and writes what changed in one HSET.
local FIELDS = { 'pe', 'used', 'held', 'cs', 'n', 'bn', 'ova', 'ovp', 'ovc', 'mk', 'b:tts', 'b:stt', 'b:llm', 'b:rag' }
local cur, dirty, order
local st = {}
function st.get(f)
  local v = cur[f]
  if v == nil then
    v = num(redis.call('HGET', KEYS[2], f))
    cur[f] = v
  end
  return v
end
function st.set(f, v)
  if not dirty[f] then
    dirty[f] = true
    order[#order + 1] = f
  end
  cur[f] = v
end
local function fast_limit(s, t) return t.inc + s.get('cs') end
local function read()
  local s = redis.call('HMGET', KEYS[2], unpack(FIELDS))
  cur, dirty, order = {}, {}, {}
  for i = 1, #FIELDS do cur[FIELDS[i]] = num(s[i]) end
  -- What the entries still hold, read once (again after a full-path entry, whose purge may
  -- have released some).
  holds = {}
  if #charged > 0 then hmget_into(KEYS[4], charged, holds) end
  -- An expired reservation (a process killed mid-request) sends the batch the full way,
  -- whose purge charges it (lib/state.lua).
  return s[1] and now < tonumber(s[1]) and #redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 1) == 0
end
local function flush()
  write_pending(now, window)
  if #order == 0 then return end
  local args = {}
  for _, f in ipairs(order) do
    args[#args + 1] = f
    args[#args + 1] = fmt(cur[f])
  end
  redis.call('HSET', KEYS[2], unpack(args))
  dirty, order = {}, {}
end
local function held_of(rid) return holds[rid] end
local function fast(i)
  return apply(i, st, tier, cap, fast_limit, held_of)
end

return alerts_flag(run_batch(n, read, fast, flush, full), 4)

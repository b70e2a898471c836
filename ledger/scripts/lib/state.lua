-- lib/state.lua: helpers shared by the ledger scripts; the loader inlines it where a script
-- says `--@include lib/state.lua` (after lib/base.lua, whose helpers it uses). Mirrors ledger/period.ts and ledger/account-state.ts
-- field for field (both backends pass one contract suite).
--
-- Numbers: Redis runs Lua 5.1, where every number is a double. µcr and ms stay below 2^53,
-- so they are exact; they are written back with fmt() (never tostring, which would print
-- 1e+15).

local DAY = 86400000
local MAX_ROLLS = 1200
local HISTORY_LENGTH = 24
local MODALITIES = { 'tts', 'stt', 'llm', 'rag' }

-- Howard Hinnant's days_from_civil / civil_from_days: proleptic Gregorian, UTC.
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

local function civil_from_days(days)
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m
  if mp < 10 then m = mp + 3 else m = mp - 9 end
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return y, m, d
end

local function days_in_month(y, m)
  if m == 12 then return days_from_civil(y + 1, 1, 1) - days_from_civil(y, 12, 1) end
  return days_from_civil(y, m + 1, 1) - days_from_civil(y, m, 1)
end

-- `ms` moved by `n` calendar months, the day clamped to the month's length, time of day kept.
local function add_months(ms, n)
  local days = math.floor(ms / DAY)
  local rem = ms - days * DAY
  local y, m, d = civil_from_days(days)
  local t = y * 12 + (m - 1) + n
  local ny = math.floor(t / 12)
  local nm = t - ny * 12 + 1
  local dim = days_in_month(ny, nm)
  if d > dim then d = dim end
  return days_from_civil(ny, nm, d) * DAY + rem
end

local function month_index(ms)
  local y, m = civil_from_days(math.floor(ms / DAY))
  return (y - 1970) * 12 + (m - 1)
end

local function months_between(start, stop)
  local y1, m1 = civil_from_days(math.floor(start / DAY))
  local y2, m2 = civil_from_days(math.floor(stop / DAY))
  local n = y2 * 12 + m2 - (y1 * 12 + m1)
  if add_months(start, n) > stop then n = n - 1 end
  if n < 1 then n = 1 end
  return n
end

-- The configured tiers, passed by the caller on every call (operators may override the
-- seed): "id:includedMicro:hardCap(0|1):carryoverPeriods;..."
local function parse_tiers(s)
  local tiers = {}
  for id, inc, hard, carry in string.gmatch(s, '([%w_-]+):(%d+):([01]):(%d+)') do
    tiers[id] = { id = id, inc = tonumber(inc), hard = hard == '1', carry = tonumber(carry) }
  end
  return tiers
end

-- The account's tier params and overage cap (nil: no cap), from its hash.
local function account_tier(acct_key, tiers)
  local a = redis.call('HMGET', acct_key, 'tier', 'cap')
  local tier = tiers[a[1] or 'free'] or tiers['free']
  local cap = nil
  if a[2] and a[2] ~= '' then cap = tonumber(a[2]) end
  return tier, cap
end

-- The state hash as a table with dirty tracking: st.get(f), st.set(f, v), st.save().
local function load_state(key)
  local raw = redis.call('HGETALL', key)
  local s, dirty = {}, {}
  for i = 1, #raw, 2 do s[raw[i]] = raw[i + 1] end
  local st = {}
  function st.get(f) return num(s[f]) end
  function st.str(f) return s[f] end
  function st.set(f, v) s[f] = v; dirty[f] = true end
  function st.add(f, v) st.set(f, num(s[f]) + v) end
  function st.exists() return s['ps'] ~= nil end
  function st.fields() return s end
  function st.save()
    local args, dels = {}, {}
    for f in pairs(dirty) do
      local v = s[f]
      if v == nil then
        dels[#dels + 1] = f
      else
        args[#args + 1] = f
        if type(v) == 'number' then args[#args + 1] = fmt(v) else args[#args + 1] = v end
      end
    end
    if #args > 0 then redis.call('HSET', key, unpack(args)) end
    if #dels > 0 then redis.call('HDEL', key, unpack(dels)) end
    dirty = {}
  end
  return st
end

-- A fresh account: the UTC calendar month containing `now`, anchored at the epoch.
local function init_state(st, now)
  if st.exists() then return end
  local k = month_index(now)
  st.set('ps', add_months(0, k))
  st.set('pe', add_months(0, k + 1))
  st.set('an', 0)
  st.set('pk', k)
  st.set('pm', 1)
end

-- Carryover buckets "from,amount,expires;...", sorted soonest-expiring first.
local function parse_carry(str)
  local list = {}
  if str and str ~= '' then
    for f, a, e in string.gmatch(str, '(%-?%d+),(%d+),(%-?%d+)') do
      list[#list + 1] = { f = tonumber(f), a = tonumber(a), e = tonumber(e) }
    end
  end
  table.sort(list, function(x, y)
    if x.e ~= y.e then return x.e < y.e end
    return x.f < y.f
  end)
  return list
end

local function encode_carry(list)
  local parts = {}
  for i, b in ipairs(list) do parts[i] = fmt(b.f) .. ',' .. fmt(b.a) .. ',' .. fmt(b.e) end
  return table.concat(parts, ';')
end

-- Close every period that ended by `now` (see rollover() in ledger/account-state.ts).
-- Runs inside the caller's script, so concurrent callers at a boundary cannot roll twice:
-- the second one finds pe already in the future.
local function rollover(st, now, tier, hist_key)
  local rolled = 0
  while now >= st.get('pe') and rolled < MAX_ROLLS do
    local ps, pe = st.get('ps'), st.get('pe')
    local an, pk, pm = st.get('an'), st.get('pk'), st.get('pm')
    local used = st.get('used')
    local rest = used
    local nxt = {}
    for _, b in ipairs(parse_carry(st.str('carry'))) do
      local spend = math.min(rest, b.a)
      rest = rest - spend
      local left = b.a - spend
      if left > 0 and b.e > pe then nxt[#nxt + 1] = { f = b.f, a = left, e = b.e } end
    end
    local unused = tier.inc - math.min(rest, tier.inc)
    if tier.carry > 0 and unused > 0 then
      nxt[#nxt + 1] = { f = ps, a = unused, e = add_months(an, (pk + 1 + tier.carry) * pm) }
    end
    redis.call('LPUSH', hist_key, table.concat({ fmt(ps), fmt(pe), tier.id, fmt(tier.inc), fmt(st.get('cs')),
      fmt(used), fmt(st.get('n')), fmt(st.get('ova')), fmt(unused) }, ','))
    redis.call('LTRIM', hist_key, 0, HISTORY_LENGTH - 1)
    local ovp = st.get('ovp')
    if ovp > 0 then
      -- Stamped one second before the end, so Stripe bills it in the period it happened in.
      st.add('ovc', ovp)
      st.set('ovct', pe - 1000)
      st.set('ovcs', ps)
      st.set('ovp', 0)
    end
    st.set('ova', 0)
    st.set('used', 0)
    st.set('n', 0)
    for _, m in ipairs(MODALITIES) do st.set('b:' .. m, 0) end
    st.set('bn', 0)
    for f in pairs(st.fields()) do
      if string.sub(f, 1, 3) == 'bu:' then st.set(f, nil) end
    end
    table.sort(nxt, function(x, y)
      if x.e ~= y.e then return x.e < y.e end
      return x.f < y.f
    end)
    local cs = 0
    for _, b in ipairs(nxt) do cs = cs + b.a end
    st.set('carry', encode_carry(nxt))
    st.set('cs', cs)
    st.set('ps', pe)
    st.set('pk', pk + 1)
    st.set('pe', add_months(an, (pk + 2) * pm))
    rolled = rolled + 1
  end
end

local function limit_of(st, tier)
  return tier.inc + st.get('cs')
end

-- Expired reservations: requests whose process died (kill -9, a crash) before they settled.
-- Each releases its hold and is charged the floor it recorded at reserve time (the documented
-- estimate: what the provider was surely sent; docs/reliability.md), as its settle would have
-- been: to used and its modality's breakdown, one request, overage accrued on a paid tier. Its
-- marker becomes X<floor>, so a late settle applies only what it cost beyond (settle.lua).
-- A reservation with no floor (older records, 0 µcr) is released at no charge, as before.
-- `mark(rid, value)` writes a marker (lib/batch.lua's set_mark); `charged(rid, modality, µcr)`,
-- when given, records the charge in the usage history (lib/usage-history.lua).
local function purge_reservations(st, zkey, hkey, now, tier, mark, charged)
  local expired = redis.call('ZRANGEBYSCORE', zkey, '-inf', now, 'LIMIT', 0, 500)
  if #expired == 0 then return end
  local amounts = redis.call('HMGET', hkey, unpack(expired))
  local total = 0
  for i = 1, #expired do
    local held, floor, m = parse_hold(amounts[i])
    total = total + held
    if floor > 0 then
      st.add('used', floor)
      st.add('b:' .. m, floor)
      st.add('n', 1)
      mark(expired[i], 'X' .. fmt(floor))
      if charged then charged(expired[i], m, floor) end
    end
  end
  redis.call('ZREM', zkey, unpack(expired))
  redis.call('HDEL', hkey, unpack(expired))
  local held = st.get('held') - total
  if held < 0 then held = 0 end
  st.set('held', held)
  if not tier.hard then
    local over = st.get('used') - limit_of(st, tier)
    local ova = st.get('ova')
    if over > ova then
      st.set('ovp', st.get('ovp') + over - ova)
      st.set('ova', over)
    end
  end
end

-- lib/alerts.lua: threshold alerts, recorded by the script whose debit crosses them, in the same
-- call (ledger/alert-rules.ts is the same rule for the memory ledger: keep them token for token).
-- Included after lib/base.lua and lib/batch.lua: it writes through later(), so an error while a
-- batch decides leaves nothing half-written.
--
-- The rules ride at the end of the tier table: "...|A50,80,100/5000000" (percents of the
-- period's limit, then remaining-credit levels in µcr); without it alerts are off and nothing
-- here reads or writes. An account's own lists (account hash field `alt`, same form, `*` for
-- the global list) replace the global ones list by list.
--
-- The caller's alert key, tg:{acct:ID}:alerts (HASH, the account's slot):
--   fired        "<period start ms>:<token>,..."  what the period has recorded; a new period
--                re-arms every threshold (an older period start reads as nothing fired)
--   e:<ps>:<tk>  an event waiting for the deliverer (ledger/alert-deliverer.ts), removed once
--                delivered: "type|thresholdType|threshold|used|limit|ps|pe|createdAt|at"
--   f:<tk>       the token's last firing, "createdAt|threshold|ps|pe", kept after delivery for the
--                fired list (ledger/alert-fired.ts); overwritten when it fires again, one per
--                token the rules name, read by nothing else
-- Tokens: p<percent>, r<µcr>, exhausted, overage, spend: once per account, period and token.
--
-- Cost: nothing past a comparison until `used` reaches the lowest level; then an HGET of
-- `fired` (and of the period start, on the fast path) per call.

local AL = { on = false, n = 0 }
-- A fired list whose period started less than this before the current one is the same period:
-- following a Stripe subscription moves the period's start by up to a day and keeps its
-- counters (set-period.lua), and its thresholds must not fire again. Real periods are longer.
local AL_SAME_PERIOD_MS = 86400000

local function al_list(s)
  local t = {}
  for v in string.gmatch(s or '', '%d+') do t[#t + 1] = tonumber(v) end
  return t
end

-- terms: the tier table argument; own: the account's `alt` field (or nil); key: its alert key.
local function alerts_init(terms, own, key, now)
  local p, r = string.match(terms, '|A([%d,]*)/([%d,]*)$')
  if not p then return end
  if own and own ~= '' then
    local op, orr = string.match(own, '^([^/]*)/([^/]*)$')
    if op and op ~= '*' then p = op end
    if orr and orr ~= '*' then r = orr end
  end
  AL = { on = true, n = 0, pct = al_list(p), rem = al_list(r), key = key, now = now }
end

-- The period's levels for this limit (alertLevels() in ledger/alert-rules.ts), and the lowest.
local function al_levels(limit, cap, hard)
  local L = {}
  if limit > 0 then
    for _, p in ipairs(AL.pct) do L[#L + 1] = { 'p' .. fmt(p), math.floor((p * limit + 99) / 100), 'credits.threshold_crossed', 'percent', p } end
    for _, r in ipairs(AL.rem) do L[#L + 1] = { 'r' .. fmt(r), math.max(limit - r, 1), 'credits.threshold_crossed', 'remainingCredits', r } end
    if hard then L[#L + 1] = { 'exhausted', limit, 'credits.exhausted', 'percent', 100 } end
  end
  if not hard then
    L[#L + 1] = { 'overage', limit + 1, 'overage.started', 'percent', 100 }
    if cap then L[#L + 1] = { 'spend', limit + cap, 'spend_limit.reached', 'spendLimit', cap } end
  end
  local min = nil
  for _, l in ipairs(L) do
    if not min or l[2] < min then min = l[2] end
  end
  return L, min
end

-- After a debit: records every level `used` has reached that the period has not recorded.
-- st: the script's state (get 'ps', 'pe'); limit: included + carryover; cap: spend limit or nil.
local function alert_check(st, used, limit, cap, hard)
  if not AL.on then return end
  if AL.limit ~= limit or AL.cap ~= cap or AL.hard ~= hard then
    AL.levels, AL.min = al_levels(limit, cap, hard)
    AL.limit, AL.cap, AL.hard = limit, cap, hard
  end
  if not AL.min or used < AL.min then return end
  local ps = st.get('ps')
  if AL.ps ~= ps then
    if AL.raw == nil then AL.raw = redis.call('HGET', AL.key, 'fired') or '' end
    AL.fired, AL.ps = {}, ps
    local fps, toks = string.match(AL.raw, '^(%d+):(.*)$')
    if fps and ps - tonumber(fps) >= 0 and ps - tonumber(fps) < AL_SAME_PERIOD_MS then
      for tk in string.gmatch(toks, '[^,]+') do AL.fired[tk] = true end
    end
  end
  local added = false
  for _, l in ipairs(AL.levels) do
    if used >= l[2] and not AL.fired[l[1]] then
      AL.fired[l[1]] = true
      added = true
      AL.n = AL.n + 1
      later('HSET', AL.key, 'e:' .. fmt(ps) .. ':' .. l[1], table.concat({ l[3], l[4], fmt(l[5]), fmt(used), fmt(limit),
        fmt(ps), fmt(st.get('pe')), fmt(AL.now), fmt(l[2]) }, '|'))
      -- Outlives the event (delivery removes it): what the fired list shows once delivered.
      later('HSET', AL.key, 'f:' .. l[1], table.concat({ fmt(AL.now), fmt(l[5]), fmt(ps), fmt(st.get('pe')) }, '|'))
    end
  end
  if added then
    local toks = {}
    for tk in pairs(AL.fired) do toks[#toks + 1] = tk end
    table.sort(toks)
    -- Merged into the same HSET as the events; the last `fired` of a batch wins.
    later('HSET', AL.key, 'fired', fmt(ps) .. ':' .. table.concat(toks, ','))
  end
end

-- The script's reply rows, with 1 at column `col` of the first row when this call recorded an
-- event: the caller adds the account to the deliverer's pending index (a key of no account's
-- slot, so not from here).
local function alerts_flag(rows, col)
  if AL.n > 0 and rows[1] then rows[1][col] = 1 end
  return rows
end

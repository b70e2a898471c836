-- lib/usage-history.lua: usage history buckets and receipts, written in the same call as the
-- charge (settle.lua's entries, lib/state.lua's expired-reservation floors), so for any range
-- the buckets sum to exactly what the ledger charged. Included after lib/base.lua and before
-- lib/batch.lua, whose write_pending() calls hist_flush(). Fields: ledger/usage-history.ts.
--
-- KEYS[9]  tg:{acct:ID}:u:h:YYYYMMDDHH  the hourly bucket of `now` (UTC)
-- KEYS[10] tg:{acct:ID}:u:d:YYYYMMDD    the daily bucket of `now` in the account's time zone
-- KEYS[11] tg:{acct:ID}:rc              receipts LIST, newest first, capped exactly (LTRIM): each
--          "TIME<tab>MICRO<tab>PAYLOAD"; the state hash's `rq` counts the receipts ever pushed, so
--          the item at index i is receipt number rq - i (scripts/receipts.lua reads a page)
-- The including script calls hist_config(arg) with "hourlyTtlMs:dailyTtlMs:receipts:maxGroups",
-- or "off" (config history.enabled false): nothing here writes.
--
-- Cost (issue 22: the history may add at most 20% to a settle's Redis time). A bucket holds
-- only per-(modality, model) counters, added to with HINCRBY; the totals and the per-modality
-- figures are their sums, made when read (parseBucket). A batch's charges are summed here
-- first, so a batch writes per bucket and (modality, model): one HEXISTS (is the pair new?)
-- and one HINCRBY per non-zero counter (µcr, requests, each unit); a new pair adds an HINCRBY
-- of `nm` and, for the bucket's first pair, its PEXPIRE. The batch's receipts go in one LPUSH
-- (with an HINCRBY of the state's `rq`, and an LTRIM once the list is full): an XADD per
-- receipt cost about 3 µs of Redis CPU per request under load. Numbers are formatted as
-- little as possible (string.format is ~0.3 µs a number): the time once a call, the µcr not at
-- all when it is the entry's own argument.

local hist_cfg, hist_off
local hist_groups, hist_glist, hist_nb = {}, {}, 0
local hist_receipts = {}

local function hist_config(arg)
  hist_cfg = arg
  hist_off = arg == 'off'
end

-- Adds one charge: `units` a list of { name, value } pairs (settle.lua's entry units).
local function hist_add(modality, model, micro, requests, byok, units)
  if hist_off then return end
  if model == nil or model == '' then model = 'unknown' end
  if byok then hist_nb = hist_nb + requests end
  local gk = modality .. '|' .. model
  local g = hist_groups[gk]
  if not g then
    -- u: unit name -> amount; un: the unit names in order of first use.
    g = { gk, modality, 0, 0, {}, {} }
    hist_groups[gk] = g
    hist_glist[#hist_glist + 1] = g
  end
  g[3] = g[3] + micro
  g[4] = g[4] + requests
  local u, un = g[5], g[6]
  for i = 1, #units do
    local name, v = units[i][1], units[i][2]
    if v and v ~= 0 then
      local have = u[name]
      if have == nil then
        un[#un + 1] = name
        u[name] = v
      else
        u[name] = have + v
      end
    end
  end
end

-- A receipt: `t` (ms), `c` (µcr charged, as a string) and its payload (the settle's JSON,
-- passed through unparsed, or "x<tab>requestId<tab>modality" for an expired reservation's
-- floor); written at the flush, in order.
local hist_t, hist_ts
local function hist_receipt(t, c, payload)
  if hist_off then return end
  if t ~= hist_t then
    hist_t = t
    hist_ts = fmt(t)
  end
  hist_receipts[#hist_receipts + 1] = hist_ts .. '\t' .. c .. '\t' .. payload
end

-- Adds the batch's groups to one bucket. A pair the bucket does not hold yet counts in `nm`;
-- past `maxg` pairs a new one folds into model `other` (which counts as a pair the first time
-- it appears). `n|MOD|MODEL` is the pair's marker: written even when adding 0 requests.
local function hist_write(key, ttl, maxg)
  for _, g in ipairs(hist_glist) do
    local mod, tail = g[2], g[1]
    if redis.call('HEXISTS', key, 'n|' .. tail) == 0 then
      local nm = redis.call('HINCRBY', key, 'nm', 1)
      if nm == 1 then redis.call('PEXPIRE', key, ttl) end
      if nm > maxg then
        tail = mod .. '|other'
        if redis.call('HEXISTS', key, 'n|' .. tail) == 1 then redis.call('HINCRBY', key, 'nm', -1) end
      end
    end
    if g[3] ~= 0 then redis.call('HINCRBY', key, 'c|' .. tail, g[3]) end
    redis.call('HINCRBY', key, 'n|' .. tail, g[4])
    local u, un = g[5], g[6]
    if #un > 0 then
      local mt = string.sub(tail, #mod + 2)
      for i = 1, #un do redis.call('HINCRBY', key, 'u|' .. mod .. '|' .. un[i] .. '|' .. mt, u[un[i]]) end
    end
  end
  if hist_nb > 0 then redis.call('HINCRBY', key, 'nb', hist_nb) end
end

-- Writes what the batch added; called by lib/batch.lua's write_pending().
local function hist_flush()
  if #hist_glist == 0 and #hist_receipts == 0 then return end
  local hourly, daily, cap, maxg = string.match(hist_cfg, '^(%d+):(%d+):(%d+):(%d+)$')
  if #hist_glist > 0 then
    maxg = tonumber(maxg)
    hist_write(KEYS[9], hourly, maxg)
    hist_write(KEYS[10], daily, maxg)
    hist_groups, hist_glist, hist_nb = {}, {}, 0
  end
  -- (receipts 0: the caller sends none; an expired floor's receipt is skipped here too)
  local k = #hist_receipts
  if cap ~= '0' and k > 0 then
    redis.call('HINCRBY', KEYS[2], 'rq', k)
    -- In order: LPUSH leaves the batch's last receipt at the head.
    if redis.call('LPUSH', KEYS[11], unpack(hist_receipts)) > tonumber(cap) then redis.call('LTRIM', KEYS[11], 0, cap - 1) end
  end
  hist_receipts = {}
end

-- lib/state.lua's purge callback: an expired reservation's floor, charged at `now`, goes to the
-- history (model unknown: a reservation does not record one) with a receipt of outcome `expired`.
local function hist_on_floor(now)
  return function(rid, modality, floor)
    hist_add(modality, 'unknown', floor, 1, false, {})
    hist_receipt(now, fmt(floor), 'x\t' .. rid .. '\t' .. modality)
  end
end

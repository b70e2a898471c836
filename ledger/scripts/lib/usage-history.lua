-- lib/usage-history.lua: usage history buckets and receipts, written in the same call as the
-- charge (settle.lua's entries, lib/state.lua's expired-reservation floors), so for any range
-- the buckets sum to exactly what the ledger charged. Included after lib/base.lua and before
-- lib/batch.lua, whose write_pending() calls hist_flush(). Fields: ledger/usage-history.ts.
--
-- KEYS[9]  tg:{acct:ID}:u:h:YYYYMMDDHH  the hourly bucket of `now` (UTC)
-- KEYS[10] tg:{acct:ID}:u:d:YYYYMMDD    the daily bucket of `now` in the account's time zone
-- KEYS[11] tg:{acct:ID}:ev              receipts STREAM (capped exactly: MAXLEN without ~)
-- The including script calls hist_config(arg) with "hourlyTtlMs:dailyTtlMs:receipts:maxGroups".
--
-- A batch's charges are summed here and written at its flush: per bucket one HMGET and one
-- HSET (two more only when a new model has to fold into `other`), plus PEXPIRE when the bucket
-- is new; one XADD per receipt.

local hist_cfg
local hist_tot, hist_mods, hist_mlist, hist_groups, hist_glist = nil, nil, nil, nil, nil
local hist_receipts = {}

local function hist_reset()
  hist_tot = { c = 0, n = 0, nb = 0 }
  hist_mods, hist_mlist, hist_groups, hist_glist = {}, {}, {}, {}
end
hist_reset()

local function hist_config(arg) hist_cfg = arg end

-- Adds one charge: `units` a list of { name, value } pairs (settle.lua's entry units).
local function hist_add(modality, model, micro, requests, byok, units)
  if model == nil or model == '' then model = 'unknown' end
  hist_tot.c = hist_tot.c + micro
  hist_tot.n = hist_tot.n + requests
  if byok then hist_tot.nb = hist_tot.nb + requests end
  local m = hist_mods[modality]
  if not m then
    m = { c = 0, n = 0 }
    hist_mods[modality] = m
    hist_mlist[#hist_mlist + 1] = modality
  end
  m.c = m.c + micro
  m.n = m.n + requests
  local gk = modality .. '|' .. model
  local g = hist_groups[gk]
  if not g then
    g = { mod = modality, model = model, c = 0, n = 0, u = {}, ulist = {} }
    hist_groups[gk] = g
    hist_glist[#hist_glist + 1] = g
  end
  g.c = g.c + micro
  g.n = g.n + requests
  for _, u in ipairs(units) do
    local v = u[2]
    if v and v ~= 0 then
      if g.u[u[1]] == nil then
        g.u[u[1]] = 0
        g.ulist[#g.ulist + 1] = u[1]
      end
      g.u[u[1]] = g.u[u[1]] + v
    end
  end
end

-- A receipt: its fields after the time; written at the flush, in order.
local function hist_receipt(fields)
  hist_receipts[#hist_receipts + 1] = fields
end

-- One bucket: the fields' new values from one HMGET; `fold[g]` names the groups sent to `other`.
local function hist_fields(fold)
  local fields, deltas, at = {}, {}, {}
  local function add(f, v)
    local i = at[f]
    if i then deltas[i] = deltas[i] + v
    else
      fields[#fields + 1] = f
      deltas[#fields] = v
      at[f] = #fields
    end
  end
  add('n', hist_tot.n)
  add('c', hist_tot.c)
  if hist_tot.nb > 0 then add('nb', hist_tot.nb) end
  for _, m in ipairs(hist_mlist) do
    add('c|' .. m, hist_mods[m].c)
    add('n|' .. m, hist_mods[m].n)
  end
  for _, g in ipairs(hist_glist) do
    local model = g.model
    if fold and fold[g] then model = 'other' end
    add('c|' .. g.mod .. '|' .. model, g.c)
    add('n|' .. g.mod .. '|' .. model, g.n)
    for _, name in ipairs(g.ulist) do add('u|' .. g.mod .. '|' .. name .. '|' .. model, g.u[name]) end
  end
  return fields, deltas
end

local function hist_write(key, ttl, maxg)
  local fields, deltas = hist_fields(nil)
  local names = { 'nm' }
  for i = 1, #fields do names[i + 1] = fields[i] end
  local vals = redis.call('HMGET', key, unpack(names))
  -- New (modality, model) pairs: counted in nm up to maxg; past it they fold into `other`.
  local nm, fold, folded = num(vals[1]), nil, false
  local nm0 = nm
  for _, g in ipairs(hist_glist) do
    local probe = 'n|' .. g.mod .. '|' .. g.model
    local exists = false
    for i = 1, #fields do
      if fields[i] == probe then exists = vals[i + 1] ~= false; break end
    end
    if not exists then
      if nm < maxg then nm = nm + 1
      else
        fold = fold or {}
        fold[g] = true
        folded = true
      end
    end
  end
  if folded then
    fields, deltas = hist_fields(fold)
    names = { 'nm' }
    for i = 1, #fields do names[i + 1] = fields[i] end
    vals = redis.call('HMGET', key, unpack(names))
    -- `other` of a modality counts as a pair the first time it appears.
    local seen = {}
    for g in pairs(fold) do
      local probe = 'n|' .. g.mod .. '|other'
      if not seen[probe] then
        seen[probe] = true
        for i = 1, #fields do
          if fields[i] == probe then
            if vals[i + 1] == false then nm = nm + 1 end
            break
          end
        end
      end
    end
  end
  local args = {}
  if nm ~= nm0 then
    args[1] = 'nm'
    args[2] = fmt(nm)
  end
  for i = 1, #fields do
    args[#args + 1] = fields[i]
    args[#args + 1] = fmt(num(vals[i + 1]) + deltas[i])
  end
  redis.call('HSET', key, unpack(args))
  -- fields[1] is 'n': absent before, the bucket is new and gets its lifetime.
  if vals[2] == false then redis.call('PEXPIRE', key, ttl) end
end

-- Writes what the batch added; called by lib/batch.lua's write_pending().
local function hist_flush()
  if #hist_glist == 0 and #hist_receipts == 0 then return end
  local hourly, daily, cap, maxg = string.match(hist_cfg, '^(%d+):(%d+):(%d+):(%d+)$')
  if #hist_glist > 0 then
    hist_write(KEYS[9], hourly, tonumber(maxg))
    hist_write(KEYS[10], daily, tonumber(maxg))
    hist_reset()
  end
  -- (receipts 0: the caller sends none; an expired floor's receipt is skipped here too)
  if cap ~= '0' then
    for i = 1, #hist_receipts do
      redis.call('XADD', KEYS[11], 'MAXLEN', cap, '*', unpack(hist_receipts[i]))
    end
  end
  hist_receipts = {}
end

-- lib/state.lua's purge callback: an expired reservation's floor, charged at `now`, goes to the
-- history (model unknown: a reservation does not record one) with a receipt of outcome `expired`.
local function hist_on_floor(now)
  return function(rid, modality, floor)
    hist_add(modality, 'unknown', floor, 1, false, {})
    hist_receipt({ 't', fmt(now), 'c', fmt(floor), 'r', rid, 'm', modality, 'o', 'expired' })
  end
end

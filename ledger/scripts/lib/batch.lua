-- lib/batch.lua: the driver of the request path's batch scripts (reserve.lua, settle.lua), which
-- take one account's entries of an event-loop turn. Included after lib/base.lua and
-- lib/usage-history.lua (the flush writes the batch's history with its other writes).

-- A function built on its first call only: the full path's helpers (lib/state.lua) are
-- instantiated when an entry needs them, not on every call (a script's function definitions
-- run each time it runs, and nearly every call never needs these).
local function lazy(make)
  local f
  return function(i)
    if not f then f = make() end
    return f(i)
  end
end

-- Runs entries 1..n in order. `read()` loads what the fast path decides on and says whether
-- it applies (the period is current, nothing has expired); `fast(i)` decides entry i on that
-- state, `flush()` writes what the fast path changed, and `full(i)` decides entry i the long
-- way (rollover, purge) for when the fast path does not apply. Only a first entry lands there
-- in practice: after its rollover and purge the fast path applies again, as time stands still
-- inside a script. Returns the entries' replies, in order.
local function run_batch(n, read, fast, flush, full)
  local out = {}
  local ok = read()
  for i = 1, n do
    if ok then
      out[i] = fast(i)
    else
      flush()
      out[i] = full(i)
      ok = read()
    end
  end
  flush()
  return out
end

-- The fields of `key` among `names` that exist go into `into` (name -> value); returns the
-- names not found.
local function hmget_into(key, names, into)
  local vals = redis.call('HMGET', key, unpack(names))
  local missing = {}
  for i = 1, #names do
    if vals[i] then into[names[i]] = vals[i] else missing[#missing + 1] = names[i] end
  end
  return missing
end

-- Idempotency markers live in one hash per account and window of W ms (KEYS[6] the window
-- `now` falls in, KEYS[7] the one before, KEYS[8] the one before that; field = request id,
-- value 'R' reserved or 'S' settled): a batch reads its entries' markers with one HMGET, or
-- two, and writes them with one HSET, where a key per request cost a GET and a SET each. A
-- marker is found for at least W and at most 2W after it is written.
--
-- A busy account's window holds a field per request (about 100 bytes each), and Redis frees an
-- expiring key in one go: a million fields block it for about half a second. So the batch
-- that writes window N first UNLINKs window N-2 (freed off the main thread), and the
-- expiry, at the end of window N+2, is only the backstop for an account that went quiet.
local marks, new_marks = {}, {}
local function load_marks(rids)
  local missing = hmget_into(KEYS[6], rids, marks)
  if #missing > 0 then hmget_into(KEYS[7], missing, marks) end
end

-- Writes wait for the batch's flush: a batch reads and decides every entry first and writes
-- last, so an error while deciding (Redis does not roll a script back) leaves nothing
-- half-written for a retry to trip on. `mark_of` answers from the markers decided but not
-- written yet (the same request id twice in one batch), else from what load_marks read.
-- `later(cmd, key, a[, b])` merges the writes of one command to one key (ZADD score member,
-- HSET field value, ZREM member, HDEL field) into one variadic call, in the order of first use.
local pending, by_target = {}, {}
local function later(cmd, key, a, b)
  local t = by_target[cmd]
  if not t then
    t = {}
    by_target[cmd] = t
  end
  local c = t[key]
  if not c then
    c = { cmd, key }
    t[key] = c
    pending[#pending + 1] = c
  end
  c[#c + 1] = a
  if b ~= nil then c[#c + 1] = b end
end
local function mark_of(rid)
  return marks[rid] or false
end
local function set_mark(rid, value)
  marks[rid] = value
  new_marks[#new_marks + 1] = rid
  new_marks[#new_marks + 1] = value
end
local function write_pending(now, window)
  if #new_marks > 0 then
    redis.call('UNLINK', KEYS[8])
    redis.call('HSET', KEYS[6], unpack(new_marks))
    -- Relative to `now` (tollgate's clock, which named the window), not Redis's clock.
    redis.call('PEXPIRE', KEYS[6], fmt((math.floor(now / window) + 3) * window - now))
    new_marks = {}
  end
  for i = 1, #pending do redis.call(unpack(pending[i])) end
  pending, by_target = {}, {}
  hist_flush()
end

-- The full path's end: the entries' writes, then the state hash (lib/state.lua's st).
local function save_all(st, now, window)
  write_pending(now, window)
  st.save()
end

-- The same reply for each of n entries (e.g. an unknown account).
local function each(n, row)
  local out = {}
  for i = 1, n do out[i] = row end
  return out
end

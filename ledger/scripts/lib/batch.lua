-- lib/batch.lua: the driver of the request path's batch scripts (reserve.lua, settle.lua), which
-- take one account's entries of an event-loop turn. Included after lib/base.lua.

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

-- Writes to the entries' own keys (idempotency markers, holds) wait for the batch's flush: a
-- batch reads and decides every entry first and writes last, so an error while deciding
-- (Redis does not roll a script back) leaves nothing half-written for a retry to trip on.
-- `mark_of` answers from the markers decided but not written yet (the same request id twice
-- in one batch), else from Redis.
local pending, marks = {}, {}
local function later(...)
  pending[#pending + 1] = { ... }
end
local function mark_of(key)
  local m = marks[key]
  if m ~= nil then return m end
  return redis.call('GET', key)
end
local function set_mark(key, value, ttl_ms)
  marks[key] = value
  later('SET', key, value, 'PX', fmt(ttl_ms))
end
local function write_pending()
  for i = 1, #pending do redis.call(unpack(pending[i])) end
  pending = {}
end

-- The full path's end: the entries' writes, then the state hash (lib/state.lua's st).
local function save_all(st)
  write_pending()
  st.save()
end

-- The same reply for each of n entries (e.g. an unknown account).
local function each(n, row)
  local out = {}
  for i = 1, n do out[i] = row end
  return out
end

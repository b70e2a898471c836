-- lib/base.lua: the few helpers the request path's fast paths need, included first by every
-- script. Kept apart from lib/state.lua so a fast path that returns early never instantiates
-- the period helpers: a script's top-level function definitions run on every call.
--
-- Numbers: Redis runs Lua 5.1, where every number is a double. µcr and ms stay below 2^53,
-- so they are exact; they are written back with fmt() (never tostring, which would print
-- 1e+15).

local MICRO = 1000000

local function fmt(n)
  return string.format('%.0f', n)
end

local function num(v)
  if v == nil or v == false or v == '' then return 0 end
  return tonumber(v) or 0
end

-- One tier's params from the table, without parsing the rest (the request path's fast
-- paths); the free tier when `id` is not in it.
local function find_tier(s, id)
  local p = string.find(';' .. s, ';' .. id .. ':', 1, true)
  if p then
    local inc, hard, carry = string.match(s, '^(%d+):([01]):(%d+)', p + #id + 1)
    if inc then return { id = id, inc = tonumber(inc), hard = hard == '1', carry = tonumber(carry) } end
  end
  if id ~= 'free' then return find_tier(s, 'free') end
  return { id = 'free', inc = 0, hard = true, carry = 0 }
end

-- A reservation's record in tg:{acct:ID}:resv:amt: "held" (older ones) or "held,floor,modality":
-- the µcr held, and the µcr charged to the modality when it expires unsettled (lib/state.lua).
local function parse_hold(v)
  if v == nil or v == false then return 0, 0, nil end
  local held, floor, m = string.match(v, '^(%d+),(%d+),(%a+)$')
  if held then return tonumber(held), tonumber(floor), m end
  return num(v), 0, nil
end

local function hold_value(amount, floor, modality)
  if floor > 0 then return fmt(amount) .. ',' .. fmt(floor) .. ',' .. modality end
  return fmt(amount)
end

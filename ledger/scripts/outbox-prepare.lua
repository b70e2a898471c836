-- outbox-prepare.lua: the account's overage batch for Stripe: the one already in the outbox,
-- else a new one moved atomically out of pending overage (whole credits only).
--
-- KEYS[1] tg:{acct:ID}:acct  KEYS[2] tg:{acct:ID}:state  KEYS[3] tg:{acct:ID}:hist
-- KEYS[4] tg:{acct:ID}:outbox  the batch in flight (HASH id, value, ts, cus, ps)
-- ARGV[1] now (ms)  ARGV[2] tier table  ARGV[3] Stripe customer id ('': the account's own, if any)
-- ARGV[4] oldest timestamp Stripe accepts (ms)  ARGV[5] account id
--
-- Reply:
--   { 'batch', identifier, value, timestampSeconds, customer, periodStartMs }
--   { 'needs_customer' }  whole credits pending, no customer given or stored (nothing moved)
--   { 'none', remainderMicro }
--   { 'unknown' }         no such account
--
-- Closed periods go first, stamped one second before their end if Stripe still accepts
-- that, else now; their sub-credit remainder joins the current period's pending overage,
-- so rounding loses nothing. A batch left from a failed or crashed flush is returned
-- unchanged (same identifier: Stripe deduplicates), except that a timestamp Stripe no
-- longer accepts is moved to now (by then the idempotency key, 24 h, has expired too).

--@include lib/base.lua
--@include lib/state.lua

if redis.call('EXISTS', KEYS[1]) == 0 then return { 'unknown' } end
local now, customer, min_stamp, account = tonumber(ARGV[1]), ARGV[3], tonumber(ARGV[4]), ARGV[5]

local b = redis.call('HMGET', KEYS[4], 'id', 'value', 'ts', 'cus', 'ps')
if b[1] then
  local ts = tonumber(b[3])
  if ts * 1000 < min_stamp then
    ts = math.floor(now / 1000)
    redis.call('HSET', KEYS[4], 'ts', fmt(ts))
  end
  return { 'batch', b[1], b[2], fmt(ts), b[4], b[5] }
end

local tier = account_tier(KEYS[1], parse_tiers(ARGV[2]))
local st = load_state(KEYS[2])
init_state(st, now)
rollover(st, now, tier, KEYS[3])

local ovc, ovp = st.get('ovc'), st.get('ovp')
if ovc + ovp < MICRO then
  st.save()
  return { 'none', fmt(ovp + ovc) }
end
if customer == '' then customer = redis.call('HGET', KEYS[1], 'cus') or '' end
if customer == '' then
  st.save()
  return { 'needs_customer' }
end

local value, stamp, period_start = 0, now, st.get('ps')
if ovc > 0 then
  local whole = math.floor(ovc / MICRO)
  ovp = ovp + (ovc - whole * MICRO)
  st.set('ovc', 0)
  if whole > 0 then
    value = whole
    if st.get('ovct') >= min_stamp then stamp = st.get('ovct') end
    period_start = st.get('ovcs')
  end
end
if value == 0 then
  value = math.floor(ovp / MICRO)
  ovp = ovp - value * MICRO
  stamp = now
  period_start = st.get('ps')
end
st.set('ovp', ovp)
local seq = st.get('obs') + 1
st.set('obs', seq)
local id = 'tg_' .. account .. '_' .. fmt(math.floor(period_start / 1000)) .. '_' .. fmt(seq)
local ts = math.floor(stamp / 1000)
redis.call('HSET', KEYS[4], 'id', id, 'value', fmt(value), 'ts', fmt(ts), 'cus', customer,
  'ps', fmt(period_start), 'createdAt', fmt(now))
st.save()
return { 'batch', id, fmt(value), fmt(ts), customer, fmt(period_start) }

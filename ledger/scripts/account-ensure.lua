-- account-ensure.lua: create the account if missing; an existing one is left unchanged.
--
-- KEYS[1] tg:{acct:ID}:acct  KEYS[2] tg:{acct:ID}:state
-- ARGV[1] id  ARGV[2] tier  ARGV[3] Stripe customer id ('' for none)  ARGV[4] now (ms)
--
-- Reply: the account hash as a flat field/value list.

--@include lib/base.lua
--@include lib/state.lua

if redis.call('EXISTS', KEYS[1]) == 0 then
  local now = tonumber(ARGV[4])
  redis.call('HSET', KEYS[1], 'id', ARGV[1], 'tier', ARGV[2], 'status', 'active', 'createdAt', ARGV[4])
  if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'cus', ARGV[3]) end
  local st = load_state(KEYS[2])
  init_state(st, now)
  st.save()
end
return redis.call('HGETALL', KEYS[1])

-- settle.lua: record a finished request's actual cost and release its reservation. One round trip.
--
-- KEYS[1] tg:{acct:ID}:acct      account hash (tier)
-- KEYS[2] tg:{acct:ID}:state     period state hash
-- KEYS[3] tg:{acct:ID}:resv      reservations ZSET
-- KEYS[4] tg:{acct:ID}:resv:amt  reservation amounts HASH
-- KEYS[5] tg:{acct:ID}:req:RID   idempotency marker
-- KEYS[6] tg:{acct:ID}:hist      closed periods LIST
-- ARGV[1] now (ms)  ARGV[2] requestId  ARGV[3] modality (tts|stt|llm|rag)  ARGV[4] byok (0|1)
-- ARGV[5] actual µcr  ARGV[6] idempotency ttl (ms)  ARGV[7] tier table
-- ARGV[8..] BYOK units as name, value pairs (chars, audioMs, inputTokens, ...)
--
-- Reply: { applied, mark }
--   applied 1, or 0 when the request was already settled (nothing applied twice);
--   applied -1: unknown account. mark 1: a whole credit of overage is now pending and the
--   account was not marked yet (state field mk): the caller adds it to tg:overage:pending,
--   a key of no account's slot. Once per episode, so requests stay at one round trip each;
--   outbox-clean.lua clears mk when the flusher has taken everything whole.
--
-- A settle without a reservation still applies (BYOK requests are not reserved). It may
-- take used past the limit (the estimate was low): that is what was spent.

--@include lib/base.lua

local now, rid, modality = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local byok, amount, idem_ttl = ARGV[4] == '1', tonumber(ARGV[5]), tonumber(ARGV[6])

-- Fast path (nearly every call): the period is current. Reads the fields it changes, writes
-- them in one HSET. Expired reservations are left for the next reserve or usage read to purge
-- (they change only `held`, which a settle does not decide on). Otherwise nothing is written
-- here and the full path below runs.
do
  local a = redis.call('HMGET', KEYS[1], 'id', 'tier')
  if not a[1] and not a[2] then return { -1, 0 } end
  local bfield = 'b:' .. modality
  local s = redis.call('HMGET', KEYS[2], 'pe', 'used', 'held', 'cs', 'n', 'bn', bfield, 'ova', 'ovp', 'ovc', 'mk')
  if s[1] and now < tonumber(s[1]) then
    if redis.call('GET', KEYS[5]) == 'S' then return { 0, 0 } end
    local out = { 'n', fmt(num(s[5]) + 1) }
    local held_for_it = redis.call('HGET', KEYS[4], rid)
    if held_for_it then
      redis.call('ZREM', KEYS[3], rid)
      redis.call('HDEL', KEYS[4], rid)
      local held = num(s[3]) - num(held_for_it)
      if held < 0 then held = 0 end
      out[#out + 1] = 'held'
      out[#out + 1] = fmt(held)
    end
    redis.call('SET', KEYS[5], 'S', 'PX', fmt(idem_ttl))
    local accrued = 0
    if byok then
      out[#out + 1] = 'bn'
      out[#out + 1] = fmt(num(s[6]) + 1)
      for i = 8, #ARGV, 2 do
        local v = tonumber(ARGV[i + 1])
        if v and v ~= 0 then
          local f = 'bu:' .. modality .. ':' .. ARGV[i]
          out[#out + 1] = f
          out[#out + 1] = fmt(num(redis.call('HGET', KEYS[2], f)) + v)
        end
      end
    else
      local used = num(s[2]) + amount
      out[#out + 1] = 'used'
      out[#out + 1] = fmt(used)
      out[#out + 1] = bfield
      out[#out + 1] = fmt(num(s[7]) + amount)
      local tier = find_tier(ARGV[7], a[2] or 'free')
      -- Paid tiers: overage accrues as the high-water mark of used - limit.
      if not tier.hard then
        local over = used - (tier.inc + num(s[4]))
        local ova = num(s[8])
        if over > ova then
          local ovp = num(s[9]) + over - ova
          out[#out + 1] = 'ovp'
          out[#out + 1] = fmt(ovp)
          out[#out + 1] = 'ova'
          out[#out + 1] = fmt(over)
          if num(s[11]) ~= 1 and ovp + num(s[10]) >= MICRO then
            out[#out + 1] = 'mk'
            out[#out + 1] = '1'
            accrued = 1
          end
        end
      end
    end
    redis.call('HSET', KEYS[2], unpack(out))
    return { 1, accrued }
  end
end

--@include lib/state.lua

local tier = account_tier(KEYS[1], parse_tiers(ARGV[7]))

local st = load_state(KEYS[2])
init_state(st, now)
rollover(st, now, tier, KEYS[6])
purge_reservations(st, KEYS[3], KEYS[4], now)

if redis.call('GET', KEYS[5]) == 'S' then
  st.save()
  return { 0, 0 }
end
local held_for_it = redis.call('HGET', KEYS[4], rid)
if held_for_it then
  redis.call('ZREM', KEYS[3], rid)
  redis.call('HDEL', KEYS[4], rid)
  local held = st.get('held') - num(held_for_it)
  if held < 0 then held = 0 end
  st.set('held', held)
end
redis.call('SET', KEYS[5], 'S', 'PX', fmt(idem_ttl))

st.add('n', 1)
local accrued = 0
if byok then
  st.add('bn', 1)
  for i = 8, #ARGV, 2 do
    local v = tonumber(ARGV[i + 1])
    if v and v ~= 0 then st.add('bu:' .. modality .. ':' .. ARGV[i], v) end
  end
else
  st.add('used', amount)
  st.add('b:' .. modality, amount)
  -- Paid tiers: overage accrues as the high-water mark of used - limit.
  if not tier.hard then
    local over = st.get('used') - limit_of(st, tier)
    local ova = st.get('ova')
    if over > ova then
      st.add('ovp', over - ova)
      st.set('ova', over)
      if st.get('mk') ~= 1 and st.get('ovp') + st.get('ovc') >= MICRO then
        st.set('mk', 1)
        accrued = 1
      end
    end
  end
end
st.save()
return { 1, accrued }

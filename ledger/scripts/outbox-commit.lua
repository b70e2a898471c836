-- outbox-commit.lua: the sink accepted the batch; remove it from the outbox.
--
-- KEYS[1] tg:{acct:ID}:state  KEYS[2] tg:{acct:ID}:outbox
-- ARGV[1] the batch identifier that was delivered
--
-- Reply: 1 removed; 0 the outbox holds another batch or none (a replica whose lease had
-- expired committed it already): nothing is counted twice.

local id = redis.call('HGET', KEYS[2], 'id')
if id ~= ARGV[1] then return 0 end
local value = tonumber(redis.call('HGET', KEYS[2], 'value'))
redis.call('DEL', KEYS[2])
redis.call('HINCRBY', KEYS[1], 'ovr', string.format('%.0f', value * 1000000))
return 1

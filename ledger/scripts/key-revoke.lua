-- key-revoke.lua: mark an API key revoked and tell every process, atomically.
--
-- KEYS[1] tg:key:HASH  the key's hash (accountId, createdAt, label, revokedAt)
-- ARGV[1] now (ms)  ARGV[2] the revocation channel ('': the caller publishes, by sharded
-- pub/sub, which a script may not do to a channel of another slot)  ARGV[3] the key hash (the message)
--
-- Reply: 1 revoked now; 0 unknown or already revoked.

if redis.call('HEXISTS', KEYS[1], 'accountId') == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'revokedAt', ARGV[1]) == 0 then return 0 end
if ARGV[2] ~= '' then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return 1

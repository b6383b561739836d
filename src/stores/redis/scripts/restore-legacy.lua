-- restore-legacy: puts back a legacy session that take-legacy took and sessionkit could not adopt, with the TTL
-- it had, unless the key was written again meanwhile.
--
-- KEYS[1]  the legacy session key
--
-- ARGV[1]  deadline (lib.lua)
-- ARGV[2]  the value take-legacy returned
-- ARGV[3]  its TTL in ms
--
-- Returns 1 when restored, 0 when the key exists again.
local now, stale = begin()
if not now then return stale end
local set = redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3], 'NX')
return set and 1 or 0

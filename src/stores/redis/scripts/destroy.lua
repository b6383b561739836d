-- destroy: deletes a session and its entry in its user's index (sign-out).
--
-- KEYS[1]  session hash   <prefix>{<tag>}:s:<hash>
-- Also touches, in the same slot, the user index ARGV[2] .. <the session's _u field>.
--
-- ARGV[1]  deadline (lib.lua)
-- ARGV[2]  user index key prefix <prefix>{<tag>}:u:
-- ARGV[3]  session hash
--
-- Returns 1 when the session existed, else 0.
local now, stale = begin()
if not now then return stale end
local user = redis.pcall('HGET', KEYS[1], '_u')
if type(user) == 'string' then
  heal_index(ARGV[2] .. user)
  redis.call('ZREM', ARGV[2] .. user, ARGV[3])
  fit_index_ttl(ARGV[2] .. user)
end
return redis.call('DEL', KEYS[1])

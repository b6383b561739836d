-- create: writes a new session; for a signed-in one also indexes it under its user, prunes the index and
-- evicts the user's least recently active sessions beyond the cap, all in one atomic step.
--
-- KEYS[1]  session hash   <prefix>{<tag>}:s:<hash>
-- KEYS[2]  user index     <prefix>{<tag>}:u:<user>   (absent for an anonymous session)
-- Also touches, in the same slot, evicted sessions <prefix>{<tag>}:s:<hash>.
--
-- ARGV[1]  session key prefix <prefix>{<tag>}:s:
-- ARGV[2]  session hash
-- ARGV[3]  idle timeout, ms
-- ARGV[4]  absolute timeout, ms
-- ARGV[5]  max sessions per user
-- ARGV[6]  creation time to keep, '' = now
-- ARGV[7]  signed-in time to keep, '' = now (signed-in sessions only)
-- ARGV[8]  absolute deadline to keep, '' = now + absolute timeout
-- ARGV[9]  encoded user id ('' when anonymous)
-- ARGV[10..] field, value pairs
--
-- Returns {now, absolute deadline, evicted, created (1, or 0 when the kept deadline has already passed)}.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.error_reply('ERR sessionkit: session id collision')
end
local now = now_ms()
local created_at = ARGV[6] ~= '' and tonumber(ARGV[6]) or now
local deadline = ARGV[8] ~= '' and tonumber(ARGV[8]) or now + tonumber(ARGV[4])
if deadline <= now then return {now, deadline, 0, 0} end
local expires = math.min(now + tonumber(ARGV[3]), deadline)

hset_pairs(KEYS[1], ARGV, 10)
redis.call('HSET', KEYS[1], '_c', created_at, '_ls', now, '_ab', deadline)
local evicted = 0
if KEYS[2] then
  heal_index(KEYS[2])
  local signed_in = ARGV[7] ~= '' and tonumber(ARGV[7]) or now
  redis.call('HSET', KEYS[1], '_u', ARGV[9], '_si', signed_in)
  redis.call('ZADD', KEYS[2], expires, ARGV[2])
  local cap = tonumber(ARGV[5])
  if redis.call('ZCARD', KEYS[2]) > cap then
    local _
    _, evicted = enforce_index(KEYS[2], ARGV[1], ARGV[9], cap, now, ARGV[2], false)
  else
    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  end
  extend_ttl(KEYS[2], expires)
end
redis.call('PEXPIREAT', KEYS[1], expires)
return {now, deadline, evicted, 1}

-- create: writes a new session; for a signed-in one also indexes it under its user, prunes the index and
-- evicts the user's least recently active sessions beyond the cap, all in one atomic step. A delta held for this
-- session by a forwarded save (save.lua) is applied on top.
--
-- KEYS[1]  session hash   <prefix>{<tag>}:s:<hash>
-- KEYS[2]  held delta     <prefix>{<tag>}:h:<hash>
-- KEYS[3]  user index     <prefix>{<tag>}:u:<user>   (absent for an anonymous session)
-- KEYS[4]  user addresses <prefix>{<tag>}:i:<user>   (only with uniqueIpsPerUser; a ZSET, see admit_ip in lib.lua)
-- Also touches, in the same slot, evicted sessions <prefix>{<tag>}:s:<hash>.
--
-- ARGV[1]  deadline (lib.lua)
-- ARGV[2]  session key prefix <prefix>{<tag>}:s:
-- ARGV[3]  session hash
-- ARGV[4]  idle timeout, ms
-- ARGV[5]  absolute timeout, ms
-- ARGV[6]  max sessions per user
-- ARGV[7]  creation time to keep, '' = now
-- ARGV[8]  signed-in time to keep, '' = now (signed-in sessions only)
-- ARGV[9]  absolute deadline to keep, '' = now + absolute timeout
-- ARGV[10] encoded user id ('' when anonymous)
-- ARGV[11] client address ('' when unknown)
-- ARGV[12] '1': report whether another live session of the user (impersonated ones aside) was last seen from it
-- ARGV[13] uniqueIpsPerUser max (with KEYS[4])
-- ARGV[14] uniqueIpsPerUser window, ms (with KEYS[4])
-- ARGV[15..] field, value pairs
--
-- Returns {now, absolute deadline, evicted, created (1, or 0 when nothing was written), known address (1/0),
-- 'too_many_ips' when refused by uniqueIpsPerUser}.
-- Whether another live session of `user` (impersonated ones aside) was last seen from `ip` (GitLab's KnownSignIn).
local function known_ip(index, session_prefix, user, ip, now)
  for _, hash in ipairs(redis.call('ZRANGEBYSCORE', index, '(' .. now, '+inf')) do
    local v = redis.pcall('HMGET', session_prefix .. hash, '_u', '_ip', '_im')
    if type(v) == 'table' and not v.err and v[1] == user and v[2] == ip and not v[3] then return 1 end
  end
  return 0
end

local now, stale = begin()
if not now then return stale end
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.error_reply('ERR sessionkit: session id collision')
end
local created_at = ARGV[7] ~= '' and tonumber(ARGV[7]) or now
local deadline = ARGV[9] ~= '' and tonumber(ARGV[9]) or now + tonumber(ARGV[5])
if deadline <= now then return {now, deadline, 0, 0, 0} end
local expires = math.min(now + tonumber(ARGV[4]), deadline)
local known = 0
if KEYS[3] and ARGV[11] ~= '' then
  heal_index(KEYS[3])
  if ARGV[12] == '1' then known = known_ip(KEYS[3], ARGV[2], ARGV[10], ARGV[11], now) end
  if KEYS[4] and not admit_ip(KEYS[4], ARGV[11], tonumber(ARGV[13]), tonumber(ARGV[14]), now) then
    return {now, deadline, 0, 0, known, 'too_many_ips'}
  end
end

hset_pairs(KEYS[1], ARGV, 15)
apply_held(KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], '_c', created_at, '_ls', now, '_ab', deadline)
local evicted = 0
if KEYS[3] then
  heal_index(KEYS[3])
  local signed_in = ARGV[8] ~= '' and tonumber(ARGV[8]) or now
  redis.call('HSET', KEYS[1], '_u', ARGV[10], '_si', signed_in)
  redis.call('ZADD', KEYS[3], expires, ARGV[3])
  local cap = tonumber(ARGV[6])
  if redis.call('ZCARD', KEYS[3]) > cap then
    local _
    _, evicted = enforce_index(KEYS[3], ARGV[2], ARGV[10], cap, now, ARGV[3], false)
  else
    redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  end
  extend_ttl(KEYS[3], expires)
end
redis.call('PEXPIREAT', KEYS[1], expires)
return {now, deadline, evicted, 1, known}

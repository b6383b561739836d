-- save: applies one request's changes to a session, only if it still exists and still belongs to the same owner.
-- A save that started before a sign-out or revocation therefore writes nothing and can never resurrect the
-- session (the bug of express-session#632 and @fastify/session's CVE-2026-117499). A save that started before a
-- rotation or sign-in of its session is carried to the new session instead of being lost: claim.lua leaves a
-- forwarding note naming it, and the caller saves again there ("forwarded").
--
-- KEYS[1]  session hash        <prefix>{<tag>}:s:<hash>
-- KEYS[2]  forwarding note     <prefix>{<tag>}:r:<hash>   (string, written by claim.lua)
-- KEYS[3]  held delta          <prefix>{<tag>}:h:<hash>   (hash, merged by create.lua)
--
-- ARGV[1]  deadline (lib.lua)
-- ARGV[2]  expected owner: encoded user id, '' for an anonymous session
-- ARGV[3]  '1' when this save was forwarded from a rotated session: if the new session is not created yet, the
--          delta is held for create.lua instead of being dropped
-- ARGV[4]  n, the number of fields to set
-- ARGV[5 .. 4+2n]  field, value pairs to set
-- ARGV[5+2n ..]    fields to delete
--
-- Returns 1 when applied, 2 when held for creation, 0 when the session is gone (nothing written), or
-- {'moved', '<tag>.<hash>', owner} when it was rotated: save again there. HSET/HDEL keep the key's TTL.
local now, stale = begin()
if not now then return stale end
local n = tonumber(ARGV[4])
local last_set = 4 + 2 * n
local current = redis.pcall('HMGET', KEYS[1], '_ls', '_u')
if current.err then return 0 end
if current[1] then
  if (current[2] or '') ~= ARGV[2] then return 0 end
  for i = 5, last_set, 200 do
    redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 199, last_set)))
  end
  for i = last_set + 1, #ARGV, 200 do
    redis.call('HDEL', KEYS[1], unpack(ARGV, i, math.min(i + 199, #ARGV)))
  end
  return 1
end
local note = redis.call('GET', KEYS[2])
if note then
  local successor, owner = string.match(note, '^([^\n]*)\n(.*)$')
  return {'moved', successor, owner}
end
if ARGV[3] ~= '1' then return 0 end
for i = 5, last_set, 200 do
  redis.call('HSET', KEYS[3], unpack(ARGV, i, math.min(i + 199, last_set)))
end
for i = last_set + 1, #ARGV do redis.call('HSET', KEYS[3], ARGV[i], '') end
redis.call('PEXPIRE', KEYS[3], FORWARD_MS)
return 2

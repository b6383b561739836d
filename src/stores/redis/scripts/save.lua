-- save: applies one request's changes to a session, only if it still exists and still belongs to the same user.
-- A save that started before a sign-out, revocation or rotation therefore writes nothing and can never
-- resurrect the session (the bug of express-session#632 and @fastify/session's CVE-2026-117499).
--
-- KEYS[1]  session hash   <prefix>{<tag>}:s:<hash>
--
-- ARGV[1]  expected encoded user id, '' for an anonymous session
-- ARGV[2]  n, the number of fields to set
-- ARGV[3 .. 2+2n]  field, value pairs to set
-- ARGV[3+2n ..]    fields to delete
--
-- Returns 1 when applied, 0 when nothing was written. HSET/HDEL keep the key's TTL.
local current = redis.call('HMGET', KEYS[1], '_ls', '_u')
if not current[1] then return 0 end
if (current[2] or '') ~= ARGV[1] then return 0 end
local n = tonumber(ARGV[2])
local last_set = 2 + 2 * n
for i = 3, last_set, 200 do
  redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 199, last_set)))
end
for i = last_set + 1, #ARGV, 200 do
  redis.call('HDEL', KEYS[1], unpack(ARGV, i, math.min(i + 199, #ARGV)))
end
return 1

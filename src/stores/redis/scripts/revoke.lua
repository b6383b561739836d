-- revoke: deletes sessions of one user, and only of that user: a session whose _u is someone else's is never
-- touched, whatever id was asked for.
--
-- KEYS[1]  user index     <prefix>{<tag>}:u:<user>
-- Also touches, in the same slot, the revoked sessions <prefix>{<tag>}:s:<hash>.
--
-- ARGV[1]  deadline (lib.lua)
-- ARGV[2]  session key prefix <prefix>{<tag>}:s:
-- ARGV[3]  encoded user id
-- ARGV[4]  'ids' (revoke ARGV[7..]) or 'all' (everything in the index)
-- ARGV[5]  hash to spare ('' = none): the caller's current session
-- ARGV[6]  '1' to spare impersonated sessions (as GitLab's destroy_all_but_current does)
-- ARGV[7..] session hashes (mode 'ids')
--
-- Returns the number of sessions deleted.
local now, stale = begin()
if not now then return stale end
heal_index(KEYS[1])
local hashes
if ARGV[4] == 'ids' then
  hashes = {}
  for i = 7, #ARGV do hashes[#hashes + 1] = ARGV[i] end
else
  hashes = redis.call('ZRANGE', KEYS[1], 0, -1)
end
local revoked = 0
for _, hash in ipairs(hashes) do
  if hash ~= ARGV[5] then
    local key = ARGV[2] .. hash
    local v = redis.pcall('HMGET', key, '_u', '_im')
    if v.err then v = {} end
    if v[1] == ARGV[3] then
      if not (ARGV[6] == '1' and v[2]) then
        redis.call('DEL', key)
        redis.call('ZREM', KEYS[1], hash)
        revoked = revoked + 1
      end
    elseif not v[1] then
      redis.call('ZREM', KEYS[1], hash)
    end
  end
end
fit_index_ttl(KEYS[1])
return revoked

-- list: a user's live sessions with the metadata needed to show them, pruning stale index entries on the way.
--
-- KEYS[1]  user index     <prefix>{<tag>}:u:<user>
-- Also reads, in the same slot, each indexed session <prefix>{<tag>}:s:<hash>.
--
-- ARGV[1]  session key prefix <prefix>{<tag>}:s:
-- ARGV[2]  encoded user id
--
-- Returns {now, hash1, expires1, _c, _si, _ab, _ls, _ip, _dv, _im, _rm, hash2, ...}; missing fields are nil.
heal_index(KEYS[1])
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local reply = {now}
for i = 1, #entries, 2 do
  local hash = entries[i]
  local v = redis.call('HMGET', ARGV[1] .. hash, '_u', '_c', '_si', '_ab', '_ls', '_ip', '_dv', '_im', '_rm')
  if v[1] == ARGV[2] then
    reply[#reply + 1] = hash
    reply[#reply + 1] = entries[i + 1]
    for j = 2, 9 do reply[#reply + 1] = v[j] or '' end
  else
    redis.call('ZREM', KEYS[1], hash)
  end
end
return reply

-- list: a user's live sessions with the metadata needed to show them, pruning stale index entries on the way.
--
-- KEYS[1]  user index     <prefix>{<tag>}:u:<user>
-- Also reads, in the same slot, each indexed session <prefix>{<tag>}:s:<hash>.
--
-- ARGV[1]  session key prefix <prefix>{<tag>}:s:
-- ARGV[2]  encoded user id
-- ARGV[3]  the owner field ('_u'), then ARGV[4..] the other metadata fields to return (LISTED_FIELDS in
--          core/stored-fields.ts: the layout is written once, there)
--
-- Returns {hash1, expires1, value of ARGV[3], value of ARGV[4], ..., hash2, ...}; a missing field is ''.
heal_index(KEYS[1])
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
local reply = {}
for i = 1, #entries, 2 do
  local hash = entries[i]
  local key = ARGV[1] .. hash
  local v = redis.pcall('HMGET', key, unpack(fields))
  if type(v) == 'table' and not v.err and v[1] == ARGV[2] then
    reply[#reply + 1] = hash
    reply[#reply + 1] = entries[i + 1]
    for j = 1, #fields do reply[#reply + 1] = v[j] or '' end
  else
    redis.call('ZREM', KEYS[1], hash)
  end
end
fit_index_ttl(KEYS[1])
return reply

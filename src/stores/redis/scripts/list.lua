-- list: a user's live sessions with the metadata needed to show them, pruning stale index entries on the way.
--
-- KEYS[1]  user index     <prefix>{<tag>}:u:<user>
-- Also reads, in the same slot, each indexed session <prefix>{<tag>}:s:<hash>.
--
-- ARGV[1]  deadline (lib.lua)
-- ARGV[2]  session key prefix <prefix>{<tag>}:s:
-- ARGV[3]  encoded user id
-- ARGV[4]  the owner field ('_u'), then ARGV[5..] the other metadata fields to return (LISTED_FIELDS in
--          core/stored-fields.ts: the layout is written once, there)
--
-- Returns {hash1, expires1, value of ARGV[4], value of ARGV[5], ..., hash2, ...}; a missing field is ''.
local now, stale = begin()
if not now then return stale end
heal_index(KEYS[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
local reply = {}
for i = 1, #entries, 2 do
  local hash = entries[i]
  local key = ARGV[2] .. hash
  local v = redis.pcall('HMGET', key, unpack(fields))
  if type(v) == 'table' and not v.err and v[1] == ARGV[3] then
    reply[#reply + 1] = hash
    reply[#reply + 1] = entries[i + 1]
    for j = 1, #fields do reply[#reply + 1] = v[j] or '' end
  else
    redis.call('ZREM', KEYS[1], hash)
  end
end
fit_index_ttl(KEYS[1])
return reply

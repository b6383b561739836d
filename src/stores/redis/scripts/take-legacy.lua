-- take-legacy: returns a legacy session (connect-redis keeps a JSON string under <prefix><sid>) and deletes its
-- key in one step, so two requests racing on one legacy cookie cannot both get it. Only a JSON object is taken;
-- anything else is left where it is.
--
-- KEYS[1]  the legacy session key
--
-- ARGV[1]  deadline (lib.lua)
--
-- Returns {value, pttl} (the key is deleted), nil when there is no such key, 0 when it holds anything else.
local now, stale = begin()
if not now then return stale end
local value = redis.pcall('GET', KEYS[1])
if not value then return nil end
if type(value) ~= 'string' then return 0 end
if not string.find(value, '^%s*{') then return 0 end
local ok, decoded = pcall(cjson.decode, value)
if not ok or type(decoded) ~= 'table' then return 0 end
local pttl = redis.call('PTTL', KEYS[1])
redis.call('DEL', KEYS[1])
return {value, pttl}

//! The Lua scripts that make every multi-key step atomic in Redis. Each runs as one command,
//! so a worker killed between two scripts leaves Redis in a state another worker can carry on
//! from; each is safe to run twice (a reply lost to a dropped connection is retried).
//!
//! Key names are built inside the scripts from a prefix argument, so they assume a single
//! Redis server (not Redis Cluster, where keys must be declared per slot). Time comes from
//! the server (`TIME`), so deadlines do not depend on the workers' clocks agreeing.
//!
//! Values: a queue item is `url \n entry-json`; an in-flight value is
//! `owner \n host \n item`; a band entry is `hash(32) ‖ record(16) ‖ simhash(8)`, and a
//! band (a field of the `bands` hash) is its entry count (4 bytes) ‖ its first 64 entries; a
//! URL's last version is `hash(32) ‖ record(16)`.

use std::sync::LazyLock;

use redis::Script;

/// Picks the current cluster run, starting a new one when there is none, the current one is
/// finished, or `fresh` asks to abandon it. ARGV: global prefix, fresh (0/1). Returns N.
pub static JOIN: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local g, fresh = ARGV[1], tonumber(ARGV[2])
local n = tonumber(redis.call('GET', g .. 'run') or '0')
if n > 0 and fresh == 1 and redis.call('EXISTS', g .. 'r' .. n .. ':finished') == 0 then
  redis.call('SET', g .. 'r' .. n .. ':finished', 'abandoned')
end
if n == 0 or redis.call('EXISTS', g .. 'r' .. n .. ':finished') == 1 then
  n = n + 1
  redis.call('SET', g .. 'run', n)
end
return n
"#,
    )
});

/// Lua for scripts that act on many members at once: one command per chunk of 1,000
/// arguments (an even number, so pairs stay whole) rather than one per member, and well below
/// Lua's limit on the arguments of one call.
const MANY_LUA: &str = r#"
local function many(cmd, key, args)
  local out = {}
  for i = 1, #args, 1000 do
    local got = redis.call(cmd, key, unpack(args, i, math.min(i + 999, #args)))
    if type(got) == 'table' then
      for _, v in ipairs(got) do out[#out + 1] = v end
    end
  end
  return out
end
"#;

/// Queues entries not seen before in the run, records URLs' last versions, then marks URLs
/// this worker had in flight done: links and versions before the page that offered them, in
/// one step, so a crash never loses them. Each step is a few commands for the whole batch
/// (seen check, seen add, a push per host; versions; owner check, removal), not a few per URL.
/// A version is `hash ‖ record` from a claim the worker answered itself; Redis's record for
/// the hash wins, and a hash Redis lost (a restart without its data) gets the worker's back.
/// ARGV: run prefix, dedup prefix, me, n, n × (url, host, item), m, m × (url, version),
/// done urls… Returns how many entries were new.
pub static PUSH_DONE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{MANY_LUA}{}",
        r#"
local p, d, me = ARGV[1], ARGV[2], ARGV[3]
local n = tonumber(ARGV[4])
local fresh = 0
if n > 0 then
  local urls = {}
  for j = 0, n - 1 do
    urls[#urls + 1] = ARGV[5 + 3 * j]
  end
  local known = many('SMISMEMBER', p .. 'seen', urls)
  local batch, add, items, hosts = {}, {}, {}, {}
  for j = 1, n do
    local url = urls[j]
    if known[j] == 0 and not batch[url] then
      batch[url] = true
      add[#add + 1] = url
      local host, item = ARGV[6 + 3 * (j - 1)], ARGV[7 + 3 * (j - 1)]
      if not items[host] then
        items[host] = {}
        hosts[#hosts + 1] = host
      end
      local list = items[host]
      list[#list + 1] = item
    end
  end
  if #add > 0 then
    many('SADD', p .. 'seen', add)
    for _, host in ipairs(hosts) do
      many('RPUSH', p .. 'q:' .. host, items[host])
    end
    many('SADD', p .. 'hosts', hosts)
    fresh = #add
  end
end
local i = 5 + 3 * n
local m = tonumber(ARGV[i])
i = i + 1
if m > 0 then
  local hashes = {}
  for j = 0, m - 1 do
    hashes[#hashes + 1] = string.sub(ARGV[i + 1 + 2 * j], 1, 32)
  end
  local records = many('HMGET', d .. 'hash', hashes)
  local versions, lost = {}, {}
  for j = 1, m do
    local url, last = ARGV[i + 2 * (j - 1)], ARGV[i + 1 + 2 * (j - 1)]
    if records[j] then
      last = hashes[j] .. records[j]
    else
      lost[#lost + 1] = hashes[j]
      lost[#lost + 1] = string.sub(last, 33)
    end
    versions[#versions + 1] = url
    versions[#versions + 1] = last
  end
  many('HSET', d .. 'url', versions)
  if #lost > 0 then
    many('HSET', d .. 'hash', lost)
  end
  i = i + 2 * m
end
local urls = {}
for j = i, #ARGV do
  urls[#urls + 1] = ARGV[j]
end
if #urls > 0 then
  local owners = many('HMGET', p .. 'inflight:e', urls)
  local mine = {}
  for j = 1, #urls do
    local v = owners[j]
    if v and string.sub(v, 1, #me + 1) == me .. '\n' then
      mine[#mine + 1] = urls[j]
    end
  end
  if #mine > 0 then
    many('HDEL', p .. 'inflight:e', mine)
    many('ZREM', p .. 'inflight:d', mine)
    redis.call('HINCRBY', p .. 'w:' .. me, 'done', #mine)
  end
end
return fresh
"#
    ))
});

/// Takes up to k items from a host's queue into flight, if this worker holds the host's
/// lease: one `LPOP` of k items, one `HSET` and one `ZADD` for all of them.
/// ARGV: run prefix, me, host, k, deadline ms. Returns {items left, item…}.
pub static POP: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local p, me, host = ARGV[1], ARGV[2], ARGV[3]
local k, dl = tonumber(ARGV[4]), tonumber(ARGV[5])
if redis.call('GET', p .. 'lease:' .. host) ~= me then
  return {0}
end
local q = p .. 'q:' .. host
local out = {0}
local items = redis.call('LPOP', q, k)
if items then
  local t = redis.call('TIME')
  local due = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + dl
  local entries, deadlines = {}, {}
  for _, item in ipairs(items) do
    local nl = string.find(item, '\n', 1, true)
    local url = string.sub(item, 1, nl - 1)
    entries[#entries + 1] = url
    entries[#entries + 1] = me .. '\n' .. host .. '\n' .. item
    deadlines[#deadlines + 1] = due
    deadlines[#deadlines + 1] = url
    out[#out + 1] = item
  end
  redis.call('HSET', p .. 'inflight:e', unpack(entries))
  redis.call('ZADD', p .. 'inflight:d', unpack(deadlines))
end
local left = redis.call('LLEN', q)
if left == 0 then
  redis.call('SREM', p .. 'hosts', host)
end
out[1] = left
return out
"#,
    )
});

/// Puts entries this worker has in flight back into their host's queue (at the front when
/// `front` is 1: they were taken first). Entries no longer this worker's (their deadline
/// passed and another worker has them) are left alone. ARGV: run prefix, me, front,
/// (url, host, item)… Returns how many went back.
pub static REQUEUE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local p, me, front = ARGV[1], ARGV[2], ARGV[3] == '1'
local moved = 0
for i = 4, #ARGV, 3 do
  local url, host, item = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local v = redis.call('HGET', p .. 'inflight:e', url)
  if v and string.sub(v, 1, #me + 1) == me .. '\n' then
    redis.call('HDEL', p .. 'inflight:e', url)
    redis.call('ZREM', p .. 'inflight:d', url)
    redis.call('SADD', p .. 'seen', url)
    if front then
      redis.call('LPUSH', p .. 'q:' .. host, item)
    else
      redis.call('RPUSH', p .. 'q:' .. host, item)
    end
    redis.call('SADD', p .. 'hosts', host)
    moved = moved + 1
  end
end
return moved
"#,
    )
});

/// The heartbeat, run every tick by each worker:
/// 1. puts back `requeue` items (a drained host's prefetched entries) and releases `release`
///    hosts, if still this worker's;
/// 2. pushes the deadline of every URL this worker has in flight out to now + deadline;
/// 3. marks the worker alive until now + lease, with how many URLs it has in flight;
/// 4. returns every in-flight URL whose deadline passed (its worker vanished) to the front
///    of its host's queue;
/// 5. renews the leases on `keep` hosts (or retakes them if they lapsed and are free);
/// 6. takes free hosts with queued work while it holds fewer than its fair share (hosts
///    with work ÷ live workers, rounded up); a worker over its share (others joined since)
///    drains hosts until it is not.
///
/// ARGV: run prefix, me, lease ms, deadline ms, URLs in flight, n_requeue, n_requeue ×
/// (url, host, item), n_release, hosts…, n_renew, urls…, keep hosts…
/// Returns {share, alive, hosts with work, in flight, finished, reaped, {host, queued,
/// sample item}…} for the hosts now held.
pub static TICK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local p, me = ARGV[1], ARGV[2]
local lease, dl, taken = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function owned(url)
  local v = redis.call('HGET', p .. 'inflight:e', url)
  return v and string.sub(v, 1, #me + 1) == me .. '\n'
end
local i = 6
local nq = tonumber(ARGV[i]); i = i + 1
for _ = 1, nq do
  local url, host, item = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  i = i + 3
  if owned(url) then
    redis.call('HDEL', p .. 'inflight:e', url)
    redis.call('ZREM', p .. 'inflight:d', url)
    redis.call('LPUSH', p .. 'q:' .. host, item)
    redis.call('SADD', p .. 'hosts', host)
  end
end
local nr = tonumber(ARGV[i]); i = i + 1
for _ = 1, nr do
  local host = ARGV[i]; i = i + 1
  if redis.call('GET', p .. 'lease:' .. host) == me then
    redis.call('DEL', p .. 'lease:' .. host)
  end
end
local nn = tonumber(ARGV[i]); i = i + 1
for _ = 1, nn do
  local url = ARGV[i]; i = i + 1
  if owned(url) then
    redis.call('ZADD', p .. 'inflight:d', now + dl, url)
  end
end
redis.call('ZADD', p .. 'workers', now + lease, me)
redis.call('HSET', p .. 'w:' .. me, 'seen', now, 'inflight', taken)
redis.call('HSETNX', p .. 'w:' .. me, 'started', now)
local reaped = 0
local expired = redis.call('ZRANGEBYSCORE', p .. 'inflight:d', '-inf', now, 'LIMIT', 0, 512)
for _, url in ipairs(expired) do
  local v = redis.call('HGET', p .. 'inflight:e', url)
  if v then
    local a = string.find(v, '\n', 1, true)
    local b = string.find(v, '\n', a + 1, true)
    local host = string.sub(v, a + 1, b - 1)
    redis.call('LPUSH', p .. 'q:' .. host, string.sub(v, b + 1))
    redis.call('SADD', p .. 'hosts', host)
    redis.call('HDEL', p .. 'inflight:e', url)
    reaped = reaped + 1
  end
  redis.call('ZREM', p .. 'inflight:d', url)
end
if reaped > 0 then
  redis.call('INCRBY', p .. 'reaped', reaped)
end
local mine, held = {}, {}
for j = i, #ARGV do
  local host = ARGV[j]
  local key = p .. 'lease:' .. host
  local owner = redis.call('GET', key)
  if owner == me then
    redis.call('PEXPIRE', key, lease)
    mine[host] = true
    held[#held + 1] = host
  elseif not owner then
    if redis.call('SET', key, me, 'NX', 'PX', lease) then
      mine[host] = true
      held[#held + 1] = host
    end
  end
end
local alive = redis.call('ZCOUNT', p .. 'workers', now, '+inf')
if alive < 1 then alive = 1 end
local work = redis.call('SMEMBERS', p .. 'hosts')
local share = math.ceil(#work / alive)
local busy = 0
for _, host in ipairs(work) do
  if mine[host] then busy = busy + 1 end
end
for _, host in ipairs(work) do
  if busy >= share then break end
  if not mine[host] and redis.call('SET', p .. 'lease:' .. host, me, 'NX', 'PX', lease) then
    mine[host] = true
    held[#held + 1] = host
    busy = busy + 1
  end
end
local out = {share, alive, #work, redis.call('ZCARD', p .. 'inflight:d'),
  redis.call('EXISTS', p .. 'finished'), reaped}
for _, host in ipairs(held) do
  local q = p .. 'q:' .. host
  out[#out + 1] = {host, redis.call('LLEN', q), redis.call('LINDEX', q, 0) or ''}
end
return out
"#,
    )
});

/// Lua shared by [`CLAIM`] and [`COMMIT`]: the band index is one hash (`bands`: band key →
/// count ‖ entries), so a claim reads every band of a text with one `HMGET` and adds to them
/// with one `HSET` (as lists it was a command per band, 36 per text, twice). A band value is
/// its entry count (4 bytes, big-endian) and its first [`BAND_CAP`] entries: the count is
/// what `COMMIT` compares, and no claim ever read past the first 64 entries of a band.
const BANDS_LUA: &str = r#"
local function band_count(v)
  if not v then return 0 end
  return (struct.unpack('>I4', v))
end
local function append_bands(d, keys, vals, entry)
  local args = {}
  for i, k in ipairs(keys) do
    local v = vals[i]
    local n = band_count(v)
    local blob = ''
    if v then blob = string.sub(v, 5) end
    if n < BAND_CAP then blob = blob .. entry end
    args[#args + 1] = k
    args[#args + 1] = struct.pack('>I4', n + 1) .. blob
  end
  if #args > 0 then
    redis.call('HSET', d .. 'bands', unpack(args))
  end
end
"#;

/// Entries kept per band: a claim looks at the first 64 texts of each band (the oldest).
pub const BAND_CAP: usize = 64;

/// A script over the band index: [`BANDS_LUA`] and its cap, then `body`.
fn with_bands(body: &str) -> Script {
    Script::new(&format!("local BAND_CAP = {BAND_CAP}\n{BANDS_LUA}{body}"))
}

/// Claims a content hash for a record, atomically: the record already holding the hash, or
/// (when nothing in the band index or the URL's history could make it join another record) a
/// new record under the given id. Otherwise returns what the caller needs to decide: the
/// URL's last version, each band's count, the bands' entries and the candidates' prints.
/// ARGV: dedup prefix, hash, url, new id, join revisions (0/1), simhash (8 bytes or ''),
/// print (or ''), band keys…
/// Returns {'known', id} | {'new', id} | {'check', prev or '', {count…}, {entries…},
/// {hash, print, …}}, where each `entries` element is one band's entries end to end.
pub static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    with_bands(
        r#"
local d, hash, url, id, revisions = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5] == '1'
local simhash, print = ARGV[6], ARGV[7]
local known = redis.call('HGET', d .. 'hash', hash)
if known then
  redis.call('HSET', d .. 'url', url, hash .. known)
  return {'known', known}
end
local prev = redis.call('HGET', d .. 'url', url)
local keys = {}
for i = 8, #ARGV do
  keys[#keys + 1] = ARGV[i]
end
local vals = {}
if #keys > 0 then
  vals = redis.call('HMGET', d .. 'bands', unpack(keys))
end
local lens, blobs, hashes, seen = {}, {}, {}, {}
local any = false
for i = 1, #keys do
  local v = vals[i]
  local n = band_count(v)
  lens[i] = n
  if n > 0 then
    any = true
    local blob = string.sub(v, 5)
    blobs[#blobs + 1] = blob
    for off = 1, #blob, 56 do
      local h = string.sub(blob, off, off + 31)
      if not seen[h] then
        seen[h] = true
        hashes[#hashes + 1] = h
      end
    end
  end
end
local revision = prev and revisions and string.sub(prev, 1, 32) ~= hash
if not any and not revision then
  redis.call('HSET', d .. 'hash', hash, id)
  redis.call('HSET', d .. 'url', url, hash .. id)
  if print ~= '' then
    redis.call('HSET', d .. 'print', hash, print)
    append_bands(d, keys, vals, hash .. id .. simhash)
  end
  return {'new', id}
end
local prints = {}
if #hashes > 0 then
  local got = redis.call('HMGET', d .. 'print', unpack(hashes))
  for j, h in ipairs(hashes) do
    prints[#prints + 1] = h
    prints[#prints + 1] = got[j] or ''
  end
end
return {'check', prev or '', lens, blobs, prints}
"#,
    )
});

/// Commits a decision taken on `CLAIM`'s answer, unless the answer went stale: the hash was
/// claimed meanwhile (then that record wins) or a band grew (then decide again).
/// ARGV: dedup prefix, hash, url, id, simhash (8 bytes or ''), print (or ''), n,
/// n × (band key, count seen)… Returns {'known', id} | {'stale'} | {'ok', id}.
pub static COMMIT: LazyLock<Script> = LazyLock::new(|| {
    with_bands(
        r#"
local d, hash, url, id, simhash, print = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local n = tonumber(ARGV[7])
local known = redis.call('HGET', d .. 'hash', hash)
if known then
  redis.call('HSET', d .. 'url', url, hash .. known)
  return {'known', known}
end
local keys, lens = {}, {}
for i = 0, n - 1 do
  keys[#keys + 1] = ARGV[8 + 2 * i]
  lens[#lens + 1] = tonumber(ARGV[9 + 2 * i])
end
local vals = {}
if n > 0 then
  vals = redis.call('HMGET', d .. 'bands', unpack(keys))
end
for i = 1, n do
  if band_count(vals[i]) ~= lens[i] then
    return {'stale'}
  end
end
redis.call('HSET', d .. 'hash', hash, id)
redis.call('HSET', d .. 'url', url, hash .. id)
if print ~= '' then
  redis.call('HSET', d .. 'print', hash, print)
  append_bands(d, keys, vals, hash .. id .. simhash)
end
return {'ok', id}
"#,
    )
});

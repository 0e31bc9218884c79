-- bench/auth/login.lua - wrk script: POST /api/v1/auth/login with the JSON
-- body in BENCH_LOGIN_BODY; counts every answer that is not 200 (by status)
-- and prints one machine-readable line at the end:
--   BENCH total N ok N non200 N good_rps R mean_ms M p50_ms X p99_ms Y codes S,S,...
-- (codes: the first 20 non-200 statuses of each thread)
wrk.method = "POST"
wrk.body = os.getenv("BENCH_LOGIN_BODY")
wrk.headers["Content-Type"] = "application/json"

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   ok = 0
   bad = 0
   codes = ""
end

function response(status, headers, body)
   if status == 200 then
      ok = ok + 1
   else
      bad = bad + 1
      if bad <= 20 then codes = codes .. status .. "," end
   end
end

function done(summary, latency, requests)
   local good, nonok, seen = 0, 0, ""
   for _, t in ipairs(threads) do
      good = good + t:get("ok")
      nonok = nonok + t:get("bad")
      seen = seen .. t:get("codes")
   end
   local secs = summary.duration / 1e6
   io.write(string.format("BENCH total %d ok %d non200 %d good_rps %.2f mean_ms %.1f p50_ms %.1f p99_ms %.1f codes %s\n",
      summary.requests, good, nonok, good / secs, latency.mean / 1000,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      seen == "" and "-" or seen))
end

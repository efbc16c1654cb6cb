-- wrk script for bench/reads.sh: GET pages of 100 objects with added_after values spread over the
-- collection. Arguments after "--": FILE (one real date_added a line), PATH (the objects URL path),
-- TOKEN. Requests are built once per thread; each request picks a value at random.
--   wrk -t2 -c32 -d10s --latency -s bench/reads.lua URL -- FILE PATH TOKEN

local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("id", counter)
end

local reqs = {}

function init(args)
    local file, path, token = args[1], args[2], args[3]
    local headers = {
        ["Accept"] = "application/taxii+json;version=2.1",
        ["Authorization"] = "Bearer " .. token,
    }
    for line in io.lines(file) do
        if #line > 0 then
            reqs[#reqs + 1] = wrk.format("GET", path .. "?limit=100&added_after=" .. line, headers)
        end
    end
    math.randomseed(os.time() * 131 + (id or 0))
end

function request()
    return reqs[math.random(#reqs)]
end

-- wrk script for GET /healthz: the floor of the HTTP stack (routing,
-- middleware, a small JSON answer), measured beside predict.lua against the
-- same server by bench-serve.sh.
dofile("app/bench/summary.lua")

-- protocol.lua — libmilter protocol edge cases against a running tonegate,
-- driven by miltertest: abort mid-message, many messages on one
-- connection, huge headers, a body in many small chunks. The socket comes
-- from the environment (TONEGATE_SOCKET), set by protocol.sh.
local sock = os.getenv("TONEGATE_SOCKET")

local function check(cond, what)
	if not cond then error(what) end
end

-- One message on conn; returns the reply to end of message.
local function message(conn, id, body, extra_header)
	mt.macro(conn, SMFIC_MAIL, "i", id)
	check(mt.mailfrom(conn, "<agent@acme.example>") == nil, "mailfrom failed")
	check(mt.getreply(conn) == SMFIR_CONTINUE, "mailfrom: unexpected reply")
	check(mt.rcptto(conn, "<maria@example.net>") == nil, "rcptto failed")
	check(mt.getreply(conn) == SMFIR_CONTINUE, "rcptto: unexpected reply")
	check(mt.header(conn, "From", "Agent <agent@acme.example>") == nil, "header failed")
	check(mt.header(conn, "To", "Maria Lopez <maria@example.net>") == nil, "header failed")
	check(mt.header(conn, "Subject", "Re: help") == nil, "header failed")
	if extra_header then
		check(mt.header(conn, "X-Big", extra_header) == nil, "big header failed")
	end
	check(mt.eoh(conn) == nil, "eoh failed")
	if type(body) == "table" then
		for _, chunk in ipairs(body) do
			check(mt.bodystring(conn, chunk) == nil, "body chunk failed")
		end
	else
		check(mt.bodystring(conn, body) == nil, "body failed")
	end
	check(mt.eom(conn) == nil, "eom failed")
	return mt.getreply(conn)
end

local curt = "Nope. Can't work that out this time.\r\n"
local kind = "Hi Maria,\r\n\r\nI'm sorry about the delay; your refund went out today. " ..
	"Let me know if it doesn't arrive.\r\n\r\nBest,\r\nRaj\r\n"

local conn = mt.connect(sock, 20, 0.25)
check(conn ~= nil, "cannot connect to " .. tostring(sock))

-- 1. abort in the middle of a message, then a whole one on the same connection
mt.macro(conn, SMFIC_MAIL, "i", "ABORT1")
check(mt.mailfrom(conn, "<agent@acme.example>") == nil, "mailfrom failed")
check(mt.rcptto(conn, "<maria@example.net>") == nil, "rcptto failed")
check(mt.header(conn, "Subject", "half a message") == nil, "header failed")
check(mt.abort(conn) == nil, "abort failed")
check(message(conn, "AFTER1", curt) == SMFIR_CONTINUE, "after abort: no verdict")
check(mt.eom_check(conn, MT_QUARANTINE), "after abort: the curt reply was not quarantined")
print("ok: abort mid-message, then the next message is judged")

-- 2. many messages on one connection, each judged on its own
for i = 1, 50 do
	local body = (i % 2 == 0) and curt or kind
	check(message(conn, "MANY" .. i, body) == SMFIR_CONTINUE, "message " .. i .. ": unexpected reply")
	if i % 2 == 0 then
		check(mt.eom_check(conn, MT_QUARANTINE), "message " .. i .. " not quarantined")
	else
		check(not mt.eom_check(conn, MT_QUARANTINE), "message " .. i .. " quarantined")
		check(mt.eom_check(conn, MT_HDRADD, "X-Tonegate", "pass score=0"), "message " .. i .. ": no pass header")
	end
end
print("ok: 50 messages on one connection")

-- 3. a 1 KB header (miltertest itself breaks past ~2 KB; the Postfix test
-- sends a 60 KB one) and 500 headers
check(message(conn, "BIGHDR", kind, string.rep("x", 1000)) == SMFIR_CONTINUE, "long header: no verdict")
check(mt.eom_check(conn, MT_HDRADD, "X-Tonegate", "pass score=0"), "long header: not judged")
mt.macro(conn, SMFIC_MAIL, "i", "MANYHDR")
check(mt.mailfrom(conn, "<agent@acme.example>") == nil, "mailfrom failed")
check(mt.rcptto(conn, "<maria@example.net>") == nil, "rcptto failed")
for i = 1, 500 do
	check(mt.header(conn, "X-Trace-" .. i, string.rep("y", 100)) == nil, "header " .. i .. " failed")
end
check(mt.eoh(conn) == nil, "eoh failed")
check(mt.bodystring(conn, curt) == nil, "body failed")
check(mt.eom(conn) == nil, "eom failed")
check(mt.getreply(conn) == SMFIR_CONTINUE, "500 headers: no verdict")
check(mt.eom_check(conn, MT_QUARANTINE), "500 headers: curt reply not quarantined")
print("ok: a 1 KB header and 500 headers")

-- 4. the curt reply in 1-byte chunks, and a kind one in 4,000 chunks
local chunks = {}
for c in curt:gmatch(".") do chunks[#chunks + 1] = c end
check(message(conn, "CHUNKS1", chunks) == SMFIR_CONTINUE, "1-byte chunks: no verdict")
check(mt.eom_check(conn, MT_QUARANTINE), "1-byte chunks: curt reply not quarantined")
chunks = {}
for i = 1, 4000 do chunks[i] = (i == 1) and kind or "More detail on the refund follows here. " end
check(message(conn, "CHUNKS2", chunks) == SMFIR_CONTINUE, "4,000 chunks: no verdict")
check(not mt.eom_check(conn, MT_QUARANTINE), "4,000 chunks: kind reply quarantined")
print("ok: bodies in many chunks")

mt.disconnect(conn)
print("protocol: all checks passed")

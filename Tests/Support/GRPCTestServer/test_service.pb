
Ë
test_service.protopaytrack.test"‰
EchoRequest
message (	Rmessage
count (Rcount
delay_ms (RdelayMs
size (Rsize
	fail_code (RfailCode"ˆ
EchoResponse
message (	Rmessage
index (Rindex
payload (Rpayload
peer (	Rpeer
metadata (	Rmetadata"
StatsRequest"K
StatsResponse
	cancelled (R	cancelled
	deadlines (R	deadlines2©
TestServiceD
	UnaryEcho.paytrack.test.EchoRequest.paytrack.test.EchoResponseG

StreamEcho.paytrack.test.EchoRequest.paytrack.test.EchoResponse0G

SlowStream.paytrack.test.EchoRequest.paytrack.test.EchoResponse0B
Stats.paytrack.test.StatsRequest.paytrack.test.StatsResponsebproto3